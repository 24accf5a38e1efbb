import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const linux = process.platform === 'linux';

(linux ? describe : describe.skip)('lowerThreadPoolPriority', () => {
  test('renices exactly the libuv pool threads it starts, and leaves the event loop alone', () => {
    const child = spawnSync(process.execPath, ['--require', 'esbuild-register', join(__dirname, 'support', 'thread-pool-child.ts')], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '3' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    const result = JSON.parse(child.stdout) as { reniced: number; again: number; pool: number[]; main: number; others: number[] };
    expect(result.reniced).toBe(3);
    expect(result.pool).toEqual([7, 7, 7]);
    expect(result.main).toBe(0);
    expect(result.others.every((nice) => nice === 0)).toBe(true);
    // Once the pool runs, nothing new appears and nothing else is touched.
    expect(result.again).toBe(0);
  });
});
