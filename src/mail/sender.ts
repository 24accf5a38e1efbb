import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { AccountMail } from '../auth/account-mail.js';
import { mailErrorText } from './error-text.js';
import { renderMail } from './templates.js';
import type { MailTransport } from './transport.js';

export interface MailSenderOptions {
  transport: MailTransport;
  from: string;
  productName: string;
  logger: Logger;
  registry: Registry;
  /** Tries per mail, the first included. */
  attempts?: number;
  /** Wait before the n-th retry: `retryDelayMs * 4^(n-1)` (1 s, 4 s, … by default). */
  retryDelayMs?: number;
  /** Mails waiting or being sent at once; past it a mail is dropped (logged and counted), never queued without bound. */
  maxPending?: number;
}

/**
 * Sends account mail in the background with bounded retries: the flow mails (verification and
 * reset links, sign-in codes), which the user waits for and asks again for when one is lost, and
 * which carry a live secret that must never rest in a database; and, only when there is no notice
 * outbox, the notices (notices.ts). `send` returns at once; a failure
 * is logged (kind and recipient domain, never the link or code) and counted in
 * `jts_mail_total{kind,outcome}` (outcome: sent, retried, failed, dropped), and never reaches the
 * requester.
 */
export class MailSender {
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly maxPending: number;
  private readonly counter: Counter<'kind' | 'outcome'>;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: MailSenderOptions) {
    this.attempts = options.attempts ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.maxPending = options.maxPending ?? 1000;
    this.counter = new Counter({ name: 'jts_mail_total', help: 'Account mails by kind and outcome: sent, retried, failed (after every retry), dropped (queue full).', labelNames: ['kind', 'outcome'] as const, registers: [options.registry] });
    for (const kind of ['verify-email', 'reset-password', 'sign-in-code']) for (const outcome of ['sent', 'failed']) this.counter.inc({ kind, outcome }, 0);
  }

  /** Counts a mail sent by someone else (the notice outbox's worker) under the same metric. */
  count(kind: AccountMail['kind'], outcome: 'sent' | 'retried' | 'failed'): void {
    this.counter.inc({ kind, outcome });
  }

  send(mail: AccountMail): void {
    if (this.pending.size >= this.maxPending) {
      this.counter.inc({ kind: mail.kind, outcome: 'dropped' });
      this.options.logger.error({ mail: mail.kind, domain: domainOf(mail.to) }, 'mail dropped: too many mails waiting');
      return;
    }
    const job = this.deliver(mail).finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Resolves once every mail accepted so far was sent or given up (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async deliver(mail: AccountMail): Promise<void> {
    const { transport, from, productName, logger } = this.options;
    const rendered = renderMail(mail, productName);
    for (let attempt = 1; ; attempt++) {
      try {
        await transport.deliver({ from, to: mail.to, kind: mail.kind, ...rendered });
        this.counter.inc({ kind: mail.kind, outcome: 'sent' });
        return;
      } catch (error) {
        const last = attempt >= this.attempts;
        this.counter.inc({ kind: mail.kind, outcome: last ? 'failed' : 'retried' });
        // The error of an SMTP client names the server and the reply (which may name the recipient:
        // masked), never the message body; the raw error object also carries the reply, so it is not logged.
        logger[last ? 'error' : 'warn']({ error: mailErrorText(error), mail: mail.kind, domain: domainOf(mail.to), attempt }, last ? 'mail not sent; giving up' : 'mail not sent; will retry');
        if (last) return;
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 4 ** (attempt - 1)));
      }
    }
  }
}

/** The recipient's domain: enough to see a pattern in the log without naming the person. */
function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}
