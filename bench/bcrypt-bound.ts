/**
 * The login ceiling: how many bcrypt comparisons per second this process manages with the same
 * cost and the same libuv pool (UV_THREADPOOL_SIZE) as the server, pinned like the server.
 * Usage: bcrypt-bound.ts <rounds> <concurrency> <seconds>; prints one JSON line.
 */
import bcrypt from 'bcrypt';

async function main(): Promise<void> {
  const [rounds = 10, concurrency = 16, seconds = 5] = process.argv.slice(2).map(Number);
  const password = 'correct horse battery staple';
  const hash = bcrypt.hashSync(password, rounds);
  // One comparison first, so the pool threads exist before the clock starts.
  await bcrypt.compare(password, hash);
  let completed = 0;
  let firstAt = 0n;
  let lastAt = 0n;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (process.hrtime.bigint() < deadline) {
        if (!(await bcrypt.compare(password, hash))) throw new Error('bcrypt.compare failed');
        completed++;
        lastAt = process.hrtime.bigint();
        if (firstAt === 0n) firstAt = lastAt;
      }
    }),
  );
  const durationS = Number(process.hrtime.bigint() - started) / 1e9;
  const pool = process.env.UV_THREADPOOL_SIZE ?? '4';
    // Same estimator as the login load's steady rate: completions between the first and the last.
  const perS = completed > 1 ? ((completed - 1) * 1e9) / Number(lastAt - firstAt) : completed / durationS;
  process.stdout.write(`${JSON.stringify({ rounds, concurrency, threadpool: Number(pool), completed, durationS, perS })}\n`);
}

void main();
