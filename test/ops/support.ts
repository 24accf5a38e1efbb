export { freePort } from '../../scripts/lib/free-port';

/** The shared test Redis, when the jest global setup started one. */
export function testRedisUrlOrUndefined(): string | undefined {
  return process.env.TEST_REDIS_URL;
}
