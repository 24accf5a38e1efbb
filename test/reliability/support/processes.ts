import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freshDatabaseUrl } from '../../support/accounts';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { writeKeyPair, writeSecretFile } from '../../../src/key-files/files';
import { freePort } from '../../../scripts/lib/free-port';
import { redisAnswers, waitFor } from '../../support/redis-server';
import { built } from '../../support/built';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const LOG_DIR = join(ROOT, 'test-output', 'reliability');

/** True when the Debian redis-server (and redis-cli) can be run. */
export function redisBinariesPresent(): boolean {
  return ['redis-server', 'redis-cli'].every((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
}

/**
 * A redis-server the test owns, with extra arguments (persistence, cluster mode). Its directory
 * outlives stop()/start(), so with `--appendonly yes` a restart finds the data again.
 */
export class RedisProcess {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'jts-rel-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  static async start(extraArgs: string[] = []): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort(), extraArgs);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, ...this.extraArgs];
    if (!this.extraArgs.includes('--appendonly')) args.push('--appendonly', 'no');
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(() => redisAnswers(this.port), 10_000);
  }

  /** SIGKILL: the realistic crash. With AOF `appendfsync always` nothing acknowledged is lost. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((done) => {
      child.once('exit', () => {
        done();
      });
      child.kill('SIGKILL');
    });
    this.child = undefined;
  }

  /** A short-lived client for the test's own inspection. */
  client(): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    client.on('error', () => undefined);
    return client;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A local 3-master Redis Cluster on loopback ports, made with `redis-cli --cluster create`. */
export class RedisClusterProcesses {
  private constructor(readonly nodes: RedisProcess[]) {}

  static async start(masters = 3): Promise<RedisClusterProcesses> {
    const nodes: RedisProcess[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(await RedisProcess.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']));
      }
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`);
      await waitFor(
        () =>
          nodes.every((n) => {
            const info = spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' });
            return info.stdout.includes('cluster_state:ok');
          }),
        20_000,
        100,
      );
    } catch (error) {
      for (const node of nodes) await node.destroy();
      throw error;
    }
    return new RedisClusterProcesses(nodes);
  }

  get addresses(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.destroy();
  }
}

/** A throw-away directory with a signing key pair and a StateProof secret, shared by instances. */
export async function makeKeyDir(): Promise<{ dir: string; privateKey: string; publicKey: string; secret: string; env: Record<string, string>; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'jts-rel-keys-'));
  const privateKey = join(dir, 'signing-key.pem');
  const publicKey = join(dir, 'signing-key.pub.pem');
  const secret = join(dir, 'state-proof.secret');
  await writeKeyPair({ privateKeyPath: privateKey, publicKeyPath: publicKey }, 'ES256', { force: true });
  await writeSecretFile(secret, { force: true });
  return {
    dir,
    privateKey,
    publicKey,
    secret,
    /** The three variables that point a server at these files. */
    env: { JTS_PRIVATE_KEY_PATH: privateKey, JTS_PUBLIC_KEY_PATH: publicKey, JTS_STATE_PROOF_SECRET_PATH: secret },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ChildServerOptions {
  /** Names the log file: test-output/reliability/<name>.log. */
  name: string;
  env: Record<string, string>;
  /** Wait for /readyz (default) or only /healthz (when Redis is meant to be down). */
  waitFor?: 'ready' | 'alive';
  port?: number;
}

/**
 * The real server (the build, `node dist/server.js`) as a separate process,
 * the way it runs in production. stdout and stderr are kept (for "no Unhandled") and logged.
 */
export class ChildServer {
  private output = '';
  private readonly log: WriteStream;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    mkdirSync(LOG_DIR, { recursive: true });
    this.log = createWriteStream(join(LOG_DIR, `${name}.log`));
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      // Keep the last 2 MB for assertions; the log file has everything.
      this.output = (this.output + text).slice(-2_000_000);
      this.log.write(text);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => {
      child.once('exit', (code, signal) => {
        done({ code, signal });
      });
    });
  }

  /**
   * Starts a server and waits until it answers. A port drawn by freePort() can be taken by another
   * test process before the child binds it: then, unless the caller chose the port, it starts
   * again on another one (as the e2e harness does).
   */
  static async start(options: ChildServerOptions, attempt = 1): Promise<ChildServer> {
    try {
      return await ChildServer.startOnce(options);
    } catch (error) {
      const portTaken = error instanceof Error && error.message.includes('EADDRINUSE');
      if (!portTaken || options.port !== undefined || attempt >= 3) throw error;
      return ChildServer.start(options, attempt + 1);
    }
  }

  private static async startOnce(options: ChildServerOptions): Promise<ChildServer> {
    const port = options.port ?? (await freePort());
    const cwd = mkdtempSync(join(tmpdir(), 'jts-rel-cwd-'));
    // Accounts in a fresh schema of the run's PostgreSQL unless the test shares one between servers.
    const database = options.env.DATABASE_URL === undefined && options.env.DATA_DIR === undefined ? { DATABASE_URL: await freshDatabaseUrl() } : {};
    const child = spawn(process.execPath, [built('server')], {
      // An empty working directory: no stray .env or ./keys is picked up.
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        BCRYPT_ROUNDS: '4',
        JTS_DEMO_USERS: 'false',
        JTS_AUDIENCE: 'http://jts.reliability.test',
        ...database,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ChildServer(options.name, port, child);
    const path = options.waitFor === 'alive' ? '/healthz' : '/readyz';
    try {
      await waitFor(async () => {
        if (!server.alive) throw new Error(`${options.name} exited during start-up:\n${server.output.slice(-4000)}`);
        try {
          return (await fetch(`${server.url}${path}`)).ok;
        } catch {
          return false;
        }
      }, 30_000, 100);
    } catch (error) {
      await server.kill('SIGKILL');
      throw error;
    } finally {
      void server.exited.then(() => {
        rmSync(cwd, { recursive: true, force: true });
      });
    }
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process printed so far. */
  get logs(): string {
    return this.output;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.alive) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (!this.log.writableEnded) {
      await new Promise<void>((done) => {
        this.log.end(() => {
          done();
        });
      });
    }
  }
}

/** A Redis Sentinel (redis-server --sentinel) watching one master under `name`. */
export class SentinelProcess {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'jts-rel-sentinel-'));

  private constructor(readonly port: number) {}

  static async start(name: string, master: { host: string; port: number }): Promise<SentinelProcess> {
    const sentinel = new SentinelProcess(await freePort());
    const conf = join(sentinel.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinel.port}`,
        'bind 127.0.0.1',
        `dir ${sentinel.dir}`,
        `sentinel monitor ${name} ${master.host} ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'),
    );
    sentinel.child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    await waitFor(() => redisAnswers(sentinel.port), 10_000);
    return sentinel;
  }

  async destroy(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((done) => {
        child.once('exit', () => {
          done();
        });
        child.kill('SIGKILL');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
