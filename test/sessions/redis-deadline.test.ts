import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/jts/clock';
import { StoreError } from '../../src/redis/store-error';
import { RedisClock, redisClockFor, type RedisTime } from '../../src/redis/clock';
import { createRedisClient } from '../../src/redis/connect';
import { decodeGeneration, redisKeys } from '../../src/sessions/redis-keys';
import { RedisSessionStore } from '../../src/sessions/redis-store';
import type { NewSession, RotateRequest } from '../../src/sessions/types';
import { testRedisUrl } from '../support/test-app';

const BY_USER = { reason: 'revoked', initiator: 'user' } as const;

/**
 * Issue 15: a session script that starts after the caller gave up (its command timed out: 503)
 * writes nothing; a rotation that did run counts its grace window from when it ran.
 */
const HOUR = 3_600_000;
const GRACE_MS = 10_000;

/** Redis's clock as a caller whose command left `lagMs` ago would have seen it (0: exact). */
function lagging(clock: RedisTime, lagMs: number): RedisTime & { rechecks: number } {
  return {
    rechecks: 0,
    now: () => clock.now() - lagMs,
    recheck() {
      this.rechecks++;
    },
  };
}

/** A client of the test Redis, a fresh key prefix, a frozen app clock and Redis's exact clock. */
async function openStore() {
  const redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
  await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
  const exact = new RedisClock(redis);
  await exact.sync();
  return { redis, keys: redisKeys(`t${randomBytes(4).toString('hex')}:`), clock: new ManualClock(Date.now()), exact };
}

/** What the describe blocks hold before their first beforeEach has run. */
const unopened = {} as Awaited<ReturnType<typeof openStore>>;

describe('session scripts past their deadline', () => {
  let { redis, keys, clock, exact } = unopened;
  const id = () => randomBytes(12).toString('base64url');
  beforeEach(async () => {
    ({ redis, keys, clock, exact } = await openStore());
  });
  afterEach(() => redis.quit());

  const newSession = (prn = id()): NewSession => ({ prn, aid: id(), createdAt: clock.now(), device: 'curl', ipPrefix: '127.0.0.x', deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0 });
  const createOptions = () => ({ policy: { kind: 'allow_all' } as const, lifetimeMs: HOUR, now: clock.now() });
  const rotation = (session: NewSession, presented: number, extra: Partial<RotateRequest> = {}): RotateRequest => ({
    prn: session.prn,
    aid: session.aid,
    presented,
    sealedBearerPass: `sealed-${presented}`,
    now: clock.now(),
    graceMs: GRACE_MS,
    tombstoneMs: 60_000,
    replayRevoke: 'session',
    ...extra,
  });
  /** A store whose commands look sent `lagMs` ago: with a 2 s timeout (1 s budget), 5 s is late. */
  const storeLagging = (lagMs: number, commandTimeoutMs = 2000) => {
    const redisTime = lagging(exact, lagMs);
    return { store: new RedisSessionStore(redis, keys, { commandTimeoutMs, redisTime }), redisTime };
  };
  const expectUnavailable = async (promise: Promise<unknown>) => {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'service_unavailable', status: 503, retryAfter: 2 });
  };

  it('a late rotation writes nothing, answers 503 as a timeout does, and asks the clock to measure again', async () => {
    const onTime = new RedisSessionStore(redis, keys, { commandTimeoutMs: 2000, redisTime: exact });
    const session = newSession();
    await onTime.create(session, createOptions());
    const { store, redisTime } = storeLagging(5000);

    await expectUnavailable(store.rotate(rotation(session, 1)));
    expect(redisTime.rechecks).toBe(1);
    expect(decodeGeneration(await redis.hget(keys.session(session.prn, session.aid), 'g'))).toBe(1);
    expect(await redis.exists(keys.grace(session.prn, session.aid))).toBe(0);
    // Not even a replay is recorded late: generation 0 would be one, on time.
    await expectUnavailable(store.rotate(rotation(session, 0)));
    await expect(onTime.state(session.prn, session.aid)).resolves.toMatchObject({ state: 'active', generation: 1 });
    // The same request on time rotates: nothing of the late one is in the way.
    await expect(onTime.rotate(rotation(session, 1))).resolves.toEqual({ outcome: 'rotated', generation: 2 });
  });

  it('a clock estimate behind by its own uncertainty (a loose first measurement) makes no script late', async () => {
    const session = newSession();
    // 1.5 s behind with a 1 s budget would be late; the estimate says it may be up to 1.5 s behind.
    const loose = { ...lagging(exact, 1500), uncertaintyMs: 1500 };
    const store = new RedisSessionStore(redis, keys, { commandTimeoutMs: 2000, redisTime: loose });
    await store.create(session, createOptions());
    await expect(store.rotate(rotation(session, 1))).resolves.toEqual({ outcome: 'rotated', generation: 2 });
    expect(loose.rechecks).toBe(0);
  });

  it('a late login creates no session and evicts none', async () => {
    const onTime = new RedisSessionStore(redis, keys, { commandTimeoutMs: 2000, redisTime: exact });
    const first = newSession();
    await onTime.create(first, { ...createOptions(), policy: { kind: 'single' } });
    const second = newSession(first.prn);
    await expectUnavailable(storeLagging(5000).store.create(second, { ...createOptions(), policy: { kind: 'single' } }));
    expect(await redis.exists(keys.session(second.prn, second.aid))).toBe(0);
    expect(await redis.zrange(keys.sessionIndex(first.prn), 0, -1)).toEqual([first.aid]);
    await expect(onTime.state(first.prn, first.aid)).resolves.toMatchObject({ state: 'active' });
  });

  it('a late logout or revocation ends nothing', async () => {
    const onTime = new RedisSessionStore(redis, keys, { commandTimeoutMs: 2000, redisTime: exact });
    const a = newSession();
    const b = newSession(a.prn);
    await onTime.create(a, createOptions());
    await onTime.create(b, createOptions());
    const { store } = storeLagging(5000);
    await expectUnavailable(store.revoke(a.prn, a.aid, BY_USER));
    await expectUnavailable(store.revokeAll(a.prn, BY_USER, a.aid));
    expect((await onTime.list(a.prn)).map((r) => r.aid).sort()).toEqual([a.aid, b.aid].sort());
    // On time, both work as before.
    await expect(onTime.revokeAll(a.prn, BY_USER, a.aid)).resolves.toEqual([b.aid]);
    await expect(onTime.revoke(a.prn, a.aid, BY_USER)).resolves.toBe(true);
  });

  it('the budget is half the command timeout: a command 400 ms old is late with a 600 ms timeout, on time with 1400 ms', async () => {
    const session = newSession();
    await new RedisSessionStore(redis, keys, { redisTime: exact }).create(session, createOptions());
    await expectUnavailable(storeLagging(400, 600).store.rotate(rotation(session, 1)));
    await expect(storeLagging(400, 1400).store.rotate(rotation(session, 1))).resolves.toEqual({ outcome: 'rotated', generation: 2 });
  });

  it("takes the client's own command timeout when none is given, and sets no deadline on a client without one", async () => {
    const session = newSession();
    // createRedisClient gave this client 2000 ms: a 5 s old command is late.
    await new RedisSessionStore(redis, keys, { redisTime: exact }).create(session, createOptions());
    await expectUnavailable(new RedisSessionStore(redis, keys, { redisTime: lagging(exact, 5000) }).rotate(rotation(session, 1)));
    const unbounded = new Redis(testRedisUrl());
    try {
      const store = new RedisSessionStore(unbounded, keys, { redisTime: lagging(exact, 60_000) });
      await expect(store.rotate(rotation(session, 1))).resolves.toEqual({ outcome: 'rotated', generation: 2 });
    } finally {
      unbounded.disconnect();
    }
  });
});

describe('the grace window counts from when the rotation really ran', () => {
  let { redis, keys, clock, exact } = unopened;
  const id = () => randomBytes(12).toString('base64url');
  beforeEach(async () => {
    ({ redis, keys, clock, exact } = await openStore());
  });
  afterEach(() => redis.quit());

  async function rotatedAfterWaiting(waitedMs: number) {
    const session: NewSession = { prn: id(), aid: id(), createdAt: clock.now(), device: 'curl', ipPrefix: '127.0.0.x', deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0 };
    // A budget far above the wait: the script runs, `waitedMs` after the caller sent it.
    const slow = new RedisSessionStore(redis, keys, { commandTimeoutMs: 120_000, redisTime: lagging(exact, waitedMs) });
    await slow.create(session, { policy: { kind: 'allow_all' }, lifetimeMs: HOUR, now: clock.now() });
    const request = (presented: number, sealed: string): RotateRequest => ({
      prn: session.prn,
      aid: session.aid,
      presented,
      sealedBearerPass: sealed,
      now: clock.now(),
      graceMs: GRACE_MS,
      tombstoneMs: 60_000,
      replayRevoke: 'session',
    });
    await expect(slow.rotate(request(1, 'the-answer'))).resolves.toEqual({ outcome: 'rotated', generation: 2 });
    const onTime = new RedisSessionStore(redis, keys, { commandTimeoutMs: 2000, redisTime: exact });
    return { session, retry: () => onTime.rotate(request(1, 'another-mint')) };
  }

  it('a rotation that waited 3 s in Redis answers the same StateProof for the full window after it ran', async () => {
    const { session, retry } = await rotatedAfterWaiting(3000);
    const slotTtl = await redis.pttl(keys.grace(session.prn, session.aid));
    expect(slotTtl).toBeGreaterThan(GRACE_MS + 3000);
    // The caller's clock says 12 s since it sent the rotation: 9 s since it ran.
    clock.advance(GRACE_MS + 2000);
    await expect(retry()).resolves.toEqual({ outcome: 'grace', generation: 2, sealedBearerPass: 'the-answer' });
    // 14 s since sent, 11 s since it ran: a replay.
    clock.advance(2000);
    await expect(retry()).resolves.toMatchObject({ outcome: 'replay' });
  });

  it('(control) a rotation that ran at once keeps the window counted from the caller clock alone', async () => {
    const { retry } = await rotatedAfterWaiting(0);
    clock.advance(GRACE_MS - 500);
    await expect(retry()).resolves.toEqual({ outcome: 'grace', generation: 2, sealedBearerPass: 'the-answer' });
    clock.advance(1000);
    await expect(retry()).resolves.toMatchObject({ outcome: 'replay' });
  });
});

describe('RedisClock', () => {
  let redis: Redis;
  beforeEach(async () => {
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
  });
  afterEach(async () => {
    if (redis.status !== 'end') await redis.quit();
  });

  const redisTimeNow = async () => {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Number(micros) / 1000;
  };

  it('uses offset 0 until it has measured, then the offset to Redis TIME, never ahead of it', async () => {
    // This host's clock, as the clock sees it, runs 7.5 s behind.
    const clock = new RedisClock(redis, { hostNow: () => Date.now() - 7500 });
    expect(clock.measured).toBe(false);
    expect(clock.offsetMs).toBe(0);
    await clock.sync();
    expect(clock.measured).toBe(true);
    expect(clock.offsetMs).toBeGreaterThan(7400);
    expect(clock.offsetMs).toBeLessThan(7600);
    expect(clock.uncertaintyMs).toBeLessThan(50);
    const before = await redisTimeNow();
    const estimate = clock.now();
    const after = await redisTimeNow();
    expect(estimate).toBeGreaterThanOrEqual(before - 20);
    expect(estimate).toBeLessThanOrEqual(after + 20);
  });

  it('is never ahead of Redis when the event loop is busy before TIME leaves (early deadlines, never late ones)', async () => {
    const clock = new RedisClock(redis);
    const measuring = clock.sync();
    // Auto-pipelining writes TIME on the next turn of the event loop: hold the loop 300 ms first.
    // On the monotonic clock the RedisClock measures with (Date.now() is whole milliseconds: its
    // 300 could be 299.99 of them), one millisecond more than asserted for float rounding.
    const until = performance.now() + 301;
    while (performance.now() < until) {
      // busy: what a loaded server does between sending and writing
    }
    await measuring;
    expect(clock.uncertaintyMs).toBeGreaterThanOrEqual(300);
    const before = await redisTimeNow();
    const estimate = clock.now();
    const after = await redisTimeNow();
    // A midpoint would put the estimate ~150 ms ahead of Redis.
    expect(estimate).toBeLessThanOrEqual(after + 5);
    expect(estimate).toBeGreaterThanOrEqual(before - clock.uncertaintyMs! - 5);
  });

  it('keeps a precise measurement over a later one whose round trip took too long', async () => {
    let skew = -7500;
    let stretch = 0;
    // Each reading of the host clock is `stretch` ms after the previous one: a slow round trip.
    const clock = new RedisClock(redis, {
      maxRoundTripMs: 100,
      hostNow: () => {
        skew += stretch;
        return Date.now() + skew;
      },
    });
    await clock.sync();
    const precise = clock.offsetMs;
    skew -= 5000; // the host clock "jumps" 5 s back, and the next round trip looks 1 s long
    stretch = 1000;
    await clock.sync();
    expect(clock.offsetMs).toBe(precise);
    stretch = 0; // a quick round trip is taken again, jump included
    await clock.sync();
    expect(clock.offsetMs - precise).toBeGreaterThan(2500); // 5 s back, 2 s forward while stretched
    expect(Math.abs(clock.offsetMs + skew)).toBeLessThan(50);
  });

  it('takes an imprecise measurement while it has none, and survives a failed one', async () => {
    let stretch = 0;
    const clock = new RedisClock(redis, {
      maxRoundTripMs: 10,
      hostNow: () => {
        stretch += 400;
        return Date.now() + stretch;
      },
    });
    await clock.sync();
    expect(clock.measured).toBe(true);
    expect(clock.uncertaintyMs).toBeGreaterThanOrEqual(400);
    const offset = clock.offsetMs;
    await redis.quit();
    await expect(clock.sync()).resolves.toBeUndefined();
    expect(clock.offsetMs).toBe(offset);
  });

  it('measures by itself on every ready of its client, and is one per client', async () => {
    const lazy = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    try {
      const clock = redisClockFor(lazy);
      expect(redisClockFor(lazy)).toBe(clock);
      await new Promise<void>((resolve) => {
        if (lazy.status === 'ready') resolve();
        else lazy.once('ready', () => { resolve(); });
      });
      for (let i = 0; i < 50 && !clock.measured; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(clock.measured).toBe(true);
      expect(Math.abs(clock.offsetMs)).toBeLessThan(1000);
    } finally {
      await lazy.quit();
    }
  });
});

describe('RedisClock after a loose first measurement', () => {
  it('measures again soon, not at the next interval, and keeps the tighter estimate (a busy start-up made every deadline early)', async () => {
    let host = 1_000_000;
    let roundTrip = 700;
    const time = () => {
      host += roundTrip;
      const ms = host;
      return Promise.resolve([String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)]);
    };
    const client = Object.assign(new EventEmitter(), { status: 'ready', time }) as unknown as ConstructorParameters<typeof RedisClock>[0];
    const clock = new RedisClock(client, { hostNow: () => host, intervalMs: 30_000, followUpMs: 20 });
    await clock.sync();
    expect(clock.uncertaintyMs).toBe(700);
    roundTrip = 2;
    for (let i = 0; i < 50 && clock.uncertaintyMs !== 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(clock.uncertaintyMs).toBe(2);
    expect(Math.abs(clock.offsetMs)).toBeLessThanOrEqual(2);
  });
});

describe('RedisClock after a failover to a farther, skewed node', () => {
  // Review finding: a round trip that stays slower than the first one must not freeze the offset.
  it('takes a new measurement once the one in use is older than two intervals, whatever its round trip', async () => {
    let host = 1_000_000;
    let redisAhead = 0;
    let roundTrip = 2;
    const time = () => {
      host += roundTrip;
      const ms = host + redisAhead;
      return Promise.resolve([String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)]);
    };
    const client = Object.assign(new EventEmitter(), { status: 'wait', time }) as unknown as ConstructorParameters<typeof RedisClock>[0];
    const clock = new RedisClock(client, { hostNow: () => host, intervalMs: 30_000 });
    await clock.sync();
    expect(Math.abs(clock.offsetMs)).toBeLessThanOrEqual(2);

    // The new primary's clock is 2 s ahead and 150 ms away: early measurements are too loose to take,
    redisAhead = 2000;
    roundTrip = 150;
    host += 5_000;
    await clock.sync();
    expect(Math.abs(clock.offsetMs)).toBeLessThanOrEqual(2);
    // but once the old estimate is stale the farther node's clock is measured.
    host += 61_000;
    await clock.sync();
    expect(clock.offsetMs).toBeGreaterThan(1_800);
  });
});
