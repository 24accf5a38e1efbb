import { createRedisClient } from '../../src/redis/connect';
import { GENERATION_BASE, redisKeys, SESSION_SLOT } from '../../src/sessions/redis-keys';
import { testRedisUrl } from '../support/test-app';
import { redisContractContext, sessionStoreContract } from './contract';

sessionStoreContract('redis', async () => {
  const redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
  await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
  return redisContractContext(redis, async () => {
    await redis.quit();
  });
});

describe('redis rotate script, user check', () => {
  let redis: ReturnType<typeof createRedisClient>;
  afterEach(async () => {
    await redis.quit();
  });

  it('reads a 0.1 user hash (no epoch field) as a mirror of epoch 0, and a hash without permissions or disabled as no user', async () => {
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
    const ctx = redisContractContext(redis);
    const keys = redisKeys(ctx.prefix);
    const session = { prn: 'partial-user', aid: 'a1', createdAt: ctx.clock.now(), device: 'curl', ipPrefix: '127.0.0.x', deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0 };
    await ctx.store.create(session, { policy: { kind: 'allow_all' }, lifetimeMs: 60_000, now: ctx.clock.now() });
    await redis.hset(keys.userMirror('partial-user'), { email: 'p@example.com', passwordHash: '$2b$04$x' });
    const request = { prn: 'partial-user', aid: 'a1', presented: 1, sealedBearerPass: 's', now: ctx.clock.now(), graceMs: 0, tombstoneMs: 1000, replayRevoke: 'session' as const };
    await expect(ctx.store.rotateConfirmingUser(request, { permissions: [], credentialEpoch: 0, emailVerified: false })).resolves.toEqual({ outcome: 'stale' });
    await expect(ctx.store.sessionAndUser('partial-user', 'a1')).resolves.toMatchObject({ user: undefined });
    // As 0.1 wrote it: permissions, disabled, email, passwordHash … and no epoch.
    await redis.hset(keys.userMirror('partial-user'), { permissions: '[]', disabled: '0' });
    await expect(ctx.store.sessionAndUser('partial-user', 'a1')).resolves.toMatchObject({ user: { permissions: [], disabled: false, credentialEpoch: 0 } });
    await expect(ctx.store.rotateConfirmingUser(request, { permissions: [], credentialEpoch: 0, emailVerified: false })).resolves.toEqual({ outcome: 'rotated', generation: 2 });
  });
});

describe('redis session hashes and mirrors written by the previous build', () => {
  let redis: ReturnType<typeof createRedisClient>;
  afterEach(async () => {
    await redis.quit();
  });

  it('renews a session stored without amr or epoch, and reads a mirror without ev as not verified', async () => {
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
    const ctx = redisContractContext(redis);
    const keys = redisKeys(ctx.prefix);
    const now = ctx.clock.now();
    // Exactly the fields the previous create-2.lua wrote (no am, no ep), and its mirror (no ev),
    // at an epoch above 0: a deploy must not end the sessions that were live before it.
    await redis.hset(keys.session('old', 'a1'), { st: 'a', g: '000000000000001', c: String(now), r: String(now), dv: 'curl', ip: '127.0.0.x' });
    await redis.pexpire(keys.session('old', 'a1'), 60_000);
    await redis.zadd(keys.sessionIndex('old'), now, 'a1');
    await redis.hset(keys.userMirror('old'), { permissions: '[]', disabled: '0', epoch: '2', version: '3', restriction: '0' });
    await expect(ctx.store.sessionAndUser('old', 'a1')).resolves.toEqual({
      session: { state: 'active', generation: 1, createdAt: now, deviceHash: undefined, amr: undefined, credentialEpoch: undefined, device: 'curl' },
      user: { permissions: [], disabled: false, credentialEpoch: 2, version: 3, emailVerified: false },
    });
    const request = { prn: 'old', aid: 'a1', presented: 1, sealedBearerPass: 's', now, graceMs: 0, tombstoneMs: 1000, replayRevoke: 'session' as const };
    await expect(ctx.store.rotateConfirmingUser(request, { permissions: [], credentialEpoch: 2, emailVerified: false })).resolves.toEqual({ outcome: 'rotated', generation: 2 });
    await expect(ctx.store.rotate({ ...request, presented: 2 })).resolves.toEqual({ outcome: 'rotated', generation: 3 });
  });
});

/**
 * The whole contract again with every session's user holding a mirror before its session opens, as
 * a sign-in writes it: a user's only session is then listed in the mirror's slot, not an index
 * (create-3.lua). The mirror is a bare one (no permissions: it reads as no user, as a missing one
 * does), so every case means what it does above.
 */
sessionStoreContract('redis, sessions in the mirror slot', async () => {
  const redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
  await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
  const ctx = redisContractContext(redis, async () => {
    await redis.quit();
  });
  const keys = redisKeys(ctx.prefix);
  const { store } = ctx;
  const create = store.create.bind(store);
  store.create = async (session, options) => {
    await redis.hsetnx(keys.userMirror(session.prn), 'bare', '1');
    return create(session, options);
  };
  return ctx;
});

describe('redis session index: a one-session user has none', () => {
  let redis: ReturnType<typeof createRedisClient>;
  let ctx: ReturnType<typeof redisContractContext>;
  let keys: ReturnType<typeof redisKeys>;
  const ADA = { permissions: ['read:profile'], disabled: false, credentialEpoch: 0, version: 1, emailVerified: true };
  const policy = { kind: 'allow_all' } as const;
  const newSession = (prn: string, aid: string) => ({ prn, aid, createdAt: ctx.clock.now(), device: 'curl', ipPrefix: '127.0.0.x', deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0 });
  const open = (prn: string, aid: string, lifetimeMs = 60_000) => ctx.store.create(newSession(prn, aid), { policy, lifetimeMs, now: ctx.clock.now() });
  const slot = (prn: string) => redis.hget(keys.userMirror(prn), SESSION_SLOT);
  const indexed = (prn: string) => redis.zrange(keys.sessionIndex(prn), 0, -1);
  const aids = async (prn: string) => (await ctx.store.list(prn, ctx.clock.now())).map((s) => s.aid).sort();

  beforeEach(async () => {
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
    ctx = redisContractContext(redis);
    keys = redisKeys(ctx.prefix);
  });
  afterEach(async () => {
    await redis.quit();
  });

  it('keeps the only session in the mirror, moves it into the index with the second, and back to the slot once alone again', async () => {
    await ctx.store.putUser('u', ADA, { expiresInMs: 60_000 });
    await open('u', 'a1');
    expect(await slot('u')).toBe('a1');
    expect(await redis.exists(keys.sessionIndex('u'))).toBe(0);
    await expect(aids('u')).resolves.toEqual(['a1']);
    await ctx.advance(5);
    await open('u', 'a2');
    expect(await slot('u')).toBeNull();
    expect(await indexed('u')).toEqual(['a1', 'a2']);
    expect(await redis.pttl(keys.sessionIndex('u'))).toBeGreaterThan(59_000);
    await expect(aids('u')).resolves.toEqual(['a1', 'a2']);
    await expect(ctx.store.revoke('u', 'a1', { reason: 'revoked', initiator: 'user' })).resolves.toBe(true);
    await expect(ctx.store.revokeAll('u', { reason: 'revoked', initiator: 'user' })).resolves.toEqual(['a2']);
    await expect(aids('u')).resolves.toEqual([]);
    // Alone again: the next session takes the slot, the empty index is gone.
    await open('u', 'a3');
    expect(await slot('u')).toBe('a3');
    expect(await redis.exists(keys.sessionIndex('u'))).toBe(0);
  });

  it('ends the slot session by revoke, revoke-all (keeping it or not), eviction and a principal-wide replay', async () => {
    await ctx.store.putUser('u', ADA, { expiresInMs: 60_000 });
    await open('u', 'a1');
    await expect(ctx.store.revokeAll('u', { reason: 'revoked', initiator: 'user' }, 'a1')).resolves.toEqual([]);
    expect(await slot('u')).toBe('a1');
    await expect(ctx.store.revoke('u', 'a1', { reason: 'revoked', initiator: 'user' })).resolves.toBe(true);
    expect(await slot('u')).toBeNull();

    await open('u', 'a2');
    await expect(ctx.store.revokeAll('u', { reason: 'revoked', initiator: 'user' })).resolves.toEqual(['a2']);
    expect(await slot('u')).toBeNull();

    await open('u', 'a3');
    await expect(ctx.store.create(newSession('u', 'a4'), { policy: { kind: 'single' }, lifetimeMs: 60_000, now: ctx.clock.now() })).resolves.toEqual({ evicted: ['a3'] });
    expect(await slot('u')).toBe('a4');
    expect(await redis.exists(keys.sessionIndex('u'))).toBe(0);

    const rotate = { prn: 'u', aid: 'a4', sealedBearerPass: 's', now: ctx.clock.now(), graceMs: 0, tombstoneMs: 1000, replayRevoke: 'principal' as const };
    await expect(ctx.store.rotate({ ...rotate, presented: 1 })).resolves.toEqual({ outcome: 'rotated', generation: 2 });
    await expect(ctx.store.rotate({ ...rotate, presented: 1 })).resolves.toEqual({ outcome: 'replay', revoked: ['a4'] });
    expect(await slot('u')).toBeNull();
    await expect(ctx.store.state('u', 'a4')).resolves.toEqual({ state: 'compromised' });
  });

  it('drops an expired slot session from list and create, and lets the account deletion still end a live one', async () => {
    await ctx.store.putUser('u', ADA, { expiresInMs: 60_000 });
    await open('u', 'short', 200);
    await ctx.expire(300);
    await expect(aids('u')).resolves.toEqual([]);
    expect(await slot('u')).toBeNull();
    await open('u', 'a1');
    await ctx.store.removeUser('u');
    expect(await redis.exists(keys.userMirror('u'))).toBe(0);
    // The caller ends the sessions after the mirror (user-administration.ts): the slot's aid moved to the index.
    await expect(ctx.store.revokeAll('u', { reason: 'user_deleted', initiator: 'admin' })).resolves.toEqual(['a1']);
    expect(await redis.exists(keys.sessionIndex('u'))).toBe(0);
  });

  it('stores the generation in a fixed size: a session hash takes the same memory after 300 renewals as after its first', async () => {
    await ctx.store.putUser('u', ADA, { expiresInMs: 60_000 });
    await open('u', 'a1');
    const rotate = { prn: 'u', aid: 'a1', sealedBearerPass: 's', now: ctx.clock.now(), graceMs: 0, tombstoneMs: 1000, replayRevoke: 'session' as const };
    await ctx.store.rotate({ ...rotate, presented: 1 });
    const size = () => redis.call('MEMORY', 'USAGE', keys.session('u', 'a1'), 'SAMPLES', '0');
    const first = await size();
    for (let generation = 2; generation <= 300; generation++) await ctx.store.rotate({ ...rotate, presented: generation });
    await expect(ctx.store.state('u', 'a1')).resolves.toMatchObject({ generation: 301 });
    expect(await size()).toBe(first);
    expect(await redis.hget(keys.session('u', 'a1'), 'g')).toBe(String(GENERATION_BASE + 301));
  });

  it('keeps an index written by the previous build: list, renew, revoke and a new sign-in next to it', async () => {
    const now = ctx.clock.now();
    // As the previous create-3.lua wrote a one-session user: the session, its index entry, the mirror without s1.
    await redis.hset(keys.session('old', 'a1'), { st: 'a', g: '000000000000001', c: String(now), r: String(now), dv: 'curl', ip: '127.0.0.x', am: 'pwd', ep: '0' });
    await redis.pexpire(keys.session('old', 'a1'), 60_000);
    await redis.zadd(keys.sessionIndex('old'), now, 'a1');
    await redis.pexpire(keys.sessionIndex('old'), 60_000);
    await ctx.store.putUser('old', ADA, { expiresInMs: 60_000 });
    await expect(aids('old')).resolves.toEqual(['a1']);
    const request = { prn: 'old', aid: 'a1', presented: 1, sealedBearerPass: 's', now, graceMs: 0, tombstoneMs: 1000, replayRevoke: 'principal' as const };
    await expect(ctx.store.rotate(request)).resolves.toEqual({ outcome: 'rotated', generation: 2 });
    // The zero-padded generation is rewritten in the fixed-size integer form, and read back as such.
    expect(await redis.hget(keys.session('old', 'a1'), 'g')).toBe(String(GENERATION_BASE + 2));
    await expect(ctx.store.state('old', 'a1')).resolves.toMatchObject({ state: 'active', generation: 2 });
    await open('old', 'a2');
    expect(await slot('old')).toBeNull();
    expect(await indexed('old')).toEqual(['a1', 'a2']);
    await expect(ctx.store.revoke('old', 'a1', { reason: 'revoked', initiator: 'user' })).resolves.toBe(true);
    await expect(aids('old')).resolves.toEqual(['a2']);
    await expect(ctx.store.revokeAll('old', { reason: 'revoked', initiator: 'user' })).resolves.toEqual(['a2']);
    expect(await redis.exists(keys.sessionIndex('old'))).toBe(0);
  });
});
