import type { Bearer } from './jts-bearer.js';

/** When renewal fails for a reason other than a dead session (network, 5xx, 429), try again after this. */
const RETRY_MS = 2000;

/**
 * This tab's BearerPass, in memory only, and the timer that asks for its renewal when it is due.
 * It decides when to renew; SharedSession decides how (single-flight, under the cross-tab lock).
 */
export class TokenState {
  private current: Bearer | undefined;
  private since = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** @param onRenewalDue called when the BearerPass reaches its renewal point, or a retry is due. */
  constructor(private readonly onRenewalDue: () => void) {
    // Timers are throttled in hidden tabs; catch up as soon as the tab is seen again.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.current && Date.now() >= this.current.renewAt) this.onRenewalDue();
    });
  }

  /** The BearerPass, or undefined when signed out. */
  get bearer(): Bearer | undefined {
    return this.current;
  }

  /** When this tab's current session began; older 'signed-out' broadcasts do not concern it. */
  get sessionSince(): number {
    return this.since;
  }

  /** Makes `bearer` this tab's BearerPass and schedules its renewal. */
  adopt(bearer: Bearer, sessionSince: number): void {
    this.current = bearer;
    this.since = sessionSince;
    this.schedule(bearer.renewAt);
  }

  /** Forgets the BearerPass and cancels its renewal; returns whether there was one. */
  clear(): boolean {
    const hadBearer = this.current !== undefined;
    this.current = undefined;
    this.since = Date.now();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return hadBearer;
  }

  /** After a failed renewal: try again shortly, as long as the current BearerPass outlives the wait. */
  scheduleRetry(): void {
    const bearer = this.current;
    if (bearer && Date.now() + RETRY_MS < bearer.expiresAt) this.schedule(Date.now() + RETRY_MS);
  }

  private schedule(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onRenewalDue();
    }, Math.max(0, at - Date.now()));
  }
}
