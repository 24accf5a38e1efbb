import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PrivatePostgres } from './postgres-server';
import { PrivateRedis } from './redis-server';

/**
 * One private redis-server and one private PostgreSQL cluster for the whole run (unless REDIS_URL
 * and TEST_DATABASE_URL / DATABASE_URL are given). Tests isolate themselves with a random Redis key
 * prefix and a PostgreSQL schema of their own; tests that break a server start their own instance.
 */
export default async function globalSetup(): Promise<void> {
  ensureBuilt();
  const template = pgliteTemplate();
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
  } else {
    const redis = await PrivateRedis.start();
    process.env.TEST_REDIS_URL = redis.url;
    globals.__privateRedis = redis;
  }
  process.env.TEST_PGLITE_TEMPLATE = await template;
}

/**
 * The path of an initialised PGlite cluster as a tarball (test/support/accounts.ts loads it), made
 * while PostgreSQL and Redis start. Kept in the temp folder between runs, one per PGlite version:
 * initdb's output depends on nothing else.
 */
async function pgliteTemplate(): Promise<string> {
  const root = join(__dirname, '..', '..');
  const { version } = JSON.parse(readFileSync(join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
  const path = join(tmpdir(), `jts-test-pglite-${version}.tar`);
  if (existsSync(path)) return path;
  const { stderr } = await promisify(execFile)(process.execPath, [join(__dirname, 'pglite-template.mjs'), path], { cwd: root });
  if (!existsSync(path)) throw new Error(`making the PGlite template failed:\n${stderr}`);
  return path;
}

/**
 * Builds the server and packages/verifier unless dist/ is already newer than every source (the same
 * check `npm start` runs): tests start the server and the CLIs from dist/ (test/support/built.ts),
 * and those import the verifier's dist/ through node_modules — on a fresh clone there is none, and a
 * stale one would test old code. jest itself maps both to their sources.
 */
function ensureBuilt(): void {
  const built = spawnSync(process.execPath, ['scripts/ensure-built.mjs'], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building dist/ failed:\n${built.stdout}${built.stderr}`);
}
