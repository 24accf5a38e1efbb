/**
 * Second factors of an account (README, "Second factor (TOTP)"): a TOTP authenticator with its
 * recovery codes, and the single-use tickets of a sign-in that waits for its second factor. The
 * store sees a sealed TOTP secret and hashes of codes and tickets only; every use is one atomic
 * step, so two concurrent uses of one code, recovery code or ticket have exactly one winner,
 * whichever instance serves them.
 *
 * Every `now` is milliseconds since the epoch, from the caller's Clock. Backing-store failures are
 * thrown as `StoreError('service_unavailable')`.
 */
export interface TotpFactor {
  userId: string;
  /** The RFC 6238 secret, sealed with the factor key (auth/factor-secrets.ts). */
  secretSealed: string;
  /** False while enrolling: an unconfirmed factor never guards a sign-in. */
  confirmed: boolean;
  /** The last 30-second time step whose code was accepted (-1: none yet). */
  lastStep: number;
  createdAt: number;
  confirmedAt: number | undefined;
}

/** The first factor a ticket follows: a password, or an emailed sign-in code. */
export type FirstFactor = 'pwd' | 'email_code';

/**
 * What a ticket is good for: `verify` completes a sign-in with the account's factor; `enrol` sets
 * up the first factor of an account an administrator requires one of (User.mfaRequired).
 */
export type TicketPurpose = 'verify' | 'enrol';

export interface NewMfaTicket {
  purpose: TicketPurpose;
  /** Hex SHA-256 of the ticket (never the ticket itself). */
  ticketHash: string;
  userId: string;
  /** Hash of the client the ticket was issued to (auth/factor-secrets.ts, clientBinding). */
  clientHash: string;
  firstFactor: FirstFactor;
  /** The user's credential epoch at issue: a password change meanwhile voids the ticket. */
  credentialEpoch: number;
  /** Wrong codes allowed before the ticket is dead. */
  maxAttempts: number;
  createdAt: number;
  expiresAt: number;
}

/** A ticket that can still be used: unconsumed, unexpired, attempts left. */
export interface LiveMfaTicket {
  purpose: TicketPurpose;
  userId: string;
  clientHash: string;
  firstFactor: FirstFactor;
  credentialEpoch: number;
}

export interface SecondFactorStore {
  /**
   * Starts (or restarts) a TOTP enrolment: stores an unconfirmed factor with `secretSealed`,
   * replacing an unconfirmed one. `confirmed_exists` (nothing written) when the user has a
   * confirmed factor.
   */
  enrolTotp(userId: string, secretSealed: string, now: number): Promise<'enrolled' | 'confirmed_exists'>;
  totp(userId: string): Promise<TotpFactor | undefined>;
  /**
   * Confirms the unconfirmed factor sealed as `secretSealed` (so a restarted enrolment is not
   * confirmed by the previous secret's code), records `step` as used, and replaces the user's
   * recovery codes by `recoveryCodeHashes`, in one transaction. False when there is no such
   * unconfirmed factor, it was started before `startedAfter` (an enrolment left unconfirmed expires),
   * or `step` is not after its last one.
   */
  confirmTotp(userId: string, secretSealed: string, step: number, recoveryCodeHashes: string[], now: number, startedAfter: number): Promise<boolean>;
  /** Records `step` as the confirmed factor's last accepted step iff it is later than the one stored (atomic). */
  acceptTotpStep(userId: string, step: number): Promise<boolean>;
  /** Deletes the factor (confirmed or not) and every recovery code; false when there was no factor. */
  removeTotp(userId: string): Promise<boolean>;
  /** Marks the unused recovery code with this hash used (atomic); false when there is none. */
  useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean>;
  recoveryCodesLeft(userId: string): Promise<number>;
  /**
   * Stores a ticket and deletes every other ticket of the user, live or not, in one atomic step:
   * an account has at most one live ticket, so the codes that can be tried at any moment are at
   * most one ticket's `maxAttempts` (see second-factor.ts for why one, not a cap of several).
   */
  issueTicket(ticket: NewMfaTicket): Promise<void>;
  /** The ticket, if it can still be used. */
  liveTicket(ticketHash: string, now: number): Promise<LiveMfaTicket | undefined>;
  /**
   * Spends one attempt of a live ticket before its code is checked (atomic): of many concurrent
   * requests only `maxAttempts` in all get one. Resolves to the attempts left after this one, or
   * undefined (nothing spent) when the ticket is not live: used, expired, out of attempts.
   */
  reserveTicketAttempt(ticketHash: string, now: number): Promise<number | undefined>;
  /**
   * Consumes the ticket of `userId` (unused, unexpired, its attempts not overspent: the caller has
   * reserved one) together with the second factor `use`, in one atomic step: `consumed` when both
   * were spent; `ticket_lost` (nothing spent) when another request consumed the ticket first;
   * `factor_refused` (nothing spent, the ticket stays) when the recovery code is not an unused
   * one of the user, the TOTP step is not after the last accepted one, or the enrolment cannot be
   * confirmed (as confirmTotp). An enrolment consumes only an `enrol` ticket, the others only a
   * `verify` one (`ticket_lost` otherwise).
   */
  consumeTicket(ticketHash: string, userId: string, use: FactorUse, now: number): Promise<'consumed' | 'ticket_lost' | 'factor_refused'>;
}

/**
 * The second factor a ticket is completed with: a recovery code (its hash), a TOTP time step, a passkey, or
 * (an `enrol` ticket) the confirmation of the enrolment, with confirmTotp's arguments.
 */
export type FactorUse =
  | { recoveryCodeHash: string }
  | { totpStep: number }
  /** A passkey assertion passkeys.ts verified (its challenge spent, its counter moved): only the ticket is spent. */
  | { passkey: true }
  | { enrolment: { secretSealed: string; totpStep: number; recoveryCodeHashes: string[]; startedAfter: number } };
