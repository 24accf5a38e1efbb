/**
 * npm run bench:scale [-- --sizes 1000,100000,1000000] [--smoke] [--rounds N] [--duration S] [--sample K]
 *                     [--user-runs R] [--bcrypt-rounds 4] [--tag name] [--note text] [--no-write]
 *
 * Cost at size (issue 22). For each N: a private redis-server and a fresh PostgreSQL schema, our
 * built server on them, N accounts (bulk insert) with their Redis mirrors and one live session
 * each (through the server's own components, bench/lib/scale-seed.ts), then login, verify and
 * renew loads drawing sessions at random across the seeded set, memory per account and per
 * session, list / revoke-all for a user with 100 sessions, and the expiry of half the sessions.
 * See bench/README.md ("Scale").
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { freePort } from '../scripts/lib/free-port.js';
import { PrivatePostgres } from '../test/support/postgres-server.js';
import { BenchRedis, canPin, launch, LOAD_CPU, type Managed, SERVER_CPU, sleep, waitFor } from './lib/processes.js';
import type { LoadRequest, LoadResult } from './lib/protocol.js';
import { openBuiltServer } from './lib/scale-built.js';
import { memoryUsage, redisMemory, ttlCensus, usersTableSize } from './lib/scale-memory.js';
import { buildScaleReport, type ScaleCase, type ScaleOptions, type ScaleSizeResult } from './lib/scale-report.js';
import { accountEmail, credentialsFor, SCALE_PASSWORD, seedAccounts, seedMirrors, seedSessions, type SeededSession } from './lib/scale-seed.js';
import { measureUserOps } from './lib/scale-user-ops.js';
import { cpuMs, LoadWorker } from './lib/worker-client.js';

const ROOT = resolve(__dirname, '..');

function parseOptions(): ScaleOptions {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      sample: { type: 'string' },
      'user-runs': { type: 'string' },
      'bcrypt-rounds': { type: 'string', default: '4' },
      tag: { type: 'string' },
      note: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const smoke = values.smoke;
  const sizes = (values.sizes ?? (smoke ? '1000' : '1000,100000,1000000')).split(',').map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 4)) throw new Error(`--sizes: whole numbers ≥ 4, comma-separated (got ${values.sizes ?? ''})`);
  return {
    smoke,
    sizes,
    rounds: Number(values.rounds ?? (smoke ? 1 : 3)),
    durationS: Number(values.duration ?? (smoke ? 1 : 5)),
    warmupS: smoke ? 0 : 1,
    sample: Number(values.sample ?? (smoke ? 1000 : 100_000)),
    userRuns: Number(values['user-runs'] ?? (smoke ? 20 : 200)),
    bcryptRounds: Number(values['bcrypt-rounds']),
    connections: 64,
    loginConnections: 16,
    write: !smoke && !values['no-write'],
    tag: values.tag,
    note: values.note,
    threadpool: process.env.UV_THREADPOOL_SIZE ?? '4',
  };
}

/** `count` distinct indexes of 0..range-1, uniformly at random (a partial Fisher–Yates shuffle). */
function drawDistinct(range: number, count: number): number[] {
  const pool = Array.from({ length: range }, (_, i) => i);
  const take = Math.min(count, range);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(Math.random() * (range - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, take);
}

class ScaleBench {
  readonly dir = mkdtempSync(join(os.tmpdir(), 'jts-scale-'));
  readonly keyPaths = { priv: join(this.dir, 'signing-key.pem'), pub: join(this.dir, 'signing-key.pub.pem'), secret: join(this.dir, 'state-proof.secret') };
  worker: LoadWorker | undefined;
  postgres: PrivatePostgres | undefined;
  private readonly cleanups: (() => Promise<void>)[] = [];

  constructor(
    readonly options: ScaleOptions,
    readonly pin: boolean,
    readonly log: (message: string) => void,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    writeFileSync(this.keyPaths.priv, privateKey, { mode: 0o600 });
    writeFileSync(this.keyPaths.pub, publicKey);
    writeFileSync(this.keyPaths.secret, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  }

  get serverCpu(): number | undefined {
    return this.pin ? SERVER_CPU : undefined;
  }

  /** The private PostgreSQL, pinned like the servers: every backend forks from the postmaster and inherits its CPU. */
  async startPostgres(): Promise<PrivatePostgres> {
    const server = await PrivatePostgres.start();
    this.postgres = server;
    if (this.pin) {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      // Read while the backend lives: its parent is the postmaster.
      const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
      await client.end();
      const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const pinning = launch('taskset', undefined, 'taskset', ['-a', '-p', '-c', String(SERVER_CPU), String(postmaster)], { PATH: process.env.PATH });
      if ((await pinning.exited) !== 0) throw new Error(`could not pin PostgreSQL: ${pinning.output()}`);
    }
    return server;
  }

  /** A fresh schema for one size; its URL puts it on the search path. */
  async schema(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
    const server = this.postgres ?? (await this.startPostgres());
    const schema = `scale_${name}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const url = new URL(server.url);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return {
      url: url.toString(),
      drop: async () => {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
        await client.end();
      },
    };
  }

  serverEnv(port: number, redisUrl: string, databaseUrl: string): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      UV_THREADPOOL_SIZE: this.options.threadpool,
      // test: allows bcrypt cost 4; nothing else differs.
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      JTS_DEMO_USERS: 'false',
      JTS_PRIVATE_KEY_PATH: this.keyPaths.priv,
      JTS_PUBLIC_KEY_PATH: this.keyPaths.pub,
      JTS_STATE_PROOF_SECRET_PATH: this.keyPaths.secret,
      JTS_REVOCATION_CHECK: 'strict',
      // The seeded BearerPasses outlive the size's run.
      JTS_BEARER_PASS_LIFETIME: '3600',
      BCRYPT_ROUNDS: String(this.options.bcryptRounds),
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
    };
  }

  async startServer(name: string, env: NodeJS.ProcessEnv): Promise<{ baseUrl: string; process: Managed }> {
    const child = launch(name, this.serverCpu, process.execPath, [join(ROOT, 'dist', 'server.js')], env);
    const baseUrl = `http://127.0.0.1:${env.PORT ?? ''}`;
    this.cleanups.push(() => child.stop());
    await waitFor(
      async () => {
        if (!child.running) throw new Error(`${name} exited:\n${child.output()}`);
        return (await fetch(`${baseUrl}/readyz`)).status === 200;
      },
      30_000,
      name,
    );
    return { baseUrl, process: child };
  }

  onCleanup(step: () => Promise<void>): void {
    this.cleanups.push(step);
  }

  async cleanupSize(): Promise<void> {
    for (const step of this.cleanups.splice(0).reverse()) {
      await step().catch((error: unknown) => {
        this.log(`cleanup: ${String(error)}`);
      });
    }
  }

  async close(): Promise<void> {
    this.worker?.stop();
    await this.cleanupSize();
    await this.postgres?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function runSize(bench: ScaleBench, n: number): Promise<ScaleSizeResult> {
  const { options, log } = bench;
  const redis = await BenchRedis.start(`redis-${n}`, bench.serverCpu);
  bench.onCleanup(() => redis.stop());
  const database = await bench.schema(String(n));
  bench.onCleanup(database.drop);
  const env = bench.serverEnv(await freePort(), redis.url, database.url);
  const server = await bench.startServer(`server-${n}`, env);
  // The seeder's own client may wait longer than a request would: it queues thousands of scripts at once.
  const built = await openBuiltServer({ ...env, REDIS_COMMAND_TIMEOUT: '20000' });
  bench.onCleanup(() => built.close());
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  bench.onCleanup(() => sql.end());
  const { tools } = built;

  // Accounts: N in PostgreSQL, plus one (index N) for the 100-session user.
  const tableEmpty = await usersTableSize(sql);
  const passwordHash = await bcrypt.hash(SCALE_PASSWORD, options.bcryptRounds);
  const now = Date.now();
  const accounts = await seedAccounts(sql, tools, { first: 0, count: n, passwordHash, now });
  const heavy = await seedAccounts(sql, tools, { first: n, count: 1, passwordHash, now });
  const tableFull = await usersTableSize(sql);
  log(`N=${n}: ${n} accounts inserted in ${accounts.durationS.toFixed(1)} s`);

  const memEmpty = await redisMemory(redis.client);
  const mirrorsS = await seedMirrors(tools, accounts, 0);
  await seedMirrors(tools, heavy, n);
  const memMirrors = await redisMemory(redis.client);
  log(`N=${n}: ${n} mirrors in ${mirrorsS.toFixed(1)} s`);

  // Sessions: the first half for the session's whole life; the second half all end at one moment
  // after the loads (their expiry is measured last), so the loads run with all N live.
  const longCount = Math.ceil(n / 2);
  const long = await seedSessions(tools, accounts.ids.slice(0, longCount), built.sessionLifetimeMs);
  const cases = 3;
  const plannedLoadMs = (cases * (options.warmupS + options.rounds * (options.durationS + 0.5)) + options.userRuns * 0.05 + Math.min(options.sample, longCount) * 2e-4) * 1000;
  const expiresAt = Math.round(Date.now() + long.durationS * 1500 + plannedLoadMs * 1.5 + 20_000);
  const short = await seedSessions(tools, accounts.ids.slice(longCount), (at) => expiresAt - at);
  const memSessions = await redisMemory(redis.client);
  const seedS = { accounts: accounts.durationS, mirrors: mirrorsS, sessions: long.durationS + short.durationS };
  log(`N=${n}: ${n} sessions in ${seedS.sessions.toFixed(1)} s (${n - longCount} of them end in ${((expiresAt - Date.now()) / 1000).toFixed(0)} s)`);

  const probe = drawDistinct(n, 1000).map((k) => (k < longCount ? long.sessions[k]! : short.sessions[k - longCount]!));
  const keyUsage = {
    session: await memoryUsage(redis.client, probe.map((s) => built.keys.session(s.prn, s.aid))),
    index: await memoryUsage(redis.client, probe.map((s) => built.keys.sessionIndex(s.prn))),
    mirror: await memoryUsage(redis.client, probe.map((s) => built.keys.userMirror(s.prn))),
  };

  // The loads draw at random from a sample of the long-lived sessions and accounts.
  const mintedAt = process.hrtime.bigint();
  const picked: SeededSession[] = drawDistinct(longCount, options.sample).map((k) => long.sessions[k]!);
  const issued = picked.map((session) => credentialsFor(tools, session, accounts.template));
  const mintS = Number(process.hrtime.bigint() - mintedAt) / 1e9;
  const logins = drawDistinct(longCount, options.sample).map((k) => ({ email: accountEmail(k), password: SCALE_PASSWORD }));
  let chains = issued.map((credentials) => credentials.stateProof);
  const worker = bench.worker!;
  const loadCase = (id: ScaleCase, request: () => LoadRequest, connections: number) => async (durationS: number) => {
    const pids = [server.process.child.pid, redis.process.child.pid];
    const before = pids.map(cpuMs);
    const result = await worker.run<LoadResult>({ kind: 'load', spec: { baseUrl: server.baseUrl, connections, durationS, request: request() } });
    const after = pids.map(cpuMs);
    const cpu = before.every((value) => value !== undefined) && after.every((value) => value !== undefined) ? { serverMs: after[0]! - before[0]!, redisMs: after[1]! - before[1]! } : undefined;
    return { id, result, ...(cpu ? { cpu } : {}) };
  };
  const runs = [
    loadCase('verify', () => ({ type: 'bearer', path: '/api/profile', tokens: issued.map((credentials) => credentials.bearerPass), pick: 'random' }), options.connections),
    async (durationS: number) => {
      const sample = await loadCase('renew', () => ({ type: 'renew', chains, pick: 'random' }), Math.min(options.connections, chains.length))(durationS);
      // A chain lost (non-200) stays out of the next runs; the report counts it.
      chains = (sample.result.chains ?? chains).filter((chain) => chain !== '');
      return sample;
    },
    loadCase('login', () => ({ type: 'login', credentials: logins, pick: 'random' }), options.loginConnections),
  ];
  if (options.warmupS > 0) for (const run of runs) await run(options.warmupS);
  const samples: Awaited<ReturnType<(typeof runs)[number]>>[] = [];
  for (let r = 1; r <= options.rounds; r++) {
    for (const run of r % 2 === 1 ? runs : [...runs].reverse()) {
      const sample = await run(options.durationS);
      samples.push(sample);
      const { result } = sample;
      log(`N=${n} round ${r}/${options.rounds} ${sample.id.padEnd(7)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50.toFixed(2)} ms  p99 ${result.latency.p99.toFixed(2)} ms  non-2xx ${result.non2xx}  errors ${result.errors}${result.lost ? `  lost ${result.lost}` : ''}`);
      await sleep(200);
    }
  }
  const lastRenewAt = Date.now();

  const userOps = await measureUserOps({ baseUrl: server.baseUrl, tools, store: built.store, prn: heavy.ids[0]!, template: accounts.template, lifetimeMs: built.sessionLifetimeMs, runs: options.userRuns });
  log(`N=${n}: list / revoke-others of 100 sessions × ${options.userRuns}: HTTP p99 ${userOps.http.list.p99.toFixed(2)} / ${userOps.http.revokeOthers.p99.toFixed(2)} ms`);

  // Expiry: the grace slots of the last renewals go first (their TTL is the grace window + 1 s), then the short half.
  await sleep(Math.max(0, lastRenewAt + built.rotationGraceMs + 2000 - Date.now()));
  await ttlCensus(redis.client);
  const memBeforeExpiry = await redisMemory(redis.client);
  const loadsOverranExpiry = Date.now() > expiresAt;
  await sleep(Math.max(0, expiresAt + 1000 - Date.now()));
  // Redis's own active expiry, until the key count stops falling (at most 30 s).
  let memActive = await redisMemory(redis.client);
  for (let waited = 0; waited < 30_000; waited += 1000) {
    await sleep(1000);
    const point = await redisMemory(redis.client);
    if (point.keys === memActive.keys) break;
    memActive = point;
  }
  const census = await ttlCensus(redis.client);
  const memAfterExpiry = await redisMemory(redis.client);
  log(`N=${n}: expiry of ${n - longCount} sessions freed ${(memBeforeExpiry.usedMemory - memAfterExpiry.usedMemory).toLocaleString('en')} bytes; census in ${census.durationS.toFixed(1)} s`);

  await bench.cleanupSize();
  return {
    n,
    seedS,
    mintS,
    sampled: picked.length,
    pg: { empty: tableEmpty, full: tableFull },
    redis: { empty: memEmpty, mirrors: memMirrors, sessions: memSessions, beforeExpiry: memBeforeExpiry, activeExpiry: memActive, afterExpiry: memAfterExpiry },
    keyUsage,
    expired: n - longCount,
    loadsOverranExpiry,
    census,
    samples,
    userOps,
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  const pin = canPin(os.cpus().length);
  const started = Date.now();
  const log = (message: string) => process.stderr.write(`[scale ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  const bench = new ScaleBench(options, pin, log);
  const cleanup = () => {
    void bench.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    log(pin ? `pinning: server, Redis and PostgreSQL on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU} (taskset)` : 'pinning: off (no taskset or fewer than 2 CPUs)');
    bench.worker = await LoadWorker.start(pin ? LOAD_CPU : undefined);
    await bench.startPostgres();
    const results: ScaleSizeResult[] = [];
    let redisVersion = 'unknown';
    for (const n of options.sizes) {
      const sizeStarted = Date.now();
      results.push(await runSize(bench, n));
      log(`N=${n}: done in ${((Date.now() - sizeStarted) / 1000).toFixed(0)} s`);
    }
    const probe = await BenchRedis.start('redis-version', undefined);
    redisVersion = await probe.version();
    await probe.stop();
    const machine = {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      redis: redisVersion,
      pinning: pin ? `server, Redis, PostgreSQL: taskset -c ${SERVER_CPU}; load generator: taskset -c ${LOAD_CPU}` : 'none',
      loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
      totalS: Math.round((Date.now() - started) / 1000),
    };
    const report = buildScaleReport(options, machine, results);
    process.stdout.write(`\n${report.markdown}\n`);
    if (options.write) {
      const dir = join(ROOT, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const base = `${new Date().toISOString().slice(0, 10)}-scale${options.tag ? `-${options.tag}` : ''}`;
      writeFileSync(join(dir, `${base}.md`), report.markdown);
      writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(report.json, null, 2)}\n`);
      log(`wrote bench/results/${base}.md and .json`);
    }
  } finally {
    await bench.close();
    log('done');
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`scale bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
