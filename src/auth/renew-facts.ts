import type { StepUp } from '../sessions/types.js';

/**
 * What a renewal mints its BearerPass from, remembered per session so the next renewal can skip
 * reading the session and the user and go straight to the rotate step (one Redis round trip, not
 * two). Nothing here is trusted on its own:
 * - createdAt (the sign-in's auth_time), deviceHash and amr never change for an aid, and aids are
 *   never reused;
 * - stepUp changes with every POST /jts/reauth, so the rotation is conditional on it too: a step-up
 *   recorded by another instance makes the remembered facts 'stale' at the next renewal here;
 * - permissions, the credential epoch and emailVerified can change, so the rotation is made
 *   conditional on them (SessionStore.rotateConfirmingUser), and the store refuses it atomically
 *   when the user's mirror changed, was disabled or is gone.
 */
export interface RenewFacts {
  /** Ms since the epoch: the session's creation, which is the sign-in. */
  createdAt: number;
  deviceHash: string | undefined;
  permissions: string[];
  credentialEpoch: number;
  /** RFC 8176 values of the sign-in; undefined for a session stored before they were. */
  amr: readonly string[] | undefined;
  emailVerified: boolean;
  /** The session's latest step-up, which the BearerPass claims instead of the sign-in; absent: none. */
  stepUp?: StepUp | undefined;
  /**
   * The session's device description, fixed at sign-in: what a theft alert names when a replay
   * ends the session (its hash is gone by then). Absent: not known (the alert says "a session").
   */
  device?: string | undefined;
}

/** About 2 MB. Past it, the least recently renewed sessions simply take the full path. */
export const RENEW_FACTS_CAPACITY = 10_000;

/** A bounded map, least recently used out first. Capacity 0 turns it off. */
export class RenewFactsCache {
  private readonly entries = new Map<string, RenewFacts>();

  constructor(private readonly capacity = RENEW_FACTS_CAPACITY) {}

  get(prn: string, aid: string): RenewFacts | undefined {
    const key = keyOf(prn, aid);
    const facts = this.entries.get(key);
    if (facts) {
      // Re-inserted so Map order is recency order.
      this.entries.delete(key);
      this.entries.set(key, facts);
    }
    return facts;
  }

  set(prn: string, aid: string, facts: RenewFacts): void {
    if (this.capacity === 0) return;
    const key = keyOf(prn, aid);
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, facts);
  }

  delete(prn: string, aid: string): void {
    this.entries.delete(keyOf(prn, aid));
  }

  /**
   * Drops the sessions `aids` of `prn`, for sessions this instance ended. Only an optimisation:
   * another instance may end a session too, and then the store refuses the renewal all the same.
   */
  forget(prn: string, aids: readonly string[]): void {
    for (const aid of aids) this.entries.delete(keyOf(prn, aid));
  }

  get size(): number {
    return this.entries.size;
  }
}

// Neither part can contain a space: both are base64url ids the server issued (StateProof parse).
const keyOf = (prn: string, aid: string) => `${prn} ${aid}`;
