import type { PrivatePostgres } from './postgres-server';
import type { PrivateRedis } from './redis-server';

export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as { __privateRedis?: PrivateRedis; __privatePostgres?: PrivatePostgres };
  await Promise.all([globals.__privateRedis?.destroy(), globals.__privatePostgres?.destroy()]);
}
