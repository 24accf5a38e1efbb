/** Run by test/thread-pool.test.ts in a fresh process (whose libuv pool has not started yet). */
import { readdirSync, readFileSync } from 'node:fs';
import { lowerThreadPoolPriority } from '../../src/thread-pool';

function niceness(tid: string): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // Field 19 of stat, counted from the state field (3) after the command name.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

async function main(): Promise<void> {
  const before = new Set(readdirSync('/proc/self/task'));
  const reniced = await lowerThreadPoolPriority(7);
  const threads = readdirSync('/proc/self/task').filter((tid) => !before.has(tid));
  const again = await lowerThreadPoolPriority(7);
  process.stdout.write(
    JSON.stringify({ reniced, again, pool: threads.map(niceness), main: niceness(String(process.pid)), others: [...before].filter((tid) => tid !== String(process.pid)).map(niceness) }),
  );
}

void main();
