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
   * A theft alert: a StateProof the session had already used was presented again (a replay), so
   * the sessions in `ended` were ended. `presentedBy` is the client that presented it (device
   * description and masked network, as the session list writes them); `at` is ms since the epoch.
   * `appUrl` is where the user signs in again (PUBLIC_URL): advice, not a secret.
   */
  | { kind: 'token-theft'; to: string; name: string; presentedBy: { device: string; network: string }; at: number; ended: { device: string; signedInAt?: number }[]; appUrl: string }
  /** A notice: the password was changed by the signed-in user; `signedOut` other sessions ended. */
  | { kind: 'password-changed'; to: string; name: string; signedOut: number; appUrl: string }
  /** A notice: a reset link was used to set a new password; every session ended. */
  | { kind: 'password-reset-completed'; to: string; name: string; appUrl: string }
  /** The link that makes `to` the account's address (POST /jts/account/email); `to` is the new address. */
  | { kind: 'email-change'; to: string; name: string; link: string; expiresInMinutes: number }
  /** A notice to an address another account holds: someone asked to move their account to it; nothing changed. `name` is the holder's. */
  | { kind: 'email-change-taken'; to: string; name: string; appUrl: string }
  /**
   * A notice to the old address: the account now uses `newEmail` (masked), since `at` (ms). `undo`,
   * the "this wasn't me" link that restores this address, only when it was verified.
   */
  | { kind: 'email-changed'; to: string; name: string; newEmail: string; at: number; undo?: { link: string; expiresInMinutes: number } }
  /** A notice: this address was verified for the account (the link was opened). */
  | { kind: 'email-verified'; to: string; name: string; appUrl: string }
  /**
   * A notice: a sign-in from a device the account has not used recently. `device` is a short
   * description from the User-Agent, `network` the masked address (IPv4 /24, IPv6 /48), `at` an ISO
   * time in UTC, `link` the "this wasn't me" link.
   */
  | { kind: 'new-sign-in'; to: string; name: string; device: string; network: string; at: string; link: string; expiresInMinutes: number };

/**
 * A new sign-in notice as the auth layer hands it over: the facts, not the link. Its "this wasn't
 * me" token is minted when the mail leaves (`withNotMeLink`, sign-in-notices.ts), under the
 * account's credential epoch of the sign-in (`credentialEpoch`), so no usable token waits in the
 * notice outbox, and one delivered late behaves as one delivered at once.
 */
export type NewSignInNotice = { kind: 'new-sign-in'; to: string; name: string; userId: string; credentialEpoch: number; device: string; network: string; at: string };

/**
 * The address-change notice as queued: its "this wasn't me" link (when `undo`: the old address was
 * verified) is minted when the mail leaves (`withUndoLink`, account-email.ts), bound to `to`, so
 * the notice can wait in the outbox — surviving a crash or an SMTP outage — with no usable token.
 */
export type EmailChangedNotice = { kind: 'email-changed'; to: string; name: string; newEmail: string; at: number; userId: string; credentialEpoch: number; undo: boolean };

/** What `AccountMailer.send` takes: every AccountMail, the new sign-in and address-change notices as their intents. */
export type MailRequest = Exclude<AccountMail, { kind: 'new-sign-in' | 'email-changed' }> | NewSignInNotice | EmailChangedNotice;

/**
 * Sends account mail off the request path. `send` returns at once and never throws: whether a
 * mail left must never change an answer (a requester must not learn whether an address has an
 * account, nor whether our SMTP server is up). Failures are the sender's to log and count.
 */
export interface AccountMailer {
  send(mail: MailRequest): void;
}
