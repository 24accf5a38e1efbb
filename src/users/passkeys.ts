/**
 * Passkeys of an account (README, "Passkeys"): WebAuthn credentials and the challenges a
 * registration or sign-in answers. The store sees public keys and hashes of challenges only.
 * Every use is one atomic step: a challenge is taken once, a signature counter only grows, so of
 * two concurrent uses exactly one wins, whichever instance serves them.
 *
 * Every `now` is milliseconds since the epoch, from the caller's Clock. Backing-store failures are
 * thrown as `StoreError('service_unavailable')`.
 */
export interface Passkey {
  /** Ours (random): names the passkey in /jts/passkeys/:id. */
  id: string;
  userId: string;
  /** The WebAuthn credential id, base64url, as the authenticator reports it. Unique across accounts. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The last signature counter seen (0: the authenticator keeps none). */
  signCount: number;
  /** Hints for the browser (`internal`, `hybrid`, `usb`, …), as reported at registration. */
  transports: string[];
  /** `multiDevice`: a synced passkey (may exist on several devices); `singleDevice`: bound to one. */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  name: string;
  createdAt: number;
  lastUsedAt: number | undefined;
}

export type NewPasskey = Omit<Passkey, 'lastUsedAt'>;

export type ChallengePurposeWebAuthn = 'register' | 'login' | 'mfa';

export interface NewWebAuthnChallenge {
  /** Hex SHA-256 of the challenge (never the challenge itself). */
  challengeHash: string;
  purpose: ChallengePurposeWebAuthn;
  /** The account it was issued for (registration, second factor); undefined for a passwordless sign-in. */
  userId: string | undefined;
  /**
   * What else it is bound to, compared on use: the user for a registration, the MFA ticket's hash
   * for a second factor, the client's hash for a passwordless sign-in (auth/passkeys.ts).
   */
  binding: string;
  createdAt: number;
  expiresAt: number;
}

export type TakenWebAuthnChallenge = Pick<NewWebAuthnChallenge, 'purpose' | 'userId' | 'binding'>;

/** What one verified assertion changes on its passkey. */
export interface PasskeyUse {
  signCount: number;
  backedUp: boolean;
  now: number;
}

export interface PasskeyStore {
  /** Stores a new passkey; `exists` (nothing written) when its credential id is registered already, to any account. */
  add(passkey: NewPasskey): Promise<'added' | 'exists'>;
  byCredentialId(credentialId: string): Promise<Passkey | undefined>;
  /** The user's passkeys, oldest first. */
  list(userId: string): Promise<Passkey[]>;
  count(userId: string): Promise<number>;
  /** False when the user has no passkey with this id. */
  rename(userId: string, id: string, name: string): Promise<boolean>;
  /** False when the user has no passkey with this id. */
  remove(userId: string, id: string): Promise<boolean>;
  /**
   * Records a verified use iff its counter moves the stored one on (atomic): `signCount` greater
   * than the stored counter, or both 0 (an authenticator that keeps no counter). False otherwise —
   * a counter that stood still or went back means two authenticators hold the key (a clone) or a
   * concurrent use of the same assertion won.
   */
  recordUse(id: string, use: PasskeyUse): Promise<boolean>;
  /** Stores a challenge (and deletes expired ones). */
  issueChallenge(challenge: NewWebAuthnChallenge): Promise<void>;
  /** Takes a live challenge of this purpose (atomic: deleted as it is read); undefined when unknown, used, expired or of another purpose. */
  takeChallenge(challengeHash: string, purpose: ChallengePurposeWebAuthn, now: number): Promise<TakenWebAuthnChallenge | undefined>;
}
