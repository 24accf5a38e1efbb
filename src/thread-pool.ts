import { readdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';

/**
 * How much nicer than the event loop libuv's thread pool runs. bcrypt runs there; at the event
 * loop's priority a login burst takes the CPU from every other request (measured on one core:
 * verify p50 1.5 ms → 8–13 ms under 16 concurrent logins). At +10 the event loop (and a Redis on
 * the same host) goes first, and bcrypt still gets all the CPU the event loop leaves: an idle
 * server logs in as fast as before, and a saturated event loop still leaves the pool about 30 %
 * of a core (four threads of weight 110 against the loop's 1024).
 */
export const THREAD_POOL_NICENESS = 10;

/** The highest niceness Linux has. */
const MAX_NICENESS = 19;

/**
 * Lowers the scheduling priority of libuv's thread pool below the event loop's (Linux only,
 * best effort). It must run before anything else uses the pool: it starts the pool — libuv
 * creates all UV_THREADPOOL_SIZE threads at the first request — and renices the threads that
 * appeared, `by` steps nicer than the calling (main) thread. Returns how many threads it reniced
 * (0 when the pool was already running, or elsewhere than Linux).
 */
export async function lowerThreadPoolPriority(by: number = THREAD_POOL_NICENESS): Promise<number> {
  if (process.platform !== 'linux') return 0;
  const niceness = Math.min(MAX_NICENESS, getPriority() + by);
  let before: Set<string>;
  try {
    before = new Set(readdirSync('/proc/self/task'));
  } catch {
    return 0;
  }
  // Any pool request starts the whole pool; its threads exist once the request is submitted.
  await access('/proc/self').catch(() => undefined);
  let reniced = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    if (before.has(tid)) continue;
    try {
      // On Linux a thread id is a valid `pid` for setpriority(2), and raising niceness needs no privilege.
      setPriority(Number(tid), niceness);
      reniced++;
    } catch {
      // The thread may have ended meanwhile; nothing to do.
    }
  }
  return reniced;
}
