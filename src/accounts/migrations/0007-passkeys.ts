import { sql, type Kysely } from 'kysely';

/**
 * Passkeys (WebAuthn, issue 18 part two) and their challenges.
 *
 * - `passkeys`: one row per registered credential. `credential_id` (base64url, as the browser
 *   reports it) is unique across every account: an assertion names only its credential, and the
 *   owner is found from it. `public_key` is the COSE key (base64url). `sign_count` is the last
 *   signature counter seen; it only grows (one conditional UPDATE, see sql-passkey-store.ts).
 *   `transports`, `device_type` and `backed_up` are what the authenticator said at registration
 *   (and, for `backed_up`, at each use); `name` is the owner's label.
 * - `webauthn_challenges`: SHA-256 of each challenge handed out (never the challenge itself), bound
 *   to its purpose and to its user (registration), its MFA ticket (second factor) or, for a
 *   passwordless sign-in that has no user yet, the client that asked. Taken by one DELETE …
 *   RETURNING, so a challenge answers once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('passkeys')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'text', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('credential_id', 'text', (col) => col.notNull().unique())
    .addColumn('public_key', 'text', (col) => col.notNull())
    // The authenticator's counter is 32 bits unsigned: int8 holds every value.
    .addColumn('sign_count', 'int8', (col) => col.notNull().defaultTo(0))
    .addColumn('transports', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('device_type', 'text', (col) => col.notNull().check(sql`device_type in ('singleDevice', 'multiDevice')`))
    .addColumn('backed_up', 'boolean', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('passkeys_user').on('passkeys').column('user_id').execute();
  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('challenge_hash', 'text', (col) => col.primaryKey())
    .addColumn('purpose', 'text', (col) => col.notNull().check(sql`purpose in ('register', 'login', 'mfa')`))
    .addColumn('user_id', 'text', (col) => col.references('users.id').onDelete('cascade'))
    .addColumn('binding', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('webauthn_challenges_expiry').on('webauthn_challenges').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute();
  await db.schema.dropTable('passkeys').execute();
}
