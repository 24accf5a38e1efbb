import type { RetrySchedule } from '../config/webhooks.js';

/** The defaults: 5 s, 10 s, 20 s … capped at one hour, 12 attempts over ~2 h 25 min. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = { baseMs: 5000, maxDelayMs: 3_600_000, maxAttempts: 12 };

/** ±20 %: deliveries that failed together (a receiver down) do not all come back in the same second. */
const JITTER = 0.2;

/**
 * The wait after the `attempt`-th failed attempt (1-based), or undefined when that was the last.
 * `random` in [0, 1) (Math.random; tests pin it).
 */
export function retryDelayMs(attempt: number, schedule: RetrySchedule, random: () => number = Math.random): number | undefined {
  if (attempt >= schedule.maxAttempts) return undefined;
  const nominal = Math.min(schedule.baseMs * 2 ** (attempt - 1), schedule.maxDelayMs);
  return Math.round(nominal * (1 - JITTER + 2 * JITTER * random()));
}

/** The nominal waits of a schedule (no jitter), for the README and the start-up log. */
export function nominalDelaysMs(schedule: RetrySchedule): number[] {
  return Array.from({ length: schedule.maxAttempts - 1 }, (_, i) => Math.min(schedule.baseMs * 2 ** i, schedule.maxDelayMs));
}
