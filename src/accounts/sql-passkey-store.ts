import type { Kysely, Selectable } from 'kysely';
import type { ChallengePurposeWebAuthn, NewPasskey, NewWebAuthnChallenge, Passkey, PasskeyStore, PasskeyUse, TakenWebAuthnChallenge } from '../users/passkeys.js';
import type { AccountsSchema, PasskeysTable } from './database.js';
import { guardDatabase } from './sql-guard.js';

/** PostgreSQL's unique_violation: the credential id is registered already. */
const UNIQUE_VIOLATION = '23505';

/**
 * Passkeys in PostgreSQL (or PGlite). A counter is moved on by one UPDATE whose WHERE holds the
 * check (`sign_count < new`, or both 0), and a challenge taken by one DELETE … RETURNING: under READ
 * COMMITTED PostgreSQL re-checks the WHERE on the latest row version after waiting for a concurrent
 * writer, so of two concurrent uses exactly one succeeds.
 */
export class SqlPasskeyStore implements PasskeyStore {
  constructor(private readonly db: Kysely<AccountsSchema>) {}

  add(passkey: NewPasskey): Promise<'added' | 'exists'> {
    return guardDatabase(async () => {
      const row = await this.db
        .insertInto('passkeys')
        .values({
          id: passkey.id,
          user_id: passkey.userId,
          credential_id: passkey.credentialId,
          public_key: passkey.publicKey,
          sign_count: passkey.signCount,
          transports: passkey.transports,
          device_type: passkey.deviceType,
          backed_up: passkey.backedUp,
          name: passkey.name,
          created_at: new Date(passkey.createdAt),
        })
        .onConflict((oc) => oc.column('credential_id').doNothing())
        .returning('id')
        .executeTakeFirst()
        .catch((error: unknown) => {
          // A concurrent insert of the same id (primary key) is as much "exists" as the credential id.
          if ((error as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
          throw error;
        });
      return row ? 'added' : 'exists';
    });
  }

  byCredentialId(credentialId: string): Promise<Passkey | undefined> {
    return guardDatabase(async () => {
      const row = await this.db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
      return row && fromRow(row);
    });
  }

  list(userId: string): Promise<Passkey[]> {
    return guardDatabase(async () => {
      const rows = await this.db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    });
  }

  count(userId: string): Promise<number> {
    return guardDatabase(async () => {
      const row = await this.db
        .selectFrom('passkeys')
        .select((eb) => eb.fn.countAll<string | number | bigint>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  rename(userId: string, id: string, name: string): Promise<boolean> {
    return guardDatabase(async () => {
      const row = await this.db.updateTable('passkeys').set({ name }).where('id', '=', id).where('user_id', '=', userId).returning('id').executeTakeFirst();
      return row !== undefined;
    });
  }

  remove(userId: string, id: string): Promise<boolean> {
    return guardDatabase(async () => {
      const row = await this.db.deleteFrom('passkeys').where('id', '=', id).where('user_id', '=', userId).returning('id').executeTakeFirst();
      return row !== undefined;
    });
  }

  recordUse(id: string, use: PasskeyUse): Promise<boolean> {
    return guardDatabase(async () => {
      const row = await this.db
        .updateTable('passkeys')
        .set({ sign_count: use.signCount, backed_up: use.backedUp, last_used_at: new Date(use.now) })
        .where('id', '=', id)
        // A counter of 0 is an authenticator that keeps none: it matches only a stored 0.
        .where('sign_count', use.signCount === 0 ? '=' : '<', use.signCount)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  issueChallenge(challenge: NewWebAuthnChallenge): Promise<void> {
    return guardDatabase(async () => {
      const at = new Date(challenge.createdAt);
      await this.db.deleteFrom('webauthn_challenges').where('expires_at', '<=', at).execute();
      await this.db
        .insertInto('webauthn_challenges')
        .values({
          challenge_hash: challenge.challengeHash,
          purpose: challenge.purpose,
          user_id: challenge.userId ?? null,
          binding: challenge.binding,
          created_at: at,
          expires_at: new Date(challenge.expiresAt),
        })
        .execute();
    });
  }

  takeChallenge(challengeHash: string, purpose: ChallengePurposeWebAuthn, now: number): Promise<TakenWebAuthnChallenge | undefined> {
    return guardDatabase(async () => {
      const row = await this.db
        .deleteFrom('webauthn_challenges')
        .where('challenge_hash', '=', challengeHash)
        .where('purpose', '=', purpose)
        .where('expires_at', '>', new Date(now))
        .returning(['purpose', 'user_id', 'binding'])
        .executeTakeFirst();
      return row && { purpose: row.purpose, userId: row.user_id ?? undefined, binding: row.binding };
    });
  }
}

function fromRow(row: Selectable<PasskeysTable>): Passkey {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    transports: row.transports,
    deviceType: row.device_type,
    backedUp: row.backed_up,
    name: row.name,
    createdAt: new Date(row.created_at).getTime(),
    lastUsedAt: row.last_used_at === null ? undefined : new Date(row.last_used_at).getTime(),
  };
}
