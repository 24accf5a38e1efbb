import { sql, type Kysely } from 'kysely';
import type { AccountsSchema } from './database.js';

/**
 * The delivery machinery both persistent outboxes share (webhooks: src/webhooks/outbox.ts;
 * security notices: src/mail/notice-outbox.ts). Each table has the columns this module reads:
 * `id`, `status` ('pending' | 'delivered' | 'dead'), `attempts`, `next_attempt_at`, `last_error`,
 * `finished_at`. Every method is one statement, so any number of instances may share a table:
 * rows are claimed with `FOR UPDATE SKIP LOCKED`, and reported only by the claim that holds them
 * (`attempts` fences a late report from a worker whose lease ran out).
 */
export type OutboxTable = 'webhook_outbox' | 'notice_outbox';

export type OutboxStatus = 'pending' | 'delivered' | 'dead';

/** A claimed row's identity and fence: report with these. */
export interface OutboxClaim {
  id: string;
  /** This attempt's number, 1-based. */
  attempt: number;
}

/** When a failed delivery is tried again, and when it is given up. */
export interface RetrySchedule {
  /** Wait after the first failure (ms); doubled after each further one. */
  baseMs: number;
  /** The longest wait between two attempts (ms). */
  maxDelayMs: number;
  /** Attempts in all, the first included; after the last failed one the row is dead-lettered. */
  maxAttempts: number;
}

/** ±20 %: deliveries that failed together (a receiver down) do not all come back in the same second. */
const JITTER = 0.2;

/**
 * The wait after the `attempt`-th failed attempt (1-based), or undefined when that was the last.
 * `random` in [0, 1) (Math.random; tests pin it).
 */
export function retryDelayMs(attempt: number, schedule: RetrySchedule, random: () => number = Math.random): number | undefined {
  if (attempt >= schedule.maxAttempts) return undefined;
  const nominal = Math.min(schedule.baseMs * 2 ** (attempt - 1), schedule.maxDelayMs);
  return Math.round(nominal * (1 - JITTER + 2 * JITTER * random()));
}

/** The nominal waits of a schedule (no jitter), for the README and the start-up log. */
export function nominalDelaysMs(schedule: RetrySchedule): number[] {
  return Array.from({ length: schedule.maxAttempts - 1 }, (_, i) => Math.min(schedule.baseMs * 2 ** i, schedule.maxDelayMs));
}

export class OutboxQueue {
  constructor(
    private readonly db: Kysely<AccountsSchema>,
    private readonly table: OutboxTable,
  ) {}

  /**
   * Claims up to `limit` due rows and returns the `columns` asked for: each gets its attempt
   * counted and its next attempt moved `leaseMs` ahead, so a worker that dies mid-delivery leaves
   * it due again after the lease. Rows another worker is claiming are skipped, never waited for.
   */
  async claim<Row extends object>(limit: number, leaseMs: number, columns: readonly (keyof Row & string)[]): Promise<(Row & OutboxClaim)[]> {
    const table = sql.table(this.table);
    const result = await sql<Row & { id: string; attempts: number }>`
      update ${table}
         set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
       where id in (select id from ${table}
                     where status = 'pending' and next_attempt_at <= now()
                     order by next_attempt_at
                     limit ${limit}
                     for update skip locked)
      returning id, attempts${sql.raw(columns.map((column) => `, ${quoted(column)}`).join(''))}`.execute(this.db);
    return result.rows.map((row) => ({ ...row, attempt: row.attempts }));
  }

  /** A delivery the receiver accepted. False when the claim was no longer this worker's. */
  async delivered(claim: OutboxClaim): Promise<boolean> {
    const result = await sql`
      update ${sql.table(this.table)} set status = 'delivered', finished_at = now(), last_error = null
       where id = ${claim.id} and attempts = ${claim.attempt} and status = 'pending'`.execute(this.db);
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  /** A failed attempt: due again after `retryInMs`, or dead-lettered when undefined. False when the claim was no longer this worker's. */
  async failed(claim: OutboxClaim, error: string, retryInMs: number | undefined): Promise<boolean> {
    const set = retryInMs === undefined ? sql`status = 'dead', finished_at = now(), last_error = ${error}` : sql`next_attempt_at = now() + make_interval(secs => ${retryInMs / 1000}), last_error = ${error}`;
    const result = await sql`
      update ${sql.table(this.table)} set ${set}
       where id = ${claim.id} and attempts = ${claim.attempt} and status = 'pending'`.execute(this.db);
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  /** Rows waiting for delivery (the depth gauges). */
  async pendingCount(): Promise<number> {
    const result = await sql<{ n: string | number | bigint }>`select count(*) as n from ${sql.table(this.table)} where status = 'pending'`.execute(this.db);
    return Number(result.rows[0]?.n ?? 0);
  }

  /**
   * Deletes rows in `status` finished more than `olderThanMs` ago, `batch` rows per statement
   * (a short statement holds few locks and little WAL at once), until none is left; the number
   * deleted. Rows another instance's purge is deleting are skipped, never waited for.
   */
  async purge(status: Exclude<OutboxStatus, 'pending'>, olderThanMs: number, batch: number): Promise<number> {
    const table = sql.table(this.table);
    let deleted = 0;
    for (;;) {
      const result = await sql`
        delete from ${table}
         where id in (select id from ${table}
                       where status = ${status} and finished_at < now() - make_interval(secs => ${olderThanMs / 1000})
                       limit ${batch}
                       for update skip locked)`.execute(this.db);
      const count = Number(result.numAffectedRows ?? 0n);
      deleted += count;
      if (count < batch) return deleted;
    }
  }
}

/** A column name as SQL (they come from code, never from input; quoted all the same). */
function quoted(column: string): string {
  return `"${column.replace(/"/g, '""')}"`;
}
