import nodemailer from 'nodemailer';

/** A finished message: one recipient, a fixed subject and both bodies. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** What the mail is (AccountMail's `kind`), sent as `X-JTS-Mail-Kind` so people and tests can filter on it. */
  kind: string;
}

/** Where mail goes: an SMTP server, or the development outbox. Rejects when it was not accepted. */
export interface MailTransport {
  deliver(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** Bounds on one SMTP conversation (ms): a stalled server costs a retry, never a stuck queue. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

/**
 * SMTP through nodemailer, the de facto Node mail library (connection pooling, STARTTLS, SMTP
 * auth, RFC 2047 header encoding, and address parsing that refuses line breaks in headers).
 * `url` is SMTP_URL: smtp://[user:password@]host:port (STARTTLS when offered) or smtps:// (TLS).
 */
export function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport({ url, pool: true, maxConnections: 2, ...SMTP_TIMEOUTS });
  return {
    async deliver(mail) {
      // One envelope recipient, given apart from the headers: nothing in a header can add another.
      const { kind, ...message } = mail;
      await transporter.sendMail({ ...message, headers: { 'X-JTS-Mail-Kind': kind }, envelope: { from: addressOf(mail.from), to: [mail.to] } });
    },
    close() {
      transporter.close();
    },
  };
}

/** The bare address of a From such as `Name <a@b>`. */
function addressOf(from: string): string {
  return /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
}
