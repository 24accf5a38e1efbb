import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { openAccountsDatabase, type AccountsDatabase, type AccountsSchema } from '../../src/accounts/database';
import { migrateToLatest } from '../../src/accounts/migrate';

export type AccountsKind = 'postgres' | 'pglite';

export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: the jest global setup starts a private PostgreSQL');
  return url;
}

/**
 * A migrated accounts database of its own: a fresh schema on the run's PostgreSQL (jest runs
 * files in parallel), or an in-memory PGlite. `url` overrides the run's PostgreSQL.
 */
export async function openTestDatabase(kind: AccountsKind, options: { url?: string; timeoutMs?: number } = {}): Promise<AccountsDatabase> {
  if (kind === 'pglite') return sharedPgliteSchema();
  const database = await openAccountsDatabase({
    url: options.url ?? testDatabaseUrl(),
    dataDir: 'memory://',
    timeoutMs: options.timeoutMs ?? 5000,
    poolMax: 5,
    schema: `t_${randomBytes(6).toString('hex')}`,
  });
  await migrateToLatest(database.db, database.schema);
  return database;
}

/**
 * Starting a PGlite costs seconds: one per test file, a fresh schema per test. It loads the
 * initialised cluster the global setup made (TEST_PGLITE_TEMPLATE) rather than running initdb again.
 */
let sharedPglite: Promise<PGlite> | undefined;

function startPglite(): Promise<PGlite> {
  const template = process.env.TEST_PGLITE_TEMPLATE;
  return template === undefined ? PGlite.create() : PGlite.create({ loadDataDir: new Blob([readFileSync(template)]) });
}

async function sharedPgliteSchema(): Promise<AccountsDatabase> {
  sharedPglite ??= startPglite();
  const pglite = await sharedPglite;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  // Tests of one file run one after another: the search path is this test's until the next opens.
  await pglite.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
  const db = new Kysely<AccountsSchema>({ dialect: new PGliteDialect(pglite) });
  await migrateToLatest(db, schema);
  // The shared PGlite stays open for the file's next test; jest ends the worker.
  return { db, kind: 'pglite', description: 'pglite (shared, in memory)', schema, close: () => Promise.resolve() };
}

/**
 * A postgres:// URL on the run's PostgreSQL whose search path is a fresh, empty schema: for
 * processes the tests start (the server, the CLI), which read only DATABASE_URL. The server
 * migrates it at start-up (outside production).
 */
export async function freshDatabaseUrl(): Promise<string> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  return urlWithSchema(schema);
}

/** The run's PostgreSQL URL with `schema` first on the search path. */
export function urlWithSchema(schema: string, base: string = testDatabaseUrl()): string {
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}
