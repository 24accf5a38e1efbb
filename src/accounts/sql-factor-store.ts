import type { Kysely, Transaction } from 'kysely';
import type { FactorUse, LiveMfaTicket, NewMfaTicket, SecondFactorStore, TotpFactor } from '../users/factors.js';
import type { AccountsSchema } from './database.js';
import { guardDatabase } from './sql-guard.js';

/**
 * Second factors in PostgreSQL (or PGlite). Every use — a TOTP step, a recovery code, a ticket —
 * is one UPDATE whose WHERE holds all its conditions (`last_step < step`, `used_at is null`,
 * unconsumed and unexpired with attempts left): under READ COMMITTED PostgreSQL re-checks that WHERE
 * on the latest row version after waiting for a concurrent writer, so of two concurrent uses
 * exactly one updates the row.
 */
export class SqlSecondFactorStore implements SecondFactorStore {
  constructor(private readonly db: Kysely<AccountsSchema>) {}

  enrolTotp(userId: string, secretSealed: string, now: number): Promise<'enrolled' | 'confirmed_exists'> {
    return guardDatabase(async () => {
      const at = new Date(now);
      const row = await this.db
        .insertInto('totp_factors')
        .values({ user_id: userId, secret_sealed: secretSealed, created_at: at })
        .onConflict((oc) =>
          oc
            .column('user_id')
            .doUpdateSet({ secret_sealed: secretSealed, created_at: at, last_step: -1 })
            .where('totp_factors.confirmed', '=', false),
        )
        .returning('user_id')
        .executeTakeFirst();
      return row ? 'enrolled' : 'confirmed_exists';
    });
  }

  totp(userId: string): Promise<TotpFactor | undefined> {
    return guardDatabase(async () => {
      const row = await this.db.selectFrom('totp_factors').selectAll().where('user_id', '=', userId).executeTakeFirst();
      return (
        row && {
          userId: row.user_id,
          secretSealed: row.secret_sealed,
          confirmed: row.confirmed,
          lastStep: row.last_step,
          createdAt: new Date(row.created_at).getTime(),
          confirmedAt: row.confirmed_at === null ? undefined : new Date(row.confirmed_at).getTime(),
        }
      );
    });
  }

  confirmTotp(userId: string, secretSealed: string, step: number, recoveryCodeHashes: string[], now: number, startedAfter: number): Promise<boolean> {
    return guardDatabase(() =>
      this.db.transaction().execute(async (trx) => {
        const at = new Date(now);
        const confirmed = await trx
          .updateTable('totp_factors')
          .set({ confirmed: true, confirmed_at: at, last_step: step })
          .where('user_id', '=', userId)
          .where('confirmed', '=', false)
          .where('secret_sealed', '=', secretSealed)
          .where('created_at', '>', new Date(startedAfter))
          .where('last_step', '<', step)
          .returning('user_id')
          .executeTakeFirst();
        if (!confirmed) return false;
        await replaceRecoveryCodes(trx, userId, recoveryCodeHashes, at);
        return true;
      }),
    );
  }

  acceptTotpStep(userId: string, step: number): Promise<boolean> {
    return guardDatabase(async () => {
      const row = await this.db
        .updateTable('totp_factors')
        .set({ last_step: step })
        .where('user_id', '=', userId)
        .where('confirmed', '=', true)
        .where('last_step', '<', step)
        .returning('user_id')
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  removeTotp(userId: string): Promise<boolean> {
    return guardDatabase(() =>
      this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        const removed = await trx.deleteFrom('totp_factors').where('user_id', '=', userId).returning('user_id').executeTakeFirst();
        return removed !== undefined;
      }),
    );
  }

  useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean> {
    return guardDatabase(async () => {
      const row = await this.db
        .updateTable('recovery_codes')
        .set({ used_at: new Date(now) })
        .where('user_id', '=', userId)
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .returning('user_id')
        .executeTakeFirst();
      return row !== undefined;
    });
  }

  recoveryCodesLeft(userId: string): Promise<number> {
    return guardDatabase(async () => {
      const row = await this.db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<string | number | bigint>().as('left'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.left);
    });
  }

  issueTicket(ticket: NewMfaTicket): Promise<void> {
    return guardDatabase(() =>
      this.db.transaction().execute(async (trx) => {
        // The user's row lock orders concurrent issues: each deletes what the one before wrote.
        await trx.selectFrom('users').select('id').where('id', '=', ticket.userId).forUpdate().executeTakeFirst();
        await trx.deleteFrom('mfa_tickets').where('user_id', '=', ticket.userId).execute();
        await trx
          .insertInto('mfa_tickets')
          .values({
            purpose: ticket.purpose,
            ticket_hash: ticket.ticketHash,
            user_id: ticket.userId,
            client_hash: ticket.clientHash,
            first_factor: ticket.firstFactor,
            credential_epoch: ticket.credentialEpoch,
            max_attempts: ticket.maxAttempts,
            created_at: new Date(ticket.createdAt),
            expires_at: new Date(ticket.expiresAt),
          })
          .execute();
      }),
    );
  }

  liveTicket(ticketHash: string, now: number): Promise<LiveMfaTicket | undefined> {
    return guardDatabase(async () => {
      const row = await this.db
        .selectFrom('mfa_tickets')
        .select(['purpose', 'user_id', 'client_hash', 'first_factor', 'credential_epoch'])
        .where('ticket_hash', '=', ticketHash)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', new Date(now))
        .whereRef('attempts', '<', 'max_attempts')
        .executeTakeFirst();
      return row && { purpose: row.purpose, userId: row.user_id, clientHash: row.client_hash, firstFactor: row.first_factor, credentialEpoch: row.credential_epoch };
    });
  }

  reserveTicketAttempt(ticketHash: string, now: number): Promise<number | undefined> {
    return guardDatabase(async () => {
      const row = await this.db
        .updateTable('mfa_tickets')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('ticket_hash', '=', ticketHash)
        .where('consumed_at', 'is', null)
        .where('expires_at', '>', new Date(now))
        .whereRef('attempts', '<', 'max_attempts')
        .returning(['attempts', 'max_attempts'])
        .executeTakeFirst();
      return row && row.max_attempts - row.attempts;
    });
  }

  consumeTicket(ticketHash: string, userId: string, use: FactorUse, now: number): Promise<'consumed' | 'ticket_lost' | 'factor_refused'> {
    return guardDatabase(async () => {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const at = new Date(now);
          // Holds the ticket's row lock to the end: a concurrent completion waits here, then finds it consumed.
          const ticket = await trx
            .updateTable('mfa_tickets')
            .set({ consumed_at: at })
            .where('ticket_hash', '=', ticketHash)
            .where('user_id', '=', userId)
            .where('purpose', '=', 'enrolment' in use ? 'enrol' : 'verify')
            .where('consumed_at', 'is', null)
            .where('expires_at', '>', at)
            .whereRef('attempts', '<=', 'max_attempts')
            .returning('user_id')
            .executeTakeFirst();
          if (!ticket) return 'ticket_lost' as const;
          const spent =
            'enrolment' in use
              ? await confirmIn(trx, userId, use.enrolment, at)
              : 'passkey' in use
              ? ticket
              : 'recoveryCodeHash' in use
              ? await trx.updateTable('recovery_codes').set({ used_at: at }).where('user_id', '=', userId).where('code_hash', '=', use.recoveryCodeHash).where('used_at', 'is', null).returning('user_id').executeTakeFirst()
              : await trx.updateTable('totp_factors').set({ last_step: use.totpStep }).where('user_id', '=', userId).where('confirmed', '=', true).where('last_step', '<', use.totpStep).returning('user_id').executeTakeFirst();
          // Thrown to roll the ticket back: a wrong factor spends nothing but the reserved attempt.
          if (!spent) throw FACTOR_REFUSED;
          return 'consumed' as const;
        });
      } catch (error) {
        if (error === FACTOR_REFUSED) return 'factor_refused';
        throw error;
      }
    });
  }
}

const FACTOR_REFUSED = new Error('factor refused (rolls the ticket back)');

/** confirmTotp's two steps inside the caller's transaction; undefined when there is nothing to confirm. */
async function confirmIn(trx: Transaction<AccountsSchema>, userId: string, enrolment: { secretSealed: string; totpStep: number; recoveryCodeHashes: string[]; startedAfter: number }, at: Date): Promise<{ user_id: string } | undefined> {
  const confirmed = await trx
    .updateTable('totp_factors')
    .set({ confirmed: true, confirmed_at: at, last_step: enrolment.totpStep })
    .where('user_id', '=', userId)
    .where('confirmed', '=', false)
    .where('secret_sealed', '=', enrolment.secretSealed)
    .where('created_at', '>', new Date(enrolment.startedAfter))
    .where('last_step', '<', enrolment.totpStep)
    .returning('user_id')
    .executeTakeFirst();
  if (!confirmed) return undefined;
  await replaceRecoveryCodes(trx, userId, enrolment.recoveryCodeHashes, at);
  return confirmed;
}

/** The user's recovery codes become exactly these (the old ones die). */
async function replaceRecoveryCodes(trx: Transaction<AccountsSchema>, userId: string, codeHashes: string[], at: Date): Promise<void> {
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codeHashes.length > 0) await trx.insertInto('recovery_codes').values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: at }))).execute();
}
