import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../scripts/lib/free-port';
import { PrivateRedis, waitFor } from '../../support/redis-server';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const OUTPUT_DIR = join(ROOT, 'test-output', 'e2e');

export interface E2eServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the built server (`node dist/server.js`, as in production) on a free port with its own
 * redis-server and a throw-away key directory. Its output goes to test-output/e2e/<name>.server.log.
 */
export async function startServer(name: string, env: Record<string, string> = {}, options: StartOptions = {}): Promise<E2eServer> {
  const entry = join(ROOT, 'dist', 'server.js');
  if (!existsSync(entry)) throw new Error('dist/server.js is missing: run `npm run test:e2e` (it builds first) or `npm run build`');
  mkdirSync(OUTPUT_DIR, { recursive: true });
  // freePort() makes a lost port unlikely, not impossible: another listener may still take it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(entry, name, env, options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

class PortTaken extends Error {}

export interface StartOptions {
  /**
   * The host name of the server's URL and issuer (it still listens on 127.0.0.1). `localhost` for
   * passkeys: browsers refuse an IP address as WebAuthn RP ID.
   */
  hostname?: 'localhost';
}

async function startOnce(entry: string, name: string, env: Record<string, string>, options: StartOptions): Promise<E2eServer> {
  const redis = await PrivateRedis.start();
  const keys = mkdtempSync(join(tmpdir(), 'jts-e2e-keys-'));
  // An initialised cluster the server opens as it would its own after a first start (it still runs
  // the migrations): PGlite's initdb is about ten seconds of CPU per server otherwise.
  const dataDir = join(keys, 'data');
  cpSync(await initialisedDataDir(), dataDir, { recursive: true });
  const port = await freePort();
  const url = `http://${options.hostname ?? '127.0.0.1'}:${port}`;
  const log = createWriteStream(join(OUTPUT_DIR, `${name}.server.log`));

  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      // The embedded accounts database, in this server's throw-away folder.
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url,
      JTS_AUDIENCE: url,
      JTS_PRIVATE_KEY_PATH: join(keys, 'signing-key.pem'),
      JTS_PUBLIC_KEY_PATH: join(keys, 'signing-key.pub.pem'),
      JTS_STATE_PROOF_SECRET_PATH: join(keys, 'state-proof.secret'),
      JTS_DEMO_USERS: 'true',
      BCRYPT_ROUNDS: '10',
      // Three e2e files and their browsers share two cores: a Redis reply starved past the default
      // bound once answered a page's call 503 (correctly). The browser tests are not about that.
      REDIS_COMMAND_TIMEOUT: '5000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The last lines are kept for the error message: CI keeps the console, not test-output/.
  let tail = '';
  const record = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-2000);
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    await redis.destroy();
    rmSync(keys, { recursive: true, force: true });
  };

  try {
    // 60 s: a fresh PGlite (initdb in WASM) took 26 s to /readyz while other suites loaded the two
    // cores (load average 15); with 20 s every e2e suite failed there.
    await waitFor(async () => {
      if (child.exitCode !== null) {
        const Failure = tail.includes('EADDRINUSE') ? PortTaken : Error;
        throw new Failure(`the server exited with code ${child.exitCode}; its output (test-output/e2e/${name}.server.log) ends with:\n${tail}`);
      }
      try {
        return (await fetch(`${url}/readyz`)).ok;
      } catch {
        return false;
      }
    }, 60_000, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/**
 * A PGlite data folder initialised once per PGlite version and kept in the temp folder between runs
 * (initdb's output depends on nothing else). Made under a temporary name and renamed: several e2e
 * workers may race to make it, and a half-made one is never used.
 */
async function initialisedDataDir(): Promise<string> {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
  const path = join(tmpdir(), `jts-e2e-pglite-${version}`);
  if (existsSync(path)) return path;
  const partial = mkdtempSync(`${path}.partial-`);
  const script = "const { PGlite } = await import('@electric-sql/pglite'); const db = await PGlite.create(process.argv[1]); await db.close();";
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, partial], { cwd: ROOT });
  try {
    renameSync(partial, path);
  } catch {
    // Another worker's folder got there first: it is as good as ours.
    rmSync(partial, { recursive: true, force: true });
  }
  return path;
}
