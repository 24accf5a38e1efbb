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

  it('treats a user hash without email or password hash as no user, as the user store does', async () => {
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
    const ctx = redisContractContext(redis);
    const keys = redisKeys(ctx.prefix);
    const session = { prn: 'partial-user', aid: 'a1', createdAt: ctx.clock.now(), device: 'curl', ipPrefix: '127.0.0.x', deviceHash: undefined };
    await ctx.store.create(session, { policy: { kind: 'allow_all' }, lifetimeMs: 60_000, now: ctx.clock.now() });
    await redis.hset(keys.user('partial-user'), { permissions: '[]', disabled: '0' });
    const request = { prn: 'partial-user', aid: 'a1', presented: 1, sealedBearerPass: 's', now: ctx.clock.now(), graceMs: 0, tombstoneMs: 1000, replayRevoke: 'session' as const };
    await expect(ctx.store.rotate({ ...request, onlyIfUser: { permissions: [] } })).resolves.toEqual({ outcome: 'stale' });
    await redis.hset(keys.user('partial-user'), { email: 'p@example.com', passwordHash: '$2b$04$x' });
    await expect(ctx.store.rotate({ ...request, onlyIfUser: { permissions: [] } })).resolves.toEqual({ outcome: 'rotated', generation: 2 });
  });
});
