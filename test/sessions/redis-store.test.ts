import { createRedisClient } from '../../src/redis/connect';
import { redisKeys } from '../../src/sessions/redis-keys';
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
