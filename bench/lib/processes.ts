import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/lib/free-port.js';

/** CPU 0: servers and Redis; CPU 1: the load generator. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

let tasksetChecked: boolean | undefined;

/** True when `taskset` runs here and the machine has the two CPUs we pin to. */
export function canPin(cpuCount: number): boolean {
  tasksetChecked ??= cpuCount >= 2 && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return tasksetChecked;
}

/** The command line, prefixed with `taskset -c <cpu>` when pinning. */
export function pinned(cpu: number | undefined, command: string, args: string[]): [string, string[]] {
  return cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A child process whose recent output is kept for error messages. */
export class Managed {
  private tail: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.tail.push(chunk.toString('utf8'));
      if (this.tail.length > 40) this.tail.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        resolve(code);
      });
    });
  }

  output(): string {
    return this.tail.join('').slice(-4000);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function launch(name: string, cpu: number | undefined, command: string, args: string[], env: NodeJS.ProcessEnv, stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): Managed {
  const [cmd, argv] = pinned(cpu, command, args);
  return new Managed(name, spawn(cmd, argv, { env, stdio }));
}

/** A private redis-server (no persistence) on a free port. */
export class BenchRedis {
  private constructor(
    readonly process: Managed,
    readonly port: number,
    readonly client: Redis,
    private readonly dir: string,
  ) {}

  static async start(name: string, cpu: number | undefined): Promise<BenchRedis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'jts-bench-redis-'));
    const child = launch(name, cpu, 'redis-server', [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      // The slow log keeps the arguments of slow commands (on a busy machine, any command): memory the sessions did not use.
      ...['--slowlog-log-slower-than', '-1'],
    ], { ...process.env });
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    await waitFor(
      async () => {
        if (!child.running) throw new Error(`redis-server exited: ${child.output()}`);
        if (client.status === 'wait') await client.connect();
        await client.ping();
        return true;
      },
      10_000,
      name,
    );
    return new BenchRedis(child, port, client, dir);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async version(): Promise<string> {
    const info = await this.client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  }

  async stop(): Promise<void> {
    this.client.disconnect();
    await this.process.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
