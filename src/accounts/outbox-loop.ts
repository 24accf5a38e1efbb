/**
 * A background loop of an outbox worker (webhook relay and delivery, notice delivery, the
 * retention purge): runs `work` now and then `everyMs` after each pass ends, never two passes at
 * once. A failed pass (database or Redis down) is reported and the loop goes on: on the first
 * failure after a success, then at most once a minute while failures last, not at every poll.
 */
export class PollingLoop {
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  /** A wake() came during a pass: another pass follows at once. */
  private again = false;
  /** When the failure was last reported (undefined: the last pass succeeded). */
  private failingSince: number | undefined;

  constructor(
    private readonly work: () => Promise<unknown>,
    private readonly everyMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  get started(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    if (!this.pass) this.run();
  }

  /**
   * Runs a pass now (after the one under way), instead of at the next poll; before `start`, a
   * single pass (new work is tried at once, the polling that retries it is `start`'s).
   */
  wake(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.run();
  }

  /** Resolves when no pass is under way or asked for (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pass) await this.pass;
  }

  /** Stops the loop and waits for the pass under way. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    this.again = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  private run(): void {
    this.again = false;
    const pass = this.work()
      .then(() => {
        this.failingSince = undefined;
      })
      .catch((error: unknown) => {
        const now = Date.now();
        if (this.failingSince !== undefined && now - this.failingSince < 60_000) return;
        this.failingSince = now;
        this.onError(error);
      })
      .finally(() => {
        this.pass = undefined;
        if (this.again && !this.stopped) {
          this.run();
          return;
        }
        if (!this.running) return;
        this.timer = setTimeout(() => {
          this.run();
        }, this.everyMs);
        this.timer.unref();
      });
    this.pass = pass;
  }
}
