import { sql, type Kysely } from 'kysely';

/**
 * Second factors (issue 18, part one: TOTP and recovery codes) and the tickets that stand between
 * a verified first factor and a session.
 *
 * - `totp_factors`: one per user. The RFC 6238 secret is sealed (AES-256-GCM, auth/factor-secrets.ts),
 *   never stored in the clear. `last_step` is the last 30-second step whose code was accepted: a code
 *   is accepted only for a later step (one conditional UPDATE), so no code works twice. An
 *   unconfirmed row is an enrolment in progress; only a confirmed one guards sign-in.
 * - `recovery_codes`: ten per confirmed factor, SHA-256 of each (80 random bits: no key needed),
 *   `used_at` set once, by a conditional UPDATE.
 * - `mfa_tickets`: SHA-256 of a 256-bit ticket, bound to the user, a hash of the client (device id
 *   and User-Agent), the first factor used and the user's credential epoch; single use, short life,
 *   a few wrong codes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('totp_factors')
    .addColumn('user_id', 'text', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('secret_sealed', 'text', (col) => col.notNull())
    .addColumn('confirmed', 'boolean', (col) => col.notNull().defaultTo(false))
    // Steps since the epoch (30 s each: 2^31 of them last until the year 4010).
    .addColumn('last_step', 'integer', (col) => col.notNull().defaultTo(-1))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('confirmed_at', 'timestamptz')
    .execute();
  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('used_at', 'timestamptz')
    .addPrimaryKeyConstraint('recovery_codes_pkey', ['user_id', 'code_hash'])
    .execute();
  await db.schema
    .createTable('mfa_tickets')
    .addColumn('ticket_hash', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_hash', 'text', (col) => col.notNull())
    .addColumn('first_factor', 'text', (col) => col.notNull().check(sql`first_factor in ('pwd', 'email_code')`))
    .addColumn('credential_epoch', 'integer', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('mfa_tickets_user').on('mfa_tickets').columns(['user_id', 'expires_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('mfa_tickets').execute();
  await db.schema.dropTable('recovery_codes').execute();
  await db.schema.dropTable('totp_factors').execute();
}
