import { sql, type Kysely } from 'kysely';
import { NOTICE_TOKEN_PURPOSES, type ChallengePurpose, type ChallengeStore, type CodeUse, type LiveCode, type NewChallenge, type TokenUse } from '../users/challenges.js';
import type { AccountsSchema } from './database.js';
import { guardDatabase } from './sql-guard.js';

/**
 * Challenges in PostgreSQL (or PGlite). Every use is one UPDATE whose WHERE holds all the
 * conditions (unconsumed, unexpired, attempts left, the user's current credential epoch): under
 * READ COMMITTED PostgreSQL re-checks that WHERE on the latest row version after waiting for a
 * concurrent writer, so of two concurrent uses exactly one updates the row. Why a use failed is
 * read afterwards, for the answer only; it decides nothing.
 */
export class SqlChallengeStore implements ChallengeStore {
  constructor(private readonly db: Kysely<AccountsSchema>) {}

  /**
   * One transaction that first locks the user's row: concurrent issues for one user run one after
   * another, so each ends the live challenge the previous one inserted and the last to commit is
   * the one live challenge (the partial unique index of 0005 would refuse a second; the lock makes
   * sure no caller ever meets that error). FOR NO KEY UPDATE does not block the key-share lock the
   * challenge's foreign key takes, nor sign-ins reading the row.
   */
  issue(challenge: NewChallenge): Promise<void> {
    return guardDatabase(() =>
      this.db.transaction().execute(async (trx) => {
        await trx.selectFrom('users').select('id').where('id', '=', challenge.userId).forNoKeyUpdate().execute();
        const now = new Date(challenge.createdAt);
        await trx.deleteFrom('challenges').where('user_id', '=', challenge.userId).where('expires_at', '<=', now).execute();
        if (!NOTICE_TOKEN_PURPOSES.has(challenge.purpose)) {
          await trx
            .updateTable('challenges')
            .set({ consumed_at: now })
            .where('user_id', '=', challenge.userId)
            .where('purpose', '=', challenge.purpose)
            .where('consumed_at', 'is', null)
            .execute();
        }
        await trx
          .insertInto('challenges')
          .values({
            id: challenge.id,
            user_id: challenge.userId,
            purpose: challenge.purpose,
            secret_hash: challenge.secretHash,
            credential_epoch: challenge.credentialEpoch,
            email: challenge.email ?? null,
            max_attempts: challenge.maxAttempts,
            created_at: now,
            expires_at: new Date(challenge.expiresAt),
          })
          .execute();
      }),
    );
  }

  inspectToken(secretHash: string, purpose: ChallengePurpose, now: number): Promise<TokenUse> {
    return guardDatabase(() => this.explain(secretHash, purpose, now));
  }

  consumeToken(secretHash: string, purpose: ChallengePurpose, now: number): Promise<TokenUse> {
    return guardDatabase(async () => {
      const at = new Date(now);
      const row = await this.db
        .updateTable('challenges')
        .set({ consumed_at: at })
        .where('secret_hash', '=', secretHash)
        .where('purpose', '=', purpose)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', at)
        .where((eb) =>
          NOTICE_TOKEN_PURPOSES.has(purpose)
            ? eb.exists(eb.selectFrom('users').select('users.id').whereRef('users.id', '=', 'challenges.user_id'))
            : eb.exists(eb.selectFrom('users').select('users.id').whereRef('users.id', '=', 'challenges.user_id').whereRef('users.credential_epoch', '=', 'challenges.credential_epoch')),
        )
        .returning(['user_id', 'credential_epoch', 'email'])
        .executeTakeFirst();
      if (row) return consumed(row);
      const why = await this.explain(secretHash, purpose, now);
      // A row that was live a moment ago and is gone now was consumed by a concurrent use.
      return why.outcome === 'consumed' ? { outcome: 'used' } : why;
    });
  }

  endOutstanding(userId: string, now: number): Promise<number> {
    return guardDatabase(async () => {
      const at = new Date(now);
      const result = await this.db
        .updateTable('challenges')
        .set({ consumed_at: at })
        .where('user_id', '=', userId)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', at)
        .where('purpose', 'not in', [...NOTICE_TOKEN_PURPOSES])
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  liveCode(userId: string, purpose: ChallengePurpose, now: number): Promise<LiveCode | undefined> {
    return guardDatabase(async () => {
      const row = await this.db
        .selectFrom('challenges')
        .innerJoin('users', 'users.id', 'challenges.user_id')
        .select('challenges.id')
        .where('challenges.user_id', '=', userId)
        .where('challenges.purpose', '=', purpose)
        .where('challenges.consumed_at', 'is', null)
        .where('challenges.expires_at', '>', new Date(now))
        .whereRef('challenges.attempts', '<', 'challenges.max_attempts')
        .whereRef('users.credential_epoch', '=', 'challenges.credential_epoch')
        .orderBy('challenges.created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && { id: row.id };
    });
  }

  useCode(id: string, secretHash: string, now: number): Promise<CodeUse> {
    return guardDatabase(async () => {
      const at = new Date(now);
      const row = await this.db
        .updateTable('challenges')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          // The parameter's type is spelled out: inside CASE PostgreSQL would take it for text.
          consumed_at: eb.case().when('secret_hash', '=', secretHash).then(sql<Date>`cast(${at} as timestamptz)`).else(null).end(),
        }))
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', at)
        .whereRef('attempts', '<', 'max_attempts')
        .where((eb) => eb.exists(eb.selectFrom('users').select('users.id').whereRef('users.id', '=', 'challenges.user_id').whereRef('users.credential_epoch', '=', 'challenges.credential_epoch')))
        .returning(['user_id', 'consumed_at', 'attempts', 'max_attempts'])
        .executeTakeFirst();
      if (!row) return { outcome: 'none' };
      if (row.consumed_at !== null) return { outcome: 'consumed', userId: row.user_id };
      return { outcome: 'wrong', attemptsLeft: row.max_attempts - row.attempts };
    });
  }

  /** Why a token would be refused now (or 'consumed' when it would not be). Same order as the memory store. */
  private async explain(secretHash: string, purpose: ChallengePurpose, now: number): Promise<TokenUse> {
    const row = await this.db
      .selectFrom('challenges')
      .leftJoin('users', 'users.id', 'challenges.user_id')
      .select(['challenges.user_id', 'challenges.credential_epoch', 'challenges.email', 'challenges.consumed_at', 'challenges.expires_at', 'users.credential_epoch as current_epoch'])
      .where('challenges.secret_hash', '=', secretHash)
      .where('challenges.purpose', '=', purpose)
      .executeTakeFirst();
    if (!row) return { outcome: 'invalid' };
    if (row.consumed_at !== null) return { outcome: 'used' };
    if (new Date(row.expires_at).getTime() <= now) return { outcome: 'expired' };
    if (row.current_epoch === null || (row.current_epoch !== row.credential_epoch && !NOTICE_TOKEN_PURPOSES.has(purpose))) return { outcome: 'voided' };
    return consumed(row);
  }
}

function consumed(row: { user_id: string; credential_epoch: number; email: string | null }): TokenUse {
  return { outcome: 'consumed', userId: row.user_id, credentialEpoch: row.credential_epoch, ...(row.email === null ? {} : { email: row.email }) };
}
