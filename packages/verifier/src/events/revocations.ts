import type { Clock } from '../clock.js';

/** A full sweep at most this often; lookups drop expired entries themselves in between. */
const SWEEP_INTERVAL_MS = 30_000;
/** How long the id of an event that revokes nothing is kept to recognise it again. */
const OTHER_EVENT_MEMORY_MS = 10 * 60_000;

/**
 * The sessions revoked by the feed, each kept only until no BearerPass of it can be alive
 * (`jts_not_after` plus the clock tolerance), and the ids of the events seen, kept as long:
 * memory follows the revocations of one BearerPass lifetime, never the feed's whole history.
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

  /** False for an event id already seen (a redelivery or a replay): nothing to do. */
  firstSighting(jti: string, keepUntilMs: number = this.clock.now() + OTHER_EVENT_MEMORY_MS): boolean {
    const now = this.clock.now();
    const until = this.seen.get(jti);
    if (until !== undefined && until >= now) return false;
    this.seen.set(jti, keepUntilMs);
    this.maybeSweep(now);
    return true;
  }

  /** Remembers `aid` until `notAfterSeconds` + tolerance; an already expired revocation is not kept. */
  revoke(aid: string, notAfterSeconds: number): void {
    const until = notAfterSeconds * 1000 + this.toleranceMs;
    if (until < this.clock.now()) return;
    this.sessions.set(aid, Math.max(until, this.sessions.get(aid) ?? 0));
  }

  /** When `jti`'s revocation of a session lapses (for the event-id memory). */
  keepUntil(notAfterSeconds: number): number {
    return Math.max(notAfterSeconds * 1000 + this.toleranceMs, this.clock.now() + OTHER_EVENT_MEMORY_MS);
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
