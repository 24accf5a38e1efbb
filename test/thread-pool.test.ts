import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const linux = process.platform === 'linux';

(linux ? describe : describe.skip)('lowerThreadPoolPriority', () => {
  test('renices exactly the libuv pool threads it starts, 7 steps below the event loop, and nothing else', () => {
    const child = spawnSync(process.execPath, ['--require', 'esbuild-register', join(__dirname, 'support', 'thread-pool-child.ts')], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '3' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
    const result = JSON.parse(child.stdout) as { reniced: number; again: number; pool: number[]; main: number; others: number[] };
    const nicer = Math.min(19, result.main + 7);
    expect(result.reniced).toBe(3);
    expect(result.pool).toEqual([nicer, nicer, nicer]);
    expect(result.others.every((nice) => nice === result.main)).toBe(true);
    // Once the pool runs, nothing new appears and nothing else is touched.
    expect(result.again).toBe(0);
  });
});
