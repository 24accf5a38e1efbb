import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PrivatePostgres } from './postgres-server';
import { PrivateRedis } from './redis-server';

/**
 * One private redis-server and one private PostgreSQL cluster for the whole run (unless REDIS_URL
 * and TEST_DATABASE_URL / DATABASE_URL are given). Tests isolate themselves with a random Redis key
 * prefix and a PostgreSQL schema of their own; tests that break a server start their own instance.
 */
export default async function globalSetup(): Promise<void> {
  buildVerifierPackage();
  const globals = globalThis as { __privateRedis?: PrivateRedis; __privatePostgres?: PrivatePostgres };
  const databaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (databaseUrl) {
    process.env.TEST_DATABASE_URL = databaseUrl;
  } else {
    const postgres = await PrivatePostgres.start();
    process.env.TEST_DATABASE_URL = postgres.url;
    globals.__privatePostgres = postgres;
  }
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const redis = await PrivateRedis.start();
  process.env.TEST_REDIS_URL = redis.url;
  globals.__privateRedis = redis;
}

/**
 * Builds packages/verifier from its sources: jest maps the package to its sources, but the servers
 * tests start as child processes (tsx, or the build) import its `dist/` through node_modules — on a
 * fresh clone there is none, and a stale one would test old code.
 */
function buildVerifierPackage(): void {
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: join(__dirname, '..', '..', 'packages', 'verifier'), encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building packages/verifier failed:\n${built.stdout}${built.stderr}`);
}
