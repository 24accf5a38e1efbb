import { createRedisClient } from '../../src/redis/connect';
import { testRedisUrl } from '../support/test-app';
import { redisContractContext, sessionStoreContract } from './contract';

sessionStoreContract('redis', async () => {
  const redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
  await new Promise<void>((resolve) => redis.once('ready', () => { resolve(); }));
  return redisContractContext(redis, async () => {
    await redis.quit();
  });
});
