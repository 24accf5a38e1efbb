import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { PollingLoop } from '../accounts/outbox-loop.js';
import { retryDelayMs, type RetrySchedule } from '../accounts/outbox-queue.js';
import type { AccountMail, AccountMailer, MailRequest } from '../auth/account-mail.js';
import type { SqlNoticeOutbox, ClaimedNotice } from './notice-outbox.js';
import type { MailSender } from './sender.js';
import { mailErrorText } from './error-text.js';
import { renderMail } from './templates.js';
import type { MailTransport } from './transport.js';

/**
 * Which mails wait in the notice outbox. A record over every kind, so a new kind does not compile
 * until someone decides: a `flow` mail carries a live secret (link, code) the user is waiting for
 * and asks again for if it is lost, so it stays in memory (MailSender) and never rests in a
 * database; a `notice` tells the owner about something that happened, and must not be lost.
 */
const ROUTE: Record<MailRequest['kind'], 'flow' | 'notice'> = {
  'verify-email': 'flow',
  'reset-password': 'flow',
  'sign-in-code': 'flow',
  'new-sign-in': 'notice',
  'token-theft': 'notice',
  'second-factor-changed': 'notice',
  'password-changed': 'notice',
  'password-reset-completed': 'notice',
  'email-verified': 'notice',
  'email-change': 'flow',
  'email-change-taken': 'notice',
  // Its "this wasn't me" link is minted at delivery (withUndoLink), as the new sign-in notice's is:
  // the victim's only way back after a hijacked address must survive a restart or an SMTP outage.
  'email-changed': 'notice',
};

type FlowMail = Extract<AccountMail, { kind: 'verify-email' | 'reset-password' | 'sign-in-code' | 'email-change' }>;

function isFlow(mail: MailRequest): mail is FlowMail {
  return ROUTE[mail.kind] === 'flow';
}

export interface NoticeMailerDeps {
  /** Flow mails, and the notices too when there is no outbox (or it cannot be written). */
  sender: MailSender;
  /** Absent: no accounts database (tests of other parts); notices go through `sender`. */
  outbox: SqlNoticeOutbox | undefined;
  transport: MailTransport;
  from: string;
  productName: string;
  /** A queued notice as its mail (the new sign-in notice gets its link here); undefined: not to be sent (the account is gone). */
  prepare: (notice: MailRequest) => Promise<AccountMail | undefined>;
  retry: RetrySchedule;
  /** How often due notices are looked for (a retry is due at its time, found at the next poll). */
  pollMs: number;
  registry: Registry;
  logger: Logger;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

/** Notices a worker claims at once: the most mails one instance has in flight. */
const BATCH = 10;
/**
 * How long a claim is a worker's: past the longest SMTP conversation (transport.ts: 10 s to
 * connect, 10 s for the greeting, 20 s of silence), so only a worker that died loses it.
 */
const LEASE_MS = 60_000;

/**
 * The AccountMailer of the server (README "Security notices"). Flow mails go to MailSender as
 * before. Notices are written to the notice outbox (PostgreSQL / PGlite) and delivered by a worker
 * on every instance: this one tries a new notice at once; a failure is retried on the schedule
 * (5 s doubling to 30 min, about 3 h by default), then dead-lettered. A crash, a restart or an SMTP
 * outage shorter than the schedule loses nothing. Counted in `jts_mail_total{kind,outcome}` (sent,
 * retried, failed: dead-lettered) and `jts_notice_outbox_pending`.
 */
export class NoticeMailer implements AccountMailer {
  private readonly loop: PollingLoop;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: NoticeMailerDeps) {
    this.loop = new PollingLoop(() => this.deliverDue(), deps.pollMs, (error) => {
      deps.logger.warn({ err: error }, 'notice delivery failed; retrying at the next poll (the outbox keeps every notice)');
    });
    const outbox = deps.outbox;
    if (outbox) {
      new Gauge({
        name: 'jts_notice_outbox_pending',
        help: 'Security notice mails waiting in the notice outbox (all instances: read from the database at each scrape).',
        registers: [deps.registry],
        async collect() {
          // A database outage must not fail the whole scrape: the gauge keeps its last value.
          const pending = await outbox.queue.pendingCount().catch(() => undefined);
          if (pending !== undefined) this.set(pending);
        },
      });
    }
  }

  send(mail: MailRequest): void {
    if (isFlow(mail)) {
      this.deps.sender.send(mail);
      return;
    }
    const { outbox, logger } = this.deps;
    const queued = outbox
      ? outbox.add(mail).then(
          () => {
            this.loop.wake();
          },
          (error: unknown) => {
            // The database is down: better a notice with MailSender's few retries than none.
            logger.warn({ err: error, mail: mail.kind }, 'could not queue the notice in the outbox; sending it without the outbox');
            return this.sendDirect(mail);
          },
        )
      : this.sendDirect(mail);
    const job = queued
      .catch((error: unknown) => {
        logger.error({ err: error, mail: mail.kind }, 'notice not sent: it could not be prepared');
      })
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Starts polling for due notices (retries, and notices other instances queued but did not send). */
  start(): void {
    if (this.deps.outbox) this.loop.start();
  }

  /** Stops polling and waits for the mails in flight, so their outcome is recorded. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Resolves once every notice accepted so far is queued and the delivery pass it started is done (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    await this.loop.idle();
  }

  /** Claims due notices and delivers them until none is due; the number of attempts made. */
  async deliverDue(): Promise<number> {
    const { outbox } = this.deps;
    if (!outbox) return 0;
    let attempts = 0;
    for (;;) {
      const claimed = await outbox.claim(BATCH, LEASE_MS);
      await Promise.all(claimed.map((claim) => this.attempt(outbox, claim)));
      attempts += claimed.length;
      if (claimed.length < BATCH) return attempts;
    }
  }

  private async sendDirect(notice: MailRequest): Promise<void> {
    const mail = await this.deps.prepare(notice);
    if (mail) this.deps.sender.send(mail);
  }

  private async attempt(outbox: SqlNoticeOutbox, claim: ClaimedNotice): Promise<void> {
    const { transport, from, productName, sender, logger } = this.deps;
    const kind = claim.notice.kind;
    const domain = domainOf(claim.notice.to);
    let error: string;
    try {
      const mail = await this.deps.prepare(claim.notice);
      if (mail === undefined) {
        // Nothing to tell: kept as dead (with its reason) until the purge, not counted as a failure.
        await outbox.queue.failed(claim, 'the account no longer exists', undefined);
        return;
      }
      await transport.deliver({ from, to: mail.to, kind: mail.kind, ...renderMail(mail, productName) });
      if (await outbox.queue.delivered(claim)) sender.count(kind, 'sent');
      return;
    } catch (caught) {
      // The error of an SMTP client names the server and the reply (which may name the recipient:
      // masked), never the message body.
      error = mailErrorText(caught);
    }
    const retryIn = retryDelayMs(claim.attempt, this.deps.retry, this.deps.random);
    if (!(await outbox.queue.failed(claim, error, retryIn))) return;
    sender.count(kind, retryIn === undefined ? 'failed' : 'retried');
    if (retryIn === undefined) logger.error({ notice: claim.id, mail: kind, domain, attempt: claim.attempt, error }, 'notice dead-lettered after its last attempt');
    else logger.warn({ notice: claim.id, mail: kind, domain, attempt: claim.attempt, retryInMs: retryIn, error }, 'notice not sent; will retry');
  }
}

/** The recipient's domain: enough to see a pattern in the log without naming the person. */
function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}
