import type { RetrySchedule } from '../accounts/outbox-queue.js';

/** The defaults: 5 s, 10 s, 20 s … capped at one hour, 12 attempts over ~2 h 25 min. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = { baseMs: 5000, maxDelayMs: 3_600_000, maxAttempts: 12 };
