import { PrivateRedis } from './redis-server';

/**
 * One private redis-server for the whole run (unless REDIS_URL is given). Tests isolate
 * themselves with a random key prefix; tests that break Redis start their own instance.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const redis = await PrivateRedis.start();
  process.env.TEST_REDIS_URL = redis.url;
  (globalThis as { __privateRedis?: PrivateRedis }).__privateRedis = redis;
}
