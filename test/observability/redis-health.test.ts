import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createRedisClient } from '../../src/redis/connect';
import { logRedisHealth } from '../../src/observability/redis-health';
import { PrivateRedis, waitFor } from '../support/redis-server';
import { freePort } from '../../scripts/lib/free-port';
import { built } from '../support/built';

interface Line {
  level: number;
  msg: string;
  error?: { message?: string; code?: string; stack?: string };
  downMs?: number;
  source?: string;
}

/** Issue 14 item 11: a Redis outage is two log lines (down, back up), whatever the reconnect attempts. */
describe('Redis health log', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('logs down once and back up once with the outage duration, not each reconnect attempt', async () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _e, done) { lines.push(JSON.parse(chunk.toString()) as Line); done(); } }));
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 500 });
    let attempts = 0;
    client.on('error', () => {
      attempts++;
    });
    logRedisHealth(client, logger, { redis: redis.url, secrets: {} });
    try {
      await waitFor(() => client.status === 'ready', 5_000);
      await redis.stop();
      await waitFor(() => attempts >= 4, 15_000);
      const atInfoOrAbove = () => lines.filter((line) => line.level >= 30);
      expect(atInfoOrAbove()).toHaveLength(1);
      const [down] = atInfoOrAbove();
      expect(down).toMatchObject({ level: 40, msg: expect.stringContaining('redis unavailable') as string });
      expect(down?.error?.message).toMatch(/\S/);
      expect(down?.error).not.toHaveProperty('stack');
      expect(down).not.toHaveProperty('err');
      // The attempts in between exist, at debug only.
      expect(lines.filter((line) => line.level === 20).length).toBeGreaterThanOrEqual(3);

      await redis.start();
      await waitFor(() => client.status === 'ready', 10_000);
      const up = atInfoOrAbove().slice(1);
      expect(up).toEqual([expect.objectContaining({ level: 30, downMs: expect.any(Number) as number, msg: expect.stringMatching(/^redis available again after \d+\.\d s$/) as string })]);
      expect(up[0]!.downMs).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  }, 40_000);

  it('keeps stdout of the server pure JSON: ioredis\'s [WARN] for a password Redis does not need is a JSON line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jts-console-'));
    const port = await freePort();
    const child = spawn(process.execPath, [built('server')], {
      cwd: join(__dirname, '../..'),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        DATA_DIR: 'memory://',
        JTS_DEMO_USERS: 'false',
        JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'),
        JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem'),
        JTS_STATE_PROOF_SECRET_PATH: join(dir, 'state-proof.secret'),
        REDIS_URL: `redis://:not-needed-Pa55@127.0.0.1:${redis.port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      await waitFor(() => stdout.includes('jts auth server listening') && stdout.includes('[WARN]'), 60_000);
    } catch (error) {
      throw new Error(`${String(error)}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
    const lines = stdout.trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as Line);
    expect(parsed.filter((line) => line.msg.includes('[WARN]'))).toEqual([expect.objectContaining({ level: 40, source: 'console' })]);
    expect(stderr).not.toContain('[WARN]');
    expect(stdout + stderr).not.toContain('not-needed-Pa55');
  }, 90_000);
});
