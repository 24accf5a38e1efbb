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

export interface NewMfaTicket {
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
   * unconfirmed factor or `step` is not after its last one.
   */
  confirmTotp(userId: string, secretSealed: string, step: number, recoveryCodeHashes: string[], now: number): Promise<boolean>;
  /** Records `step` as the confirmed factor's last accepted step iff it is later than the one stored (atomic). */
  acceptTotpStep(userId: string, step: number): Promise<boolean>;
  /** Deletes the factor (confirmed or not) and every recovery code; false when there was no factor. */
  removeTotp(userId: string): Promise<boolean>;
  /** Marks the unused recovery code with this hash used (atomic); false when there is none. */
  useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean>;
  recoveryCodesLeft(userId: string): Promise<number>;
  /** Stores a ticket (and deletes the user's expired ones). */
  issueTicket(ticket: NewMfaTicket): Promise<void>;
  /** The ticket, if it can still be used. */
  liveTicket(ticketHash: string, now: number): Promise<LiveMfaTicket | undefined>;
  /** Consumes a live ticket (atomic): of two concurrent uses, one is true. */
  consumeTicket(ticketHash: string, now: number): Promise<boolean>;
  /** Spends one attempt of a live ticket (atomic); resolves to the attempts left (0: the ticket is dead). */
  failTicket(ticketHash: string, now: number): Promise<number>;
}
