import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type ColumnType } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { withSearchPathIntrospection } from './search-path-introspection.js';

/** The tables as Kysely sees them (see ./migrations). */
export interface AccountsSchema {
  users: UsersTable;
  clients: ClientsTable;
  challenges: ChallengesTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  mfa_tickets: MfaTicketsTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebAuthnChallengesTable;
  sign_in_devices: SignInDevicesTable;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  permissions: string[];
  disabled: boolean;
  credential_epoch: ColumnType<number, number | undefined, number>;
  email_verified: ColumnType<boolean, boolean | undefined, boolean>;
  mfa_required: ColumnType<boolean, boolean | undefined, boolean>;
  /** int8: node-postgres reads it as a string, PGlite as a bigint; fromRow makes it a number. */
  version: ColumnType<string | number | bigint, number | undefined, number>;
  created_at: ColumnType<Date, Date, Date>;
  updated_at: ColumnType<Date, Date, Date>;
}

/** Service clients (migration 0004); hashes are base64url SHA-256 digests (client-secret.ts). */
export interface ClientsTable {
  id: string;
  secret_hash: string;
  previous_secret_hash: string | null;
  previous_secret_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  scopes: string[];
  audience: string;
  disabled: boolean;
  created_at: ColumnType<Date, Date, Date>;
  updated_at: ColumnType<Date, Date, Date>;
}

/** See migrations/0003-challenges.ts. */
export interface ChallengesTable {
  id: string;
  user_id: string;
  purpose: 'verify-email' | 'reset-password' | 'sign-in-code' | 'not-me' | 'email-change';
  secret_hash: string;
  /** See migrations/0012-email-change.ts: the address the challenge is bound to, if its purpose has one. */
  email: ColumnType<string | null, string | null | undefined, string | null>;
  credential_epoch: number;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
  created_at: ColumnType<Date, Date, Date>;
  expires_at: ColumnType<Date, Date, Date>;
  consumed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** See migrations/0009-sign-in-devices.ts. */
export interface SignInDevicesTable {
  user_id: string;
  key_hash: string;
  network_hash: string;
  last_seen: ColumnType<Date, Date, Date>;
}

/** See migrations/0006-mfa.ts. */
export interface TotpFactorsTable {
  user_id: string;
  secret_sealed: string;
  confirmed: ColumnType<boolean, boolean | undefined, boolean>;
  last_step: ColumnType<number, number | undefined, number>;
  created_at: ColumnType<Date, Date, Date>;
  confirmed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: ColumnType<Date, Date, Date>;
  used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface MfaTicketsTable {
  ticket_hash: string;
  user_id: string;
  client_hash: string;
  first_factor: 'pwd' | 'email_code';
  purpose: ColumnType<'verify' | 'enrol', 'verify' | 'enrol' | undefined, 'verify' | 'enrol'>;
  credential_epoch: number;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
  created_at: ColumnType<Date, Date, Date>;
  expires_at: ColumnType<Date, Date, Date>;
  consumed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** See migrations/0007-passkeys.ts. */
export interface PasskeysTable {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  /** int8: node-postgres reads it as a string, PGlite as a bigint. */
  sign_count: ColumnType<string | number | bigint, number | undefined, number>;
  transports: ColumnType<string[], string[] | undefined, string[]>;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
  created_at: ColumnType<Date, Date, Date>;
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface WebAuthnChallengesTable {
  challenge_hash: string;
  purpose: 'register' | 'login' | 'mfa';
  user_id: string | null;
  binding: string;
  created_at: ColumnType<Date, Date, Date>;
  expires_at: ColumnType<Date, Date, Date>;
}

export interface DatabaseSettings {
  /** postgres://…; undefined: PGlite in `dataDir`, or in memory when `dataDir` is 'memory://'. */
  url: string | undefined;
  dataDir: string;
  timeoutMs: number;
  poolMax: number;
  /** A schema of its own (tests): created if missing and first on the search path. */
  schema?: string;
}

export interface AccountsDatabase {
  db: Kysely<AccountsSchema>;
  kind: 'postgres' | 'pglite';
  /** For logs: the host and database, or the PGlite folder; never a password. */
  description: string;
  schema: string | undefined;
  close(): Promise<void>;
}

/**
 * Opens the accounts database: node-postgres with a bounded pool when a URL is given, PGlite
 * (PostgreSQL compiled to WASM, one process) otherwise. Both speak the same SQL and run the same
 * migrations through Kysely.
 */
export async function openAccountsDatabase(settings: DatabaseSettings): Promise<AccountsDatabase> {
  const { schema } = settings;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  if (settings.url !== undefined) {
    const pool = new pg.Pool({
      connectionString: settings.url,
      max: settings.poolMax,
      connectionTimeoutMillis: settings.timeoutMs,
      // Client-side bound on each query: a stopped or partitioned server answers 503, never hangs.
      query_timeout: settings.timeoutMs,
      idleTimeoutMillis: 30_000,
      // Idle connections never keep a process (a CLI, a test) alive on their own.
      allowExitOnIdle: true,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    });
    // An idle client whose server went away emits 'error' on the pool; the next query reconnects.
    pool.on('error', () => undefined);
    const db = new Kysely<AccountsSchema>({ dialect: withSearchPathIntrospection(new PostgresDialect({ pool })) });
    if (schema !== undefined) {
      const admin = new pg.Client({ connectionString: settings.url, connectionTimeoutMillis: settings.timeoutMs });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        await admin.end();
      }
    }
    return { db, kind: 'postgres', description: describeUrl(settings.url), schema, close: () => db.destroy() };
  }
  const memory = settings.dataDir === 'memory://';
  const dataDir = memory ? settings.dataDir : resolve(settings.dataDir);
  if (!memory) mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  await pglite.waitReady;
  if (schema !== undefined) await pglite.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  const db = new Kysely<AccountsSchema>({ dialect: withSearchPathIntrospection(new PGliteDialect(pglite)) });
  return { db, kind: 'pglite', description: memory ? 'pglite (in memory)' : `pglite ${dataDir}`, schema, close: () => db.destroy() };
}

/** host:port/database of a postgres URL, without credentials. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgres ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'postgres (unparsable URL)';
  }
}
