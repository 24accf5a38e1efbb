import type { SessionPolicy } from './policy.js';
import type { SessionEndCause } from './security-events.js';

/** Why revokeAll ends sessions; `credentialChange` also publishes a credential-change event (password change, reset). */
export type RevokeAllCause = SessionEndCause & { credentialChange?: boolean };

/** What a session keeps. Never a StateProof: only its current generation (see jts/state-proof.ts). */
export interface SessionRecord {
  prn: string;
  aid: string;
  generation: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Last login or renewal. */
  lastActiveAt: number;
  /** Human description of the client, derived from its User-Agent. */
  device: string;
  /** Masked client address, e.g. "203.0.113.x". */
  ipPrefix: string;
  /** SHA-256 of the X-JTS-Device-ID bound at login, if any. */
  deviceHash: string | undefined;
}

/**
 * A session as sign-in creates it. `createdAt` is also the sign-in's `auth_time` (OIDC Core §2):
 * the session is created the moment the credential was checked, so it is not stored twice.
 */
export type NewSession = Omit<SessionRecord, 'generation' | 'lastActiveAt'> & {
  /** How the user signed in: RFC 8176 `amr` values, e.g. `['pwd']`, `['otp']`. Stored, never changed. */
  amr: readonly string[];
  /** The user's credential epoch the sign-in was checked under (see UserSecurity.credentialEpoch). */
  credentialEpoch: number;
};

/**
 * An active session also says how it was signed in. `amr` and `credentialEpoch` are undefined for
 * a session written by a build before they were stored (it renews; see Renewal).
 */
export type SessionState =
  | { state: 'active'; generation: number; createdAt: number; deviceHash: string | undefined; amr: string[] | undefined; credentialEpoch: number | undefined; stepUp: StepUp | undefined; /** SessionRecord.device: what a theft alert names once the session is gone. */ device: string }
  | { state: 'compromised' }
  | { state: 'missing' };

/**
 * The session's latest step-up (POST /jts/reauth): when the user last proved a credential again on
 * this session, and by which methods. Once present, every BearerPass of the session carries these
 * as `auth_time` and `amr` instead of the sign-in's (createdAt and `amr`).
 */
export interface StepUp {
  /** Milliseconds since the epoch. */
  authTime: number;
  /** RFC 8176 values, e.g. `['pwd']`, `['pwd', 'otp', 'mfa']`. */
  amr: readonly string[];
}

/**
 * What recording a step-up finds: `stepped` (written), `missing` (no live session), `compromised`
 * (a replay tombstone), `superseded` (the session was signed in under an older credential epoch
 * than the user's mirror holds), `credentials_changed` (the mirror is disabled, absent, or its
 * epoch is not the one the credential was checked under: a password change or a disable raced
 * the check). Only `stepped` writes anything.
 */
export type StepUpResult = 'stepped' | 'missing' | 'compromised' | 'superseded' | 'credentials_changed';

export interface RotateRequest {
  prn: string;
  aid: string;
  /** Generation of the StateProof that was presented. */
  presented: number;
  /** The BearerPass minted for this renewal, sealed for the grace window. */
  sealedBearerPass: string;
  now: number;
  graceMs: number;
  /** How long a compromised session is remembered (so its BearerPasses get JTS-401-05). */
  tombstoneMs: number;
  replayRevoke: 'session' | 'principal';
}

/**
 * What the hot paths need to know about a user, mirrored next to their sessions (in Redis, in the
 * user's hash slot) by every change of the account: the system of record is PostgreSQL, which
 * verify and renew never wait on.
 */
export interface UserSecurity {
  disabled: boolean;
  permissions: readonly string[];
  /** Grows with every password change (see User.credentialEpoch). */
  credentialEpoch: number;
  /** The account row's version (see User.version): an older one never replaces a newer one. */
  version: number;
  /** users.email_verified; a mirror written before it was mirrored reads as false (see decodeUserMirror). */
  emailVerified: boolean;
  /**
   * What `GET /api/profile` shows, mirrored so that the demo API never waits on SQL either. Always
   * written; undefined when read from a mirror written before it was (the reader then asks SQL).
   */
  profile?: UserProfile;
}

/** The user's public profile fields, as the mirror keeps them. */
export interface UserProfile {
  email: string;
  name: string;
}

/** How putUser decides; see PutUserMode in redis-keys.ts, which the memory store follows too. */
export interface PutUserOptions {
  /** Default `newer`. */
  mode?: 'absent' | 'newer' | 'repair';
  /** The stricter state written before a SQL write (MirroredUserStore): `repair` may replace it. */
  restriction?: boolean;
  /**
   * ms the mirror lives at least from now (the longest a session lives, see MirroredUserStore);
   * never shortens an expiry already set; absent: the expiry is left as it is. Creating a session
   * extends the mirror's life to the session's.
   */
  expiresInMs?: number;
}

/** What a rotation from remembered facts expects the user to be (see rotateConfirmingUser). */
/**
 * What a rotation from remembered facts expects the user to be (see rotateConfirmingUser), and
 * the session's step-up it remembers (absent: none): a step-up recorded since, on any instance,
 * makes it 'stale'.
 */
export type ExpectedUser = Pick<UserSecurity, 'permissions' | 'credentialEpoch' | 'emailVerified'> & { stepUp?: StepUp | undefined };

export type RotateResult =
  | { outcome: 'rotated'; generation: number }
  /** The same StateProof again within the window: hand back what the first renewal produced. */
  | { outcome: 'grace'; generation: number; sealedBearerPass: string }
  | { outcome: 'replay'; revoked: string[] }
  | { outcome: 'compromised' }
  /** Only from rotateConfirmingUser, when the user's mirror no longer matches what was expected. */
  | { outcome: 'stale' }
  /**
   * The user's credential epoch moved past the one the session was signed in under (a password
   * change or reset it raced): the session has been deleted, nothing was rotated.
   */
  | { outcome: 'superseded' }
  | { outcome: 'missing' };

export interface CreateResult {
  /** Sessions ended by the policy to make room. */
  evicted: string[];
}

/**
 * Session storage. Each method is one atomic step (a Lua script in Redis), so concurrent
 * requests can never fork or half-write a session. Failures of the backing store are thrown as
 * `StoreError('service_unavailable')`; expected outcomes are returned as values.
 */
export interface SessionStore {
  create(session: NewSession, options: { policy: SessionPolicy; lifetimeMs: number; now: number }): Promise<CreateResult>;
  state(prn: string, aid: string): Promise<SessionState>;
  /** One renewal of the session alone (the caller has read the user): never 'stale'. */
  rotate(request: RotateRequest): Promise<RotateResult>;
  /**
   * The session-plus-user rotation of the fast path: rotates only while the user's mirror exists,
   * is enabled, holds exactly `user.permissions` (in order), `user.credentialEpoch` and
   * `user.emailVerified`, and the session's step-up is still `user.stepUp`;
   * otherwise 'stale', with nothing written — decided in the same atomic step as the rotation.
   */
  rotateConfirmingUser(request: RotateRequest, user: ExpectedUser): Promise<RotateResult>;
  /** The session's state and its user's mirror (undefined when there is none), in one round trip. */
  sessionAndUser(prn: string, aid: string): Promise<{ session: SessionState; user: UserSecurity | undefined }>;
  /**
   * Writes the user's mirror, unless it holds a higher version (`mode: 'newer'`, the default). With
   * `mode: 'absent'` (the rebuild at sign-in) an existing mirror is left as it is, since a change
   * being written may have put it there; `mode: 'repair'` (resync) also replaces a restriction of
   * a higher version. Resolves true when written.
   */
  putUser(prn: string, user: UserSecurity, options?: PutUserOptions): Promise<boolean>;
  /** The profile the user's mirror holds; undefined without a mirror or one written before profiles were. */
  userProfile(prn: string): Promise<UserProfile | undefined>;
  /** Deletes the user's mirror (the account was deleted; its sessions are ended separately). */
  removeUser(prn: string): Promise<void>;
  list(prn: string, now: number): Promise<SessionRecord[]>;
  /**
   * Records a step-up on a live session (replacing an earlier one), leaving its generation, its
   * StateProofs and its grace slot as they are. `credentialEpoch` is the user's epoch the credential
   * was checked under. One atomic step with the checks of StepUpResult.
   */
  stepUp(prn: string, aid: string, stepUp: StepUp, credentialEpoch: number): Promise<StepUpResult>;
  /**
   * True when the session existed. Every ending publishes a security event with `cause` in the
   * same atomic step (see security-events.ts; on a Redis Cluster right after it); so do evictions
   * by `create` (reason `evicted`) and the sessions a replay ends in `rotate` (`replay_detected`).
   */
  revoke(prn: string, aid: string, cause: SessionEndCause): Promise<boolean>;
  /**
   * Ends every session of the user except `keepAid`; returns the ended aids. With `keepEpoch`, the
   * kept session (if live) is re-signed-in under that credential epoch (a password change keeps
   * the session that made it, which must outlive its own epoch bump).
   */
  revokeAll(prn: string, cause: RevokeAllCause, keepAid?: string, keepEpoch?: number): Promise<string[]>;
  ping(): Promise<void>;
}
