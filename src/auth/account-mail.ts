/**
 * The mails the account flows send, as data: the auth layer decides what to send and to whom,
 * the mail layer (src/mail) how it looks and how it travels. `name` is the account's display name,
 * untrusted text (escaped and flattened to one line by the templates).
 */
export type AccountMail =
  | { kind: 'verify-email'; to: string; name: string; link: string; expiresInMinutes: number }
  | { kind: 'reset-password'; to: string; name: string; link: string; expiresInMinutes: number }
  | { kind: 'sign-in-code'; to: string; name: string; code: string; expiresInMinutes: number }
  /** A notice: an authenticator (TOTP, the default) or a passkey was added to or removed from the account. */
  | { kind: 'second-factor-changed'; to: string; name: string; change: 'added' | 'removed'; factor?: 'totp' | 'passkey' }
  /**
   * A notice: a sign-in from a device the account has not used recently. `device` is a short
   * description from the User-Agent, `network` the masked address (IPv4 /24, IPv6 /48), `at` an ISO
   * time in UTC, `link` the "this wasn't me" link.
   */
  | { kind: 'new-sign-in'; to: string; name: string; device: string; network: string; at: string; link: string; expiresInMinutes: number };

/**
 * Sends account mail off the request path. `send` returns at once and never throws: whether a
 * mail left must never change an answer (a requester must not learn whether an address has an
 * account, nor whether our SMTP server is up). Failures are the sender's to log and count.
 */
export interface AccountMailer {
  send(mail: AccountMail): void;
}
