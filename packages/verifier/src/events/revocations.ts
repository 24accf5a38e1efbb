import type { Clock } from '../clock.js';

/** A full sweep at most this often; lookups drop expired entries themselves in between. */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * The sessions revoked by the feed, each kept only until no BearerPass of it can be alive
 * (`jts_not_after` plus the clock tolerance), and the ids (jti) of those events, kept as long (a
 * copy arriving later changes nothing): memory follows the revocations of one BearerPass
 * lifetime, never the feed's whole history.
 */
export class RevokedSessions {
  /** aid → ms after which it is forgotten. */
  private readonly sessions = new Map<string, number>();
  /** jti → ms after which it is forgotten. */
  private readonly seen = new Map<string, number>();
  private lastSweep: number;

  constructor(
    private readonly clock: Clock,
    private readonly toleranceMs: number,
  ) {
    this.lastSweep = clock.now();
  }

  /**
   * Remembers that event `jti` revoked `aid` until `notAfterSeconds` + tolerance. Returns
   * 'duplicate' for an event id already held (a redelivery or a replay), 'expired' for a
   * revocation whose BearerPasses are all dead already (nothing to keep), else 'revoked'.
   */
  revoke(jti: string, aid: string, notAfterSeconds: number): 'revoked' | 'duplicate' | 'expired' {
    const now = this.clock.now();
    const known = this.seen.get(jti);
    if (known !== undefined && known >= now) return 'duplicate';
    const until = notAfterSeconds * 1000 + this.toleranceMs;
    if (until < now) return 'expired';
    this.maybeSweep(now);
    this.seen.set(jti, until);
    this.sessions.set(aid, Math.max(until, this.sessions.get(aid) ?? 0));
    return 'revoked';
  }

  has(aid: string): boolean {
    const until = this.sessions.get(aid);
    if (until === undefined) return false;
    if (until >= this.clock.now()) return true;
    this.sessions.delete(aid);
    return false;
  }

  /** Sessions held now, expired ones swept first. */
  get size(): number {
    this.sweep(this.clock.now());
    return this.sessions.size;
  }

  /** Entries of both maps (for tests of the memory bound). */
  get entries(): number {
    return this.sessions.size + this.seen.size;
  }

  private maybeSweep(now: number): void {
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [aid, until] of this.sessions) if (until < now) this.sessions.delete(aid);
    for (const [jti, until] of this.seen) if (until < now) this.seen.delete(jti);
  }
}
