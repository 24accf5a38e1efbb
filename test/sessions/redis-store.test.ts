import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/jts/clock';
import { createRedisClient } from '../../src/redis/connect';
import { redisKeys } from '../../src/sessions/redis-keys';
import { RedisSessionStore } from '../../src/sessions/redis-store';
import { testRedisUrl } from '../support/test-app';
import { sessionStoreContract } from './contract';

/** The grace window follows the injected clock; only TTL expiry needs a real wait. */
sessionStoreContract('redis', async () => {
  const clock = new ManualClock(Date.now());
  const redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
  await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
  const store = new RedisSessionStore(redis, redisKeys(`t${randomBytes(4).toString('hex')}:`));
  return {
    store,
    clock,
    advance(ms: number) {
      clock.advance(ms);
      return Promise.resolve();
    },
    async expire(ms: number) {
      clock.advance(ms);
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    close: async () => {
      await redis.quit();
    },
  };
});
