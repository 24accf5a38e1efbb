import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/lib/free-port';

/** One short-lived connection to a Redis on loopback `port`, no retries; undefined when it does not answer. */
async function askRedis<T>(port: number, ask: (redis: Redis) => Promise<T>): Promise<T | undefined> {
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await ask(probe);
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}

/** True when a Redis on loopback `port` answers PING now. */
export async function redisAnswers(port: number): Promise<boolean> {
  return (await askRedis(port, (redis) => redis.ping())) !== undefined;
}

function redisProcessId(port: number): Promise<number | undefined> {
  return askRedis(port, async (redis) => Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]));
}

/** A private redis-server the tests own: they can stop and restart it to test failures. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'jts-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    // freePort() makes a lost port unlikely, not impossible: another listener may still take it.
    for (let attempt = 1; ; attempt++) {
      const redis = new PrivateRedis(await freePort());
      try {
        await redis.start();
        return redis;
      } catch (error) {
        await redis.destroy();
        if (attempt === 3) throw error;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' });
    this.child = child;
    // A redis-server that could not bind exits at once; the PING must not reach someone else's.
    const running = () => child.exitCode === null;
    await waitFor(async () => {
      if (!running()) throw new Error(`redis-server on port ${this.port} exited with code ${String(child.exitCode)}`);
      return redisAnswers(this.port);
    }, 10_000);
    // A redis-server that could not bind may not have exited yet: the one answering must be ours.
    if ((await redisProcessId(this.port)) !== child.pid) throw new Error(`another redis-server answers on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
      child.kill('SIGKILL');
    });
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
