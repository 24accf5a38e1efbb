export { freePort } from '../support/redis-server';

/** The shared test Redis, when the jest global setup started one. */
export function testRedisUrlOrUndefined(): string | undefined {
  return process.env.TEST_REDIS_URL;
}
