import { randomUUID } from 'node:crypto';
import { sql, type ColumnType, type Kysely } from 'kysely';
import type { AccountsSchema } from '../accounts/database.js';
import { OutboxQueue, type OutboxClaim, type OutboxStatus } from '../accounts/outbox-queue.js';
import type { MailRequest } from '../auth/account-mail.js';

/** The table of migration 0011-notice-outbox, as Kysely sees it. */
// A type, not an interface: Kysely's withTables wants an index-signature-compatible record.
export type NoticeTables = {
  notice_outbox: {
    id: string;
    kind: string;
    account_id: string | null;
    intent: string;
    status: ColumnType<OutboxStatus, OutboxStatus | undefined, OutboxStatus>;
    attempts: ColumnType<number, number | undefined, number>;
    next_attempt_at: ColumnType<Date, Date, Date>;
    last_error: ColumnType<string | null, string | null | undefined, string | null>;
    created_at: ColumnType<Date, Date, Date>;
    finished_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  };
};

/** A notice a worker claimed: deliver it, then report with the claim. */
export interface ClaimedNotice extends OutboxClaim {
  notice: MailRequest;
}

/**
 * The notice outbox in the accounts database (README "Security notices"): one row per notice
 * mail, holding its intent (what to say to whom), never a live secret. Claims, reports, the depth
 * and the purge are OutboxQueue's, shared with the webhook outbox, so any number of instances
 * deliver from it and each notice leaves once (barring a worker that dies between SMTP's "250 OK"
 * and its report: then it leaves again after the lease, as with any at-least-once queue).
 */
export class SqlNoticeOutbox {
  readonly queue: OutboxQueue;

  constructor(private readonly db: Kysely<AccountsSchema>) {
    this.queue = new OutboxQueue(db, 'notice_outbox');
  }

  /** Queues `notice`, due at once. */
  async add(notice: MailRequest): Promise<void> {
    // The database's clock, as the claim reads it: an instance's clock skew never delays a first attempt.
    const now = sql<Date>`now()`;
    await this.db
      .withTables<NoticeTables>()
      .insertInto('notice_outbox')
      .values({ id: randomUUID(), kind: notice.kind, account_id: 'userId' in notice ? notice.userId : null, intent: JSON.stringify(notice), next_attempt_at: now, created_at: now })
      .execute();
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedNotice[]> {
    const rows = await this.queue.claim<{ intent: string }>(limit, leaseMs, ['intent']);
    return rows.map((row) => ({ id: row.id, attempt: row.attempt, notice: JSON.parse(row.intent) as MailRequest }));
  }
}
