import type { SessionPolicy } from './policy.js';

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

export type NewSession = Omit<SessionRecord, 'generation' | 'lastActiveAt'>;

export type SessionState =
  | { state: 'active'; generation: number; createdAt: number; deviceHash: string | undefined }
  | { state: 'compromised' }
  | { state: 'missing' };

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
  /**
   * Rotate only while the user exists, is enabled and holds exactly these permissions: the ones
   * the BearerPass was minted with when the caller did not read the user first. Otherwise the
   * outcome is 'stale' and nothing is written.
   */
  onlyIfUser?: { permissions: readonly string[] };
}

export type RotateResult =
  | { outcome: 'rotated'; generation: number }
  /** The same StateProof again within the window: hand back what the first renewal produced. */
  | { outcome: 'grace'; generation: number; sealedBearerPass: string }
  | { outcome: 'replay'; revoked: string[] }
  | { outcome: 'compromised' }
  /** Only with `onlyIfUser`, when the user no longer matches it. */
  | { outcome: 'stale' }
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
  rotate(request: RotateRequest): Promise<RotateResult>;
  list(prn: string, now: number): Promise<SessionRecord[]>;
  /** True when the session existed. */
  revoke(prn: string, aid: string): Promise<boolean>;
  /** Ends every session of the user except `keepAid`; returns the ended aids. */
  revokeAll(prn: string, keepAid?: string): Promise<string[]>;
  ping(): Promise<void>;
}
