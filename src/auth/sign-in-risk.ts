import { createHash } from 'node:crypto';
import { normaliseEmail } from '../users/types.js';
import type { AuditSink } from './audit.js';
import type { ClientContext } from './client-info.js';

/** A fixed-window counter (redis/rate-limit-store.ts windowCounter: Redis with a TTL, or memory). */
export interface FailureCounter {
  add(key: string): Promise<number>;
  count(key: string): Promise<number>;
}

export interface SignInRiskDeps {
  /** Failed sign-ins per account address from unknown devices, over JTS_RISK_FAILED_SIGN_INS's window. */
  counter: FailureCounter;
  /** JTS_RISK_FAILED_SIGN_INS's count: from this many failures on, unknown devices need an emailed code. */
  threshold: number;
  audit: AuditSink;
  /**
   * Called once per window when an existing account's failures reach the threshold (the operators'
   * webhooks hook in here). Must not throw; it is not awaited.
   */
  onFailureThreshold?: (prn: string) => void;
  /** The counter's store failed: logged by the caller; the sign-in goes on as without step-up. */
  onCounterError: (error: unknown) => void;
  /**
   * With notices on: whether a presented known-device value is still one of the account's recorded
   * devices (not forgotten by "this wasn't me", seen within the window). Asked only past the
   * threshold. Absent: a valid known-device value is enough.
   */
  stillKnown?: (email: string, knownDevice: string) => Promise<boolean>;
}

/**
 * Risk-based step-up instead of lockout (README, "Security notices"). Failed password sign-ins to
 * one address from clients that show no known-device value of that account are counted; from
 * `threshold` on, a password sign-in from such a client answers `email_code_required` — whether
 * the password was right or not, so the answer is no oracle for the guesser — and the owner signs
 * in with an emailed code (POST /jts/login/code) instead. A browser or app that signed in to the
 * account before (its known-device cookie or header) is neither counted nor asked — with notices on,
 * only while it is still among the account's recorded devices (`stillKnown`).
 *
 * Counted per normalised address, existing account or not, so the step-up says nothing about
 * whether an account exists. A counter outage fails open (as the rate limiters do): the sign-in is
 * checked as without step-up, and the failure is logged.
 */
export class SignInRisk {
  constructor(private readonly deps: SignInRiskDeps) {}

  /** Whether a password sign-in to `email` from `client` must take the emailed-code way. */
  async stepUpRequired(email: string, client: ClientContext): Promise<boolean> {
    const { knownDevice } = client;
    const { stillKnown } = this.deps;
    if (knownDevice !== undefined && stillKnown === undefined) return false;
    let past: boolean;
    try {
      past = (await this.deps.counter.count(keyOf(email))) >= this.deps.threshold;
    } catch (error) {
      this.deps.onCounterError(error);
      return false;
    }
    // Only under attack is the device's record read (one query): an intruder's browser whose
    // sign-in was reported keeps a validly signed cookie, but not its place among the devices.
    if (!past || knownDevice === undefined || stillKnown === undefined) return past;
    return !(await stillKnown(email, knownDevice));
  }

  /** Counts a failed password sign-in to `email` (of account `prn` when one exists) from `client`. */
  async failed(email: string, prn: string | undefined, client: ClientContext): Promise<void> {
    const { knownDevice } = client;
    const { stillKnown } = this.deps;
    if (knownDevice !== undefined && stillKnown === undefined) return;
    try {
      // A signed value no longer among the account's devices (a reported intruder's) is counted like
      // any unknown client: else its holder guessed the owner's new password with no step-up at all.
      if (knownDevice !== undefined && (await stillKnown?.(email, knownDevice))) return;
      const failures = await this.deps.counter.add(keyOf(email));
      if (failures !== this.deps.threshold) return;
      this.deps.audit({ event: 'risk.threshold', ...(prn === undefined ? {} : { prn }) });
      if (prn !== undefined) this.deps.onFailureThreshold?.(prn);
    } catch (error) {
      this.deps.onCounterError(error);
    }
  }
}

/** Hashed: counter keys in Redis name no address. */
function keyOf(email: string): string {
  return createHash('sha256').update(`risk:${normaliseEmail(email)}`).digest('base64url').slice(0, 32);
}
