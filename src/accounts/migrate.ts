import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import * as m0001 from './migrations/0001-users.js';
import * as m0002 from './migrations/0002-user-version.js';
import * as m0003 from './migrations/0003-challenges.js';
import * as m0004 from './migrations/0004-clients.js';
import * as m0005 from './migrations/0005-one-live-challenge.js';
import * as m0006 from './migrations/0006-mfa.js';
import * as m0007 from './migrations/0007-passkeys.js';
import * as m0008 from './migrations/0008-mfa-required.js';
import * as m0009 from './migrations/0009-sign-in-devices.js';
import * as m0010 from './migrations/0010-webhook-outbox.js';
import * as m0011 from './migrations/0011-notice-outbox.js';
import * as m0012 from './migrations/0012-email-change.js';

/**
 * Every migration, by name, in order. Imported statically so the build (tsc) carries them and
 * nothing reads a migrations folder at run time. A new migration is a new file here; never edit
 * one that has shipped.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-users': m0001,
  '0002-user-version': m0002,
  '0003-challenges': m0003,
  '0004-clients': m0004,
  '0005-one-live-challenge': m0005,
  '0006-mfa': m0006,
  '0007-passkeys': m0007,
  '0008-mfa-required': m0008,
  '0009-sign-in-devices': m0009,
  '0010-webhook-outbox': m0010,
  '0011-notice-outbox': m0011,
  '0012-email-change': m0012,
};

export const MIGRATE_COMMAND = 'npm run db:migrate';

/**
 * Kysely looks for its bookkeeping tables by name in every schema unless told which one; in a
 * database shared with other schemas it could find another's. So it is always told: the given
 * schema, or the first of the search path (`public` by default).
 */
async function migrator<DB>(db: Kysely<DB>, schema: string | undefined): Promise<Migrator> {
  const migrationTableSchema = schema ?? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema ?? 'public';
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve(MIGRATIONS) }, migrationTableSchema });
}

/** Applies every pending migration (each in its own transaction, under Kysely's migration lock). */
export async function migrateToLatest<DB>(db: Kysely<DB>, schema?: string): Promise<string[]> {
  const { error, results } = await (await migrator(db, schema)).migrateToLatest();
  if (error !== undefined) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  return applied(results);
}

/** Names of the migrations this build knows and the database has not applied yet. */
export async function pendingMigrations<DB>(db: Kysely<DB>, schema?: string): Promise<string[]> {
  const migrations = await (await migrator(db, schema)).getMigrations();
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}

function applied(results: MigrationResultSet['results']): string[] {
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
