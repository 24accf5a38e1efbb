/**
 * Work that must not run on the request path: the answer to "mail me a link" must not wait for,
 * or depend on, looking the account up and issuing the challenge, or its timing would say whether
 * the account exists. A failed task is handed to `onError` (logged and counted by the caller),
 * never to the requester.
 */
export class BackgroundWork {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly onError: (error: unknown, task: string) => void) {}

  /** Starts `work` after the current request's answer is on its way (next macrotask). */
  run(task: string, work: () => Promise<void>): void {
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => {
        this.onError(error, task);
      })
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Resolves once every task started so far has finished (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
