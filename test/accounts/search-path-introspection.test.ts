import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresIntrospector, sql, type TableMetadata } from 'kysely';
import type { AccountsDatabase } from '../../src/accounts/database';
import { migrateToLatest } from '../../src/accounts/migrate';
import { openTestDatabase, type AccountsKind } from '../support/accounts';

/** Tables in a stable order, columns as the library reports them. */
const sorted = (tables: readonly TableMetadata[]) => [...tables].sort((a, b) => a.name.localeCompare(b.name));

describe.each(['postgres', 'pglite'] as const)('introspection of the accounts database (%s)', (kind: AccountsKind) => {
  let ours: AccountsDatabase;
  let other: AccountsDatabase;

  beforeAll(async () => {
    // Two migrated schemas side by side, as on a database shared with other deployments or a test run.
    other = await openTestDatabase(kind);
    ours = await openTestDatabase(kind);
  });

  afterAll(async () => {
    await ours.close();
    await other.close();
  });

  it('reports the tables of the schema on the search path, and none of another schema', async () => {
    const tables = await ours.db.introspection.getTables({ withInternalKyselyTables: true });
    expect(new Set(tables.map((table) => table.schema))).toEqual(new Set([ours.schema]));
    expect(tables.map((table) => table.name)).toEqual(expect.arrayContaining(['users', 'kysely_migration', 'kysely_migration_lock']));
    const withoutInternal = await ours.db.introspection.getTables();
    expect(withoutInternal.map((table) => table.name)).not.toContain('kysely_migration');
  });

  it("reports exactly what Kysely's own PostgreSQL introspector reports for that schema (columns, types, defaults, nullability)", async () => {
    const library = (await new PostgresIntrospector(ours.db).getTables({ withInternalKyselyTables: true })).filter((table) => table.schema === ours.schema);
    expect(library.length).toBeGreaterThan(5);
    expect(sorted(await ours.db.introspection.getTables({ withInternalKyselyTables: true }))).toEqual(sorted(library));
  });

  it('leaves migrations working: a second migrateToLatest finds the bookkeeping tables and applies nothing', async () => {
    expect(await migrateToLatest(ours.db, ours.schema)).toEqual([]);
    const { rows } = await sql<{ count: string }>`select count(*)::text as count from kysely_migration`.execute(ours.db);
    expect(Number(rows[0]?.count)).toBeGreaterThanOrEqual(10);
  });
});
