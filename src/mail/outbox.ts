import type { Logger } from 'pino';
import type { MailTransport, OutgoingMail } from './transport.js';

/** One kept mail, as GET /dev/outbox lists it. */
export interface OutboxEntry extends OutgoingMail {
  /** ISO 8601 UTC. */
  sentAt: string;
}

/** How many mails the outbox keeps; older ones drop out. */
const OUTBOX_SIZE = 50;

/**
 * The development transport (no SMTP_URL, never in production; config refuses it there): mails
 * are kept in memory, listed at GET /dev/outbox, and logged with their text so the link or code
 * can be copied from the console. Because the text holds a working token, this exists only
 * outside production.
 */
export class DevOutbox implements MailTransport {
  private readonly entries: OutboxEntry[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  deliver(mail: OutgoingMail): Promise<void> {
    this.entries.push({ ...mail, sentAt: new Date(this.now()).toISOString() });
    if (this.entries.length > OUTBOX_SIZE) this.entries.shift();
    this.logger.info({ to: mail.to, subject: mail.subject, text: mail.text }, 'development outbox: mail kept, not sent (set SMTP_URL to send)');
    return Promise.resolve();
  }

  /** Newest first. */
  list(): OutboxEntry[] {
    return [...this.entries].reverse();
  }

  close(): void {
    this.entries.length = 0;
  }
}
