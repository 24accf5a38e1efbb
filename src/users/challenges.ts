/**
 * Emailed challenges: what proves that someone reads an account's mailbox. One primitive for the
 * three flows (README, "Email recovery"). The store sees only hashes of secrets (see
 * auth/challenge-secrets.ts) and decides every use atomically, so two concurrent uses of one
 * challenge have exactly one winner whichever instance serves them.
 */
export type ChallengePurpose = 'verify-email' | 'reset-password' | 'sign-in-code' | 'not-me' | 'email-change';

/**
 * Purposes of the tokens a notice carries (the "this wasn't me" link of a new sign-in notice). They
 * differ from the links a user asks for in two ways:
 *
 * - they outlive a password change: whoever signed in must not disarm the owner's link by changing
 *   the password they stole;
 * - each notice's token stays live when a later notice is issued: a thief signing in twice must not
 *   void the first mail's link with the second.
 *
 * Each is still single-use and expires.
 */
export const NOTICE_TOKEN_PURPOSES: ReadonlySet<ChallengePurpose> = new Set(['not-me']);

export interface NewChallenge {
  /** Random, unique. */
  id: string;
  userId: string;
  purpose: ChallengePurpose;
  /** Hex SHA-256 of a link token, or hex HMAC of a code (never the secret itself). */
  secretHash: string;
  /** The user's credential epoch when issued: a later password change voids the challenge. */
  credentialEpoch: number;
  /**
   * The address the challenge is bound to, where its purpose needs one: the new address of an
   * `email-change` link, the old address of an address-change notice's `not-me` link.
   */
  email?: string;
  /** Wrong guesses allowed before the challenge is dead (codes); 1 for link tokens. */
  maxAttempts: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  expiresAt: number;
}

/**
 * Why a link token cannot be used: `invalid` (unknown, tampered, or issued for another purpose),
 * `expired`, `used` (consumed, or replaced by a newer one), `voided` (the password changed since).
 */
export type TokenRefusal = 'invalid' | 'expired' | 'used' | 'voided';

/** `email`: the address the challenge was bound to (NewChallenge.email), when it was. */
export type TokenUse = { outcome: 'consumed'; userId: string; credentialEpoch: number; email?: string } | { outcome: TokenRefusal };

/** A code's check: `consumed` (right code), `wrong` (one attempt spent), `none` (no live code: absent, expired, used up or voided). */
export type CodeUse = { outcome: 'consumed'; userId: string } | { outcome: 'wrong'; attemptsLeft: number } | { outcome: 'none' };

/** A live code challenge, as the check needs it (its id is part of its HMAC). */
export interface LiveCode {
  id: string;
}

/**
 * Storage of challenges. Every `now` is milliseconds since the epoch, from the caller's Clock (the
 * store never reads a clock, so tests move time). Backing-store failures are thrown as
 * `StoreError('service_unavailable')`.
 */
export interface ChallengeStore {
  /**
   * Stores a new challenge and ends every outstanding one of the same user and purpose (only the
   * latest link or code works; not for NOTICE_TOKEN_PURPOSES, whose tokens stay live side by side),
   * and deletes that user's expired rows.
   */
  issue(challenge: NewChallenge): Promise<void>;
  /** What `consume` would answer, without consuming (to refuse a bad token before hashing a password). */
  inspectToken(secretHash: string, purpose: ChallengePurpose, now: number): Promise<TokenUse>;
  /**
   * Consumes a link token in one atomic step: it must exist for `purpose`, be unconsumed and
   * unexpired, and carry its user's current credential epoch.
   */
  consumeToken(secretHash: string, purpose: ChallengePurpose, now: number): Promise<TokenUse>;
  /**
   * Ends every outstanding challenge of the user but those of NOTICE_TOKEN_PURPOSES (the account's
   * address changed: a link or code mailed to the old address must stop working). Resolves to how many.
   */
  endOutstanding(userId: string, now: number): Promise<number>;
  /** The user's live code of `purpose` (unconsumed, unexpired, attempts left, current epoch), if any. */
  liveCode(userId: string, purpose: ChallengePurpose, now: number): Promise<LiveCode | undefined>;
  /**
   * Spends one attempt of live code `id` and consumes it when `secretHash` matches, atomically:
   * of two concurrent right guesses exactly one is `consumed`.
   */
  useCode(id: string, secretHash: string, now: number): Promise<CodeUse>;
}
