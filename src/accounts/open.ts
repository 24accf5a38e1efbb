import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { lockDataDir, type LockOwner } from './data-dir-lock.js';
import { openAccountsDatabase, type AccountsDatabase, type DatabaseSettings } from './database.js';
import { MIGRATE_COMMAND, migrateToLatest, pendingMigrations } from './migrate.js';
import { SqlChallengeStore } from './sql-challenge-store.js';
import { SqlClientStore } from './sql-client-store.js';
import { SqlSecondFactorStore } from './sql-factor-store.js';
import { SqlPasskeyStore } from './sql-passkey-store.js';
import { SqlUserStore } from './sql-user-store.js';
import { SqlSignInDeviceStore } from './sql-sign-in-device-store.js';

/**
 * Every store the accounts database holds. They travel together: a server given SQL users but an
 * in-memory challenge store (as one once was) would lose every reset link on restart and never
 * see one issued by another instance.
 */
export interface AccountStores {
  users: SqlUserStore;
  clients: SqlClientStore;
  challenges: SqlChallengeStore;
  factors: SqlSecondFactorStore;
  passkeys: SqlPasskeyStore;
  signInDevices: SqlSignInDeviceStore;
}

/** The stores of an open accounts database. */
export function accountStores(db: AccountsDatabase['db']): AccountStores {
  return { users: new SqlUserStore(db), clients: new SqlClientStore(db), challenges: new SqlChallengeStore(db), factors: new SqlSecondFactorStore(db), passkeys: new SqlPasskeyStore(db), signInDevices: new SqlSignInDeviceStore(db) };
}

export interface Accounts extends AccountStores {
  database: AccountsDatabase;
  /** Migrations applied by this start-up (outside production only). */
  applied: string[];
}

/** Why the accounts database cannot serve this build; the message names the fix. */
export class SchemaBehindError extends Error {
  override readonly name = 'SchemaBehindError';

  constructor(readonly pending: readonly string[]) {
    super(`the accounts database is behind this build (pending migrations: ${pending.join(', ')}); run \`${MIGRATE_COMMAND}\` with the same DATABASE_URL, then start again`);
  }
}

/**
 * Opens the accounts database for the server. Outside production pending migrations are applied
 * (a fresh clone needs nothing else); in production a schema that is behind is refused, so
 * migrations stay a deliberate deploy step and several instances never race to run them.
 */
export async function openAccounts(settings: DatabaseSettings, options: { production: boolean; owner?: LockOwner }): Promise<Accounts> {
  // PGlite is one process: the server and the CLI take the data folder's lock file first.
  let release: (() => void) | undefined;
  if (settings.url === undefined && settings.dataDir !== 'memory://') {
    const dataDir = resolve(settings.dataDir);
    mkdirSync(dataDir, { recursive: true });
    release = lockDataDir(dataDir, options.owner ?? 'server');
  }
  let database: AccountsDatabase;
  try {
    database = await openAccountsDatabase(settings);
  } catch (error) {
    release?.();
    throw error;
  }
  const close = database.close.bind(database);
  database.close = async () => {
    try {
      await close();
    } finally {
      release?.();
    }
  };
  try {
    let applied: string[] = [];
    if (options.production) {
      const pending = await pendingMigrations(database.db, database.schema);
      if (pending.length > 0) throw new SchemaBehindError(pending);
    } else {
      applied = await migrateToLatest(database.db, database.schema);
    }
    return { database, ...accountStores(database.db), applied };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}
