import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/jts/clock';
import { createRedisClient, type RedisClient } from '../../src/redis/connect';
import { MAX_ENDED_PER_USER, MemoryEndedSessions, RedisEndedSessions, type EndedSession, type EndedSessionLog } from '../../src/sessions/ended-sessions';
import { redisKeys } from '../../src/sessions/redis-keys';
import { testRedisUrl } from '../support/test-app';

const DAY = 86_400_000;

const ended = (n: number, at: number): EndedSession => ({ aid: `aid-${String(n).padStart(2, '0')}`, device: `Device ${String(n)}`, endedAt: at, reason: 'token_theft' });

describe.each(['memory', 'redis'] as const)('recently ended sessions (%s)', (kind) => {
  let clock: ManualClock;
  let log: EndedSessionLog;
  let redis: RedisClient | undefined;
  let prefix: string;

  const build = async (listedForMs: number) => {
    if (kind === 'memory') return new MemoryEndedSessions(clock, listedForMs);
    redis ??= createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    if (redis.status !== 'ready') await new Promise<void>((resolve) => redis?.once('ready', () => { resolve(); }));
    return new RedisEndedSessions(redis, redisKeys(prefix), listedForMs);
  };

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 11, 1));
    prefix = `t${randomBytes(4).toString('hex')}:`;
    log = await build(7 * DAY);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('lists what was recorded, newest first, to its own user only', async () => {
    await log.record('ada', [ended(1, clock.now())]);
    clock.advance(1000);
    await log.record('ada', [ended(2, clock.now()), ended(3, clock.now())]);
    await expect(log.list('ada', clock.now())).resolves.toEqual([ended(3, clock.now()), ended(2, clock.now()), ended(1, clock.now() - 1000)]);
    await expect(log.list('bob', clock.now())).resolves.toEqual([]);
  });

  it(`keeps at most ${String(MAX_ENDED_PER_USER)} per user: the 21st ending evicts the oldest`, async () => {
    for (let n = 1; n <= MAX_ENDED_PER_USER + 1; n++) await log.record('ada', [ended(n, clock.now())]);
    const listed = await log.list('ada', clock.now());
    expect(listed).toHaveLength(MAX_ENDED_PER_USER);
    expect(listed[0]?.aid).toBe('aid-21');
    expect(listed.at(-1)?.aid).toBe('aid-02');
    if (redis) await expect(redis.llen(redisKeys(prefix).endedSessions('ada'))).resolves.toBe(MAX_ENDED_PER_USER);
  });

  it('stops listing an ending once it is older than the listing time, and the key expires with it', async () => {
    await log.record('ada', [ended(1, clock.now())]);
    clock.advance(7 * DAY - 1);
    await expect(log.list('ada', clock.now())).resolves.toHaveLength(1);
    clock.advance(1);
    await expect(log.list('ada', clock.now())).resolves.toEqual([]);
    if (redis) {
      const ttl = await redis.pttl(redisKeys(prefix).endedSessions('ada'));
      expect(ttl).toBeGreaterThan(7 * DAY - 60_000);
      expect(ttl).toBeLessThanOrEqual(7 * DAY);
    }
  });

  it('records and lists nothing when listing is off (0)', async () => {
    log = await build(0);
    await log.record('ada', [ended(1, clock.now())]);
    await expect(log.list('ada', clock.now())).resolves.toEqual([]);
    if (redis) await expect(redis.exists(redisKeys(prefix).endedSessions('ada'))).resolves.toBe(0);
  });
});
