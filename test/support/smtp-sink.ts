import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../scripts/lib/free-port';

/** A mail as it arrived at the sink: the SMTP envelope and the parsed message. */
export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
  raw: string;
}

/**
 * A real SMTP server (the `smtp-server` package) on a free loopback port that keeps what arrives.
 * No TLS (STARTTLS hidden) and no auth, as a local relay; `failNext` makes it refuse messages
 * with a transient 451 to test retries.
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  private waiters: { match: (mail: ReceivedMail) => boolean; resolve: (mail: ReceivedMail) => void }[] = [];
  private failures = 0;

  private readonly server: SMTPServer;

  private constructor(readonly port: number) {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          if (this.failures > 0) {
            this.failures -= 1;
            // Named as real servers do: the reply carries the recipient (logs and stored errors must mask it).
            callback(Object.assign(new Error(`try again later: <${session.envelope.rcptTo[0]?.address ?? ''}> is busy`), { responseCode: 451 }));
            return;
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) };
          void simpleParser(raw).then((parsed) => {
            this.arrived({ envelope, parsed, raw });
          });
          callback();
        });
      },
    });
  }

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink(await freePort());
    await new Promise<void>((resolve, reject) => {
      sink.server.once('error', reject);
      sink.server.listen(sink.port, '127.0.0.1', () => {
        resolve();
      });
    });
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** The server settings that send its mail here (SMTP_URL, MAIL_FROM). */
  get mailEnv(): Record<string, string> {
    return { SMTP_URL: this.url, MAIL_FROM: 'Example Auth <auth@example.com>' };
  }

  /** Refuses the next `count` messages with 451 (a transient failure the sender retries). */
  failNext(count: number): void {
    this.failures = count;
  }

  /**
   * The next mail to `to` (one already received and not yet taken counts). With `kind`, the next
   * of that kind (its `X-JTS-Mail-Kind` header); without, the next mail of a flow the test drives
   * (verification link, reset link, sign-in code), so a notice sent on the way (factor added,
   * password changed, new sign-in…) never stands in for the mail a test waits for.
   */
  next(to: string, kind?: string): Promise<ReceivedMail> {
    const match = (mail: ReceivedMail) => mail.envelope.to.includes(to) && (kind === undefined ? FLOW_KINDS.has(kindOf(mail)) : kindOf(mail) === kind);
    const index = this.received.findIndex(match);
    if (index >= 0) return Promise.resolve(this.received.splice(index, 1)[0] as ReceivedMail);
    return new Promise((resolve) => {
      this.waiters.push({ match, resolve });
    });
  }

  private arrived(mail: ReceivedMail): void {
    const waiter = this.waiters.find((w) => w.match(mail));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(mail);
    } else {
      this.received.push(mail);
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}

/** The mails a user acts on; every other kind is a notice. */
const FLOW_KINDS = new Set(['verify-email', 'reset-password', 'sign-in-code', 'email-change']);

/** A received mail's `X-JTS-Mail-Kind` header (set by the server's sender on every mail). */
export function kindOf(mail: ReceivedMail): string {
  const value = mail.parsed.headers.get('x-jts-mail-kind');
  return typeof value === 'string' ? value : '';
}

/** The token in a mailed link's fragment (`#reset=…` / `#verify=…`). */
export function tokenOf(mail: ReceivedMail, kind: 'reset' | 'verify'): string {
  const match = new RegExp(`#${kind}=([A-Za-z0-9_-]+)`).exec(mail.parsed.text ?? '');
  if (!match?.[1]) throw new Error(`no ${kind} link in the mail: ${mail.parsed.text ?? ''}`);
  return match[1];
}

/** The six-digit code of a sign-in mail. */
export function codeOf(mail: ReceivedMail): string {
  const match = /code is (\d{6})/.exec(mail.parsed.text ?? '');
  if (!match?.[1]) throw new Error(`no code in the mail: ${mail.parsed.text ?? ''}`);
  return match[1];
}

/** The token of a new sign-in notice's "this wasn't me" link (`#not-me=…`). */
export function notMeTokenOf(mail: ReceivedMail): string {
  const match = /#not-me=([A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '');
  if (!match?.[1]) throw new Error(`no not-me link in the mail: ${mail.parsed.text ?? ''}`);
  return match[1];
}
