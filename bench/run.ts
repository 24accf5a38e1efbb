/**
 * npm run bench [-- --smoke] [--rounds N] [--duration S] [--only public,verify,...] [--bcrypt-rounds 10|12]
 *               [--tag name] [--no-write] [--write] [--cpu-prof]
 *
 * Starts our built server (Redis store, memory store, revocation check off, and one at the real
 * bcrypt cost for logins), a private redis-server and a plain Express hello-world (the floor),
 * and drives them with autocannon from a child process, interleaving the cases round by round.
 * See bench/README.md for how to read the output.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Credentials, Job, LoadResult, LoadSpec, ProbeResult, ProbeSpec, SessionBatch } from './lib/protocol.js';
import { cpuMs, LoadWorker } from './lib/worker-client.js';
import { BenchRedis, canPin, launch, LOAD_CPU, type Managed, SERVER_CPU, sleep, waitFor } from './lib/processes.js';
import { freePort } from '../scripts/lib/free-port.js';
import { PrivatePostgres } from '../test/support/postgres-server.js';
import pg from 'pg';
import { median, round } from './lib/stats.js';

const ROOT = resolve(__dirname, '..');
const SCENARIOS = ['public', 'verify', 'introspect', 'verify-stateless', 'renew', 'login', 'login-flood', 'memory', 'stack'] as const;
/** `stack` (what each middleware layer costs) runs only when asked for with --only. */
const DEFAULT_SCENARIOS = SCENARIOS.filter((name) => name !== 'stack');
type Scenario = (typeof SCENARIOS)[number];

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  smoke: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  scenarios: Set<Scenario>;
  bcryptRounds: number;
  write: boolean;
  tag: string | undefined;
  cpuProf: boolean;
  connections: number;
  verifySessions: number;
  renewSessions: number;
  loginConnections: number;
  probeRatePerS: number;
  memory: { users: number; logins: number; renewed: number; renews: number; graceS: number };
  threadpool: string;
  /** A second build (a directory holding dist/ and package.json) measured in the same rounds as `redis-ab`. */
  ab: string | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      only: { type: 'string' },
      'bcrypt-rounds': { type: 'string', default: '10' },
      tag: { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      ab: { type: 'string' },
    },
    strict: true,
  });
  const smoke = values.smoke;
  const scenarios = new Set<Scenario>(values.only === undefined ? DEFAULT_SCENARIOS : values.only.split(',').map((name) => {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})`);
    return name as Scenario;
  }));
  return {
    smoke,
    rounds: Number(values.rounds ?? (smoke ? 1 : 5)),
    durationS: Number(values.duration ?? (smoke ? 1 : 5)),
    warmupS: smoke ? 0 : 1,
    scenarios,
    bcryptRounds: Number(values['bcrypt-rounds']),
    write: values.write ?? (!smoke && !values['no-write']),
    tag: values.tag,
    cpuProf: values['cpu-prof'],
    connections: 64,
    verifySessions: smoke ? 8 : 64,
    renewSessions: smoke ? 16 : 256,
    loginConnections: 16,
    probeRatePerS: 200,
    // Smoke: no grace window (NODE_ENV=test allows 0), so no waiting for it to pass.
    memory: smoke ? { users: 50, logins: 500, renewed: 50, renews: 10, graceS: 0 } : { users: 1000, logins: 10_000, renewed: 1000, renews: 100, graceS: 10 },
    threadpool: process.env.UV_THREADPOOL_SIZE ?? '4',
    ab: values.ab === undefined ? undefined : resolve(values.ab),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers

interface Server {
  name: string;
  baseUrl: string;
  process: Managed;
  /** The Redis it uses, whose CPU time is counted with the server's. */
  redis?: BenchRedis;
}


interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
  pinned: boolean;
  pinning: string;
  threadpool: string;
}

class Bench {
  readonly servers: Server[] = [];
  readonly redises: BenchRedis[] = [];
  readonly dir = mkdtempSync(join(os.tmpdir(), 'jts-bench-'));
  readonly profileDir = join(ROOT, 'bench', 'results', 'profiles');
  readonly keyPaths = { priv: join(this.dir, 'signing-key.pem'), pub: join(this.dir, 'signing-key.pub.pem'), secret: join(this.dir, 'state-proof.secret') };
  worker: LoadWorker | undefined;

  constructor(
    readonly options: Options,
    readonly pin: boolean,
  ) {
    // One key pair and StateProof secret for every server, so a BearerPass from one is valid on all.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    writeFileSync(this.keyPaths.priv, privateKey, { mode: 0o600 });
    writeFileSync(this.keyPaths.pub, publicKey);
    writeFileSync(this.keyPaths.secret, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  }

  get serverCpu(): number | undefined {
    return this.pin ? SERVER_CPU : undefined;
  }

  private postgres: Promise<PrivatePostgres> | undefined;
  private readonly schemas = new Map<string, Promise<string>>();

  /**
   * The accounts database of the servers that share one Redis (as instances of one deployment
   * do, so a BearerPass of one is a live session with a known account on all): a schema on one
   * private PostgreSQL, as in production, never the embedded PGlite (several servers share a core
   * here, and PGlite's start is slow and single-process). Servers migrate it at start-up.
   */
  databaseUrl(deployment: string): Promise<string> {
    let url = this.schemas.get(deployment);
    if (url === undefined) {
      url = this.createSchema(deployment);
      this.schemas.set(deployment, url);
    }
    return url;
  }

  /**
   * Registers a service client in the accounts database of `deployment` (its servers migrated it
   * at start-up) and waits for their client reload (JTS_CLIENTS_REFRESH=1); returns its Basic header.
   */
  async registerClient(deployment: string): Promise<string> {
    const secret = randomBytes(32).toString('base64url');
    const client = new pg.Client({ connectionString: await this.databaseUrl(deployment) });
    await client.connect();
    try {
      const now = new Date();
      await client.query('INSERT INTO clients (id, secret_hash, scopes, audience, disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, false, $5, $5)', [
        'bench',
        createHash('sha256').update(secret).digest('base64url'),
        [],
        'https://bench.example.com',
        now,
      ]);
    } finally {
      await client.end();
    }
    await sleep(1500);
    return `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`;
  }

  private async createSchema(name: string): Promise<string> {
    this.postgres ??= PrivatePostgres.start();
    const server = await this.postgres;
    const schema = `bench_${name.replace(/[^a-z0-9]/gi, '_')}_${randomBytes(3).toString('hex')}`;
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
    } finally {
      await client.end();
    }
    const url = new URL(server.url);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return url.toString();
  }

  async redis(name: string): Promise<BenchRedis> {
    const redis = await BenchRedis.start(name, this.serverCpu);
    this.redises.push(redis);
    return redis;
  }

  /** Our built server (dist/server.js), configured for benchmarking. */
  async ours(name: string, env: { redis?: BenchRedis; redisUrl?: string; revocation: 'strict' | 'off'; bcryptRounds: number; graceS?: number; ablate?: string[]; root?: string }): Promise<Server> {
    const port = await freePort();
    const nodeArgs = this.options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
    if (this.options.cpuProf) mkdirSync(this.profileDir, { recursive: true });
    const serverEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      UV_THREADPOOL_SIZE: this.options.threadpool,
      // test: allows bcrypt cost 4 for the setup logins of the verify/renew servers; nothing else differs.
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      JTS_DEMO_USERS: 'false',
      JTS_PRIVATE_KEY_PATH: this.keyPaths.priv,
      JTS_PUBLIC_KEY_PATH: this.keyPaths.pub,
      JTS_STATE_PROOF_SECRET_PATH: this.keyPaths.secret,
      // One issuer and audience for every server (unset, both follow PORT): verify-stateless presents
      // the Redis server's BearerPasses to the revocation-off server, which refused all of them.
      JTS_ISSUER: 'http://bench.localhost',
      JTS_AUDIENCE: 'http://bench.localhost',
      JTS_REVOCATION_CHECK: env.revocation,
      // Long enough that the setup's BearerPasses outlive the whole run.
      JTS_BEARER_PASS_LIFETIME: '3600',
      // The introspect scenario registers its client after start-up; one reload query a second is noise.
      JTS_CLIENTS_REFRESH: '1',
      BCRYPT_ROUNDS: String(env.bcryptRounds),
      ...(env.graceS === undefined ? {} : { JTS_ROTATION_GRACE: String(env.graceS) }),
      ...(env.redisUrl === undefined ? {} : { REDIS_URL: env.redisUrl }),
      ...(env.ablate === undefined ? {} : { ABLATE: env.ablate.join(',') }),
      DATABASE_URL: await this.databaseUrl(env.redisUrl ?? name),
    };
    const entry = env.ablate === undefined ? [join(env.root ?? ROOT, 'dist', 'server.js')] : ['--import', 'tsx', join(__dirname, 'ablation-server.ts')];
    const child = launch(name, this.serverCpu, process.execPath, [...nodeArgs, ...entry], serverEnv);
    const server: Server = { name, baseUrl: `http://127.0.0.1:${port}`, process: child, ...(env.redis ? { redis: env.redis } : {}) };
    this.servers.push(server);
    await waitFor(
      async () => {
        if (!child.running) throw new Error(`${name} exited:\n${child.output()}`);
        return (await fetch(`${server.baseUrl}/readyz`)).status === 200;
      },
      60_000,
      name,
    );
    return server;
  }

  async floor(): Promise<Server> {
    const port = await freePort();
    // One file per thread in its own folder: tsx's module loader runs on a thread of its own.
    const nodeArgs = this.options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(this.profileDir, 'floor')}`] : [];
    const child = launch('floor', this.serverCpu, process.execPath, [...nodeArgs, '--import', 'tsx', join(__dirname, 'baseline-server.ts')], { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), NODE_ENV: 'production' });
    const server = { name: 'floor', baseUrl: `http://127.0.0.1:${port}`, process: child };
    this.servers.push(server);
    await waitFor(
      async () => {
        if (!child.running) throw new Error(`floor exited:\n${child.output()}`);
        return (await fetch(`${server.baseUrl}/api/public`)).status === 200;
      },
      60_000,
      'floor',
    );
    return server;
  }

  load(spec: LoadSpec): Promise<LoadResult> {
    return this.worker!.run<LoadResult>({ kind: 'load', spec });
  }

  /** Runs a load against `server` and counts the CPU time it (and its Redis) spent meanwhile. */
  async measured(server: Server, spec: LoadSpec): Promise<Sample & { kind: 'load' }> {
    const before = [cpuMs(server.process.child.pid), cpuMs(server.redis?.process.child.pid)];
    const result = await this.load(spec);
    const after = [cpuMs(server.process.child.pid), cpuMs(server.redis?.process.child.pid)];
    const delta = (i: number) => (before[i] === undefined || after[i] === undefined ? undefined : after[i] - before[i]);
    const serverMs = delta(0);
    const redisMs = delta(1);
    return { kind: 'load', result, ...(serverMs === undefined ? {} : { cpu: { serverMs, ...(redisMs === undefined ? {} : { redisMs }) } }) };
  }

  probe(spec: ProbeSpec): Promise<ProbeResult> {
    return this.worker!.run<ProbeResult>({ kind: 'probe', spec });
  }

  async sessions(kind: 'register' | 'login', baseUrl: string, users: Credentials[], concurrency = 16): Promise<SessionBatch> {
    const job: Job = kind === 'register' ? { kind, baseUrl, users, concurrency } : { kind, baseUrl, logins: users, concurrency };
    const batch = await this.worker!.run<SessionBatch>(job);
    if (batch.failures > 0) {
      const server = this.servers.find((candidate) => candidate.baseUrl === baseUrl);
      throw new Error(`${kind} at ${baseUrl}: ${batch.failures} failed (${JSON.stringify(batch.failureStatuses)})\n${server?.process.output().slice(-3000) ?? ''}`);
    }
    return batch;
  }

  async bcryptBound(durationS: number): Promise<BoundResult> {
    const child = launch('bcrypt-bound', this.serverCpu, process.execPath, ['--import', 'tsx', join(__dirname, 'bcrypt-bound.ts'), String(this.options.bcryptRounds), String(this.options.loginConnections), String(durationS)], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      UV_THREADPOOL_SIZE: this.options.threadpool,
    });
    const code = await child.exited;
    const line = child.output().trim().split('\n').pop() ?? '';
    if (code !== 0) throw new Error(`bcrypt-bound failed: ${child.output()}`);
    return JSON.parse(line) as BoundResult;
  }

  async stopServers(names?: string[]): Promise<void> {
    const stopping = this.servers.filter((server) => names === undefined || names.includes(server.name));
    await Promise.all(stopping.map((server) => server.process.stop()));
    for (const server of stopping) this.servers.splice(this.servers.indexOf(server), 1);
  }

  async close(): Promise<void> {
    this.worker?.stop();
    await this.stopServers();
    await Promise.all(this.redises.map((redis) => redis.stop()));
    await (await this.postgres?.catch(() => undefined))?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface BoundResult {
  rounds: number;
  concurrency: number;
  threadpool: number;
  completed: number;
  durationS: number;
  perS: number;
}

// ---------------------------------------------------------------------------------------------
// Cases

type Sample = { kind: 'load'; result: LoadResult; cpu?: { serverMs: number; redisMs?: number } } | { kind: 'bound'; result: BoundResult } | { kind: 'probe'; result: ProbeResult; login?: LoadResult };

interface Case {
  id: string;
  scenario: Scenario;
  server: string;
  warm: boolean;
  run: (durationS: number) => Promise<Sample>;
}

/** Variants of our server for `stack`: the real app with these layers swapped for pass-throughs (bench/ablation-server.ts). */
const STACK_VARIANTS = [
  { name: 'full', ablate: [] },
  { name: 'no-observe', ablate: ['observe'] },
  { name: 'no-helmet', ablate: ['helmet'] },
  { name: 'no-cors', ablate: ['cors'] },
  { name: 'none-of-these', ablate: ['observe', 'helmet', 'cors'] },
];

const credentials = (prefix: string, count: number): Credentials[] =>
  Array.from({ length: count }, (_, i) => ({ email: `${prefix}-${i}@bench.example.com`, password: 'bench-password-1234', name: `Bench ${i}` }));

async function main(): Promise<void> {
  const options = parseOptions();
  const pin = canPin(os.cpus().length);
  const bench = new Bench(options, pin);
  const started = Date.now();
  const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  const cleanup = () => {
    void bench.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);

  try {
    log(pin ? `pinning: servers and Redis on CPU ${SERVER_CPU}, load generator on CPU ${LOAD_CPU} (taskset)` : 'pinning: off (no taskset or fewer than 2 CPUs)');
    log(`rate limits: RATE_LIMIT_ENABLED=false on every server; UV_THREADPOOL_SIZE=${options.threadpool}`);
    const { scenarios } = options;
    const wants = (...names: Scenario[]) => names.some((name) => scenarios.has(name));
    bench.worker = await LoadWorker.start(pin ? LOAD_CPU : undefined);

    const needRedis = wants('public', 'verify', 'introspect', 'verify-stateless', 'renew', 'login', 'login-flood', 'stack');
    const redisA = needRedis ? await bench.redis('redis') : undefined;
    // With --ab, "ours" and the A/B build are set up alike, each with a Redis of its own that no other
    // server shares: an A/A run (the same build in both slots) measured "ours" 7 % dearer on renew
    // while it shared its Redis with the idle login/revocation-off servers.
    const redisOurs = options.ab !== undefined && needRedis ? await bench.redis('redis-a') : redisA;
    const run = Date.now().toString(36);
    const [floor, redisStrict, memoryStrict, redisOff, login] = await Promise.all([
      wants('public', 'verify', 'introspect', 'verify-stateless', 'renew', 'stack') ? bench.floor() : undefined,
      needRedis && redisOurs ? bench.ours('redis', { redis: redisOurs, redisUrl: redisOurs.url, revocation: 'strict', bcryptRounds: 4 }) : undefined,
      wants('public', 'verify', 'renew') ? bench.ours('memory', { revocation: 'strict', bcryptRounds: 4 }) : undefined,
      wants('verify-stateless') && redisA ? bench.ours('redis-off', { redis: redisA, redisUrl: redisA.url, revocation: 'off', bcryptRounds: 4 }) : undefined,
      wants('login', 'login-flood') && redisA ? bench.ours('login', { redis: redisA, redisUrl: redisA.url, revocation: 'strict', bcryptRounds: options.bcryptRounds }) : undefined,
    ]);
    // The A/B build gets a Redis of its own: builds whose Redis schemas differ (the user hash became
    // a security mirror in 0.2) cannot share one, and each Redis's CPU is then that build's alone.
    const redisB = options.ab !== undefined && needRedis ? await bench.redis('redis-ab') : undefined;
    const ab = options.ab !== undefined && redisB ? await bench.ours('redis-ab', { redis: redisB, redisUrl: redisB.url, revocation: 'strict', bcryptRounds: 4, root: options.ab }) : undefined;
    const stack = wants('stack') && redisA ? await Promise.all(STACK_VARIANTS.map((variant) => bench.ours(`stack-${variant.name}`, { redis: redisA, redisUrl: redisA.url, revocation: 'strict', bcryptRounds: 4, ablate: variant.ablate }))) : [];
    log('servers ready: ' + bench.servers.map((server) => `${server.name} ${server.baseUrl}`).join(', '));

    // Setup: users, BearerPasses for verify, StateProof chains for renew (bcrypt cost 4 on these servers).
    const setup: Record<string, { tokens: string[]; chains: string[]; users: Credentials[] }> = {};
    for (const server of [redisStrict, memoryStrict, ab]) {
      if (!server) continue;
      const users = credentials(`${server.name}-${run}`, options.verifySessions);
      const registered = await bench.sessions('register', server.baseUrl, users);
      const chains = wants('renew')
        ? (await bench.sessions('login', server.baseUrl, Array.from({ length: options.renewSessions }, (_, i) => users[i % users.length]!))).stateProofs
        : [];
      setup[server.name] = { tokens: registered.bearerPasses, chains, users };
    }
    const loginUsers = credentials(`login-${run}`, options.loginConnections);
    if (login) await bench.sessions('register', login.baseUrl, loginUsers);
    log(`setup done: ${options.verifySessions} users and BearerPasses per store, ${wants('renew') ? options.renewSessions : 0} renew chains, ${login ? loginUsers.length : 0} login users (bcrypt cost ${options.bcryptRounds})`);

    /** Replaces chains a run could not continue with fresh sessions, so every round renews as many. */
    const refillChains = async (server: Server) => {
      const state = setup[server.name]!;
      const lost = state.chains.map((chain, i) => (chain === '' ? i : -1)).filter((i) => i >= 0);
      if (lost.length === 0) return;
      const fresh = await bench.sessions('login', server.baseUrl, lost.map((i) => state.users[i % state.users.length]!));
      lost.forEach((index, k) => (state.chains[index] = fresh.stateProofs[k]!));
    };

    const { connections } = options;
    const cases: Case[] = [];
    const loadCase = (scenario: Scenario, server: Server, request: LoadSpec['request'], conns = connections): Case => ({
      id: `${scenario}:${server.name}`,
      scenario,
      server: server.name,
      warm: true,
      run: (durationS) => bench.measured(server, { baseUrl: server.baseUrl, connections: conns, durationS, request }),
    });
    if (scenarios.has('public')) {
      for (const server of [floor, redisStrict, memoryStrict, ab]) if (server) cases.push(loadCase('public', server, { type: 'get', path: '/api/public' }));
    } else if (floor) {
      // Every ratio needs the floor, measured in the same rounds.
      cases.push(loadCase('public', floor, { type: 'get', path: '/api/public' }));
    }
    if (scenarios.has('verify')) {
      for (const server of [redisStrict, memoryStrict, ab]) if (server) cases.push(loadCase('verify', server, { type: 'bearer', path: '/api/profile', tokens: setup[server.name]!.tokens }));
    }
    if (scenarios.has('introspect') && redisStrict) {
      // The same users' BearerPasses as verify, introspected by one service client: signature and one session read per call.
      cases.push(loadCase('introspect', redisStrict, { type: 'introspect', authorization: await bench.registerClient(redisOurs?.url ?? 'redis'), tokens: setup.redis!.tokens }));
    }
    if (scenarios.has('verify-stateless') && redisOff) cases.push(loadCase('verify-stateless', redisOff, { type: 'bearer', path: '/api/profile', tokens: setup.redis!.tokens }));
    if (scenarios.has('renew')) {
      for (const server of [redisStrict, memoryStrict, ab]) {
        if (!server) continue;
        const state = setup[server.name]!;
        const conns = Math.min(connections, state.chains.length);
        cases.push({
          id: `renew:${server.name}`,
          scenario: 'renew',
          server: server.name,
          warm: true,
          run: async (durationS) => {
            await refillChains(server);
            const sample = await bench.measured(server, { baseUrl: server.baseUrl, connections: conns, durationS, request: { type: 'renew', chains: state.chains } });
            state.chains = sample.result.chains ?? state.chains;
            return sample;
          },
        });
      }
    }
    for (const server of stack) {
      cases.push(loadCase('stack', server, { type: 'get', path: '/api/public' }));
      cases.push({ ...loadCase('stack', server, { type: 'bearer', path: '/api/profile', tokens: setup.redis!.tokens }), id: `stack-verify:${server.name}` });
    }
    // bcrypt at cost 10+ keeps the pool busy after a login run stops: let it drain before the next case.
    let boundPerS: number | undefined;
    const drain = () => sleep(Math.round((options.loginConnections / (boundPerS ?? 1000 / (2 ** (options.bcryptRounds - 10) * 100))) * 1000 + 500));
    if (scenarios.has('login') && login) {
      cases.push({
        id: 'login:bcrypt-bound',
        scenario: 'login',
        server: 'bcrypt-bound',
        warm: false,
        run: async (durationS) => {
          const result = await bench.bcryptBound(durationS);
          boundPerS = result.perS;
          return { kind: 'bound', result };
        },
      });
      cases.push({
        id: 'login:login',
        scenario: 'login',
        server: 'login',
        warm: true,
        run: async (durationS) => {
          const sample = await bench.measured(login, { baseUrl: login.baseUrl, connections: options.loginConnections, durationS, request: { type: 'login', credentials: loginUsers } });
          await drain();
          return sample;
        },
      });
    }
    if (scenarios.has('login-flood') && login) {
      const tokens = setup.redis?.tokens ?? [];
      const probe = (durationS: number): ProbeSpec => ({ baseUrl: login.baseUrl, path: '/api/profile', tokens, ratePerS: options.probeRatePerS, durationS, sockets: 8 });
      cases.push({
        id: 'login-flood:idle',
        scenario: 'login-flood',
        server: 'login',
        warm: true,
        run: async (durationS) => ({ kind: 'probe', result: await bench.probe(probe(durationS)) }),
      });
      cases.push({
        id: 'login-flood:flood',
        scenario: 'login-flood',
        server: 'login',
        warm: false,
        run: async (durationS) => {
          const both = await bench.worker!.run<{ load: LoadResult; probe: ProbeResult }>({
            kind: 'flood',
            load: { baseUrl: login.baseUrl, connections: options.loginConnections, durationS, request: { type: 'login', credentials: loginUsers } },
            probe: probe(durationS),
          });
          await drain();
          return { kind: 'probe', result: both.probe, login: both.load };
        },
      });
    }

    if (options.warmupS > 0 && cases.length > 0) {
      log(`warm-up: ${options.warmupS} s per case`);
      for (const item of cases) if (item.warm) await item.run(options.warmupS);
    }

    const samples = new Map<string, Sample[]>(cases.map((item) => [item.id, []]));
    for (let r = 1; r <= options.rounds && cases.length > 0; r++) {
      // Odd rounds run the cases in order, even rounds in reverse: no case always follows the same
      // neighbour (a heavier case before it leaves work behind: GC, Redis expiry, caches).
      for (const item of r % 2 === 1 ? cases : [...cases].reverse()) {
        const sample = await item.run(options.durationS);
        samples.get(item.id)!.push(sample);
        log(`round ${r}/${options.rounds} ${item.id.padEnd(24)} ${describeSample(sample)}`);
        await sleep(200);
      }
    }

    const versions = { redis: redisA ? await redisA.version() : 'n/a' };
    let memory: MemoryResult | undefined;
    if (scenarios.has('memory')) {
      // Alone: stop the other servers first; a fresh Redis so that nothing else is in it.
      await bench.stopServers();
      memory = await memoryScenario(bench, options, log);
      if (versions.redis === 'n/a') versions.redis = memory.redisVersion;
    }

    const machine: Machine = {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      redis: versions.redis,
      pinned: pin,
      pinning: pin ? `servers + Redis: taskset -c ${SERVER_CPU}; load generator: taskset -c ${LOAD_CPU}` : 'none',
      threadpool: options.threadpool,
    };
    const report = buildReport(options, machine, cases, samples, memory);
    process.stdout.write(`\n${report.markdown}\n`);
    // Every request of a measured case must succeed: a case answering errors measures the error path
    // (verify-stateless refused every BearerPass for months while its row looked fine).
    const failed = report.summaries.filter((summary) => (summary.errors ?? 0) + (summary.non2xx ?? 0) > 0);
    if (failed.length > 0) {
      log(`FAILED: requests that did not succeed in ${failed.map((summary) => summary.id).join(', ')}`);
      process.exitCode = 1;
    }
    if (options.cpuProf) log(`CPU profiles are written to ${bench.profileDir} when the servers stop`);
    if (options.write) {
      const dir = join(ROOT, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const base = `${new Date().toISOString().slice(0, 10)}${options.tag ? `-${options.tag}` : ''}`;
      writeFileSync(join(dir, `${base}.md`), report.markdown);
      writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(report.json, null, 2)}\n`);
      log(`wrote bench/results/${base}.md and .json`);
    }
  } finally {
    await bench.close();
    log('done');
  }
}

function describeSample(sample: Sample): string {
  switch (sample.kind) {
    case 'load': {
      const r = sample.result;
      return `${(r.rps < 100 ? r.steadyRps.toFixed(1) : r.rps.toFixed(0)).padStart(6)} req/s  p50 ${r.latency.p50.toFixed(2)} ms  p99 ${r.latency.p99.toFixed(2)} ms  errors ${r.errors}  non-2xx ${r.non2xx}${r.lost ? `  lost chains ${r.lost}` : ''}`;
    }
    case 'bound':
      return `${sample.result.perS.toFixed(1).padStart(6)} bcrypt compares/s (cost ${sample.result.rounds}, pool ${sample.result.threadpool})`;
    case 'probe': {
      const r = sample.result;
      const login = sample.login ? `  (logins ${sample.login.steadyRps.toFixed(1)}/s, non-2xx ${sample.login.non2xx})` : '';
      return `probe ${r.completed}/${r.sent}  p50 ${r.latency.p50.toFixed(2)} ms  p99 ${r.latency.p99.toFixed(2)} ms  non-2xx ${r.non2xx}  errors ${r.errors}${login}`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Memory

interface MemoryPoint {
  usedMemory: number;
  keys: number;
  /** The INFO memory fields behind usedMemory, for the curious. */
  info: Record<string, number>;
}

interface MemoryResult {
  redisVersion: string;
  users: number;
  logins: number;
  renewed: number;
  renews: number;
  graceS: number;
  points: Record<'users' | 'logins' | 'renew1Now' | 'renew1AfterGrace' | 'renew1Reclaimed' | 'renewNNow' | 'renewNAfterGrace' | 'renewNReclaimed', MemoryPoint>;
  bytesPerSession: number;
  keysPerSession: number;
  /** Extra bytes per renewed session while its grace slot lives. */
  graceSlotBytes: number;
  /** Bytes per session (all sessions) after 1 renew of the renewed ones, grace slots gone. */
  bytesPerSessionAfter1: number;
  bytesPerSessionAfterN: number;
  /** (after N − after 1) per renewed session, grace slots gone. */
  driftPerRenewedSession: number;
  renewFailures: number;
}

async function memoryScenario(bench: Bench, options: Options, log: (message: string) => void): Promise<MemoryResult> {
  const { users: userCount, logins, renewed, renews, graceS } = options.memory;
  // Past the grace window and the slot's TTL (window + 1 s), with a margin: ~12 s for the default 10 s window.
  const graceWaitMs = graceS === 0 ? 0 : (graceS + 1.5) * 1000;
  const redis = await bench.redis('redis-memory');
  const server = await bench.ours('memory-probe', { redisUrl: redis.url, revocation: 'strict', bcryptRounds: 4, graceS });
  const client = redis.client;
  const measure = async (): Promise<MemoryPoint> => {
    await sleep(300);
    // Client buffers (ours and the server's connection) are not session data: left out.
    const info = await client.info('memory');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    const fields = Object.fromEntries(['used_memory', 'mem_clients_normal', 'used_memory_overhead', 'used_memory_dataset', 'used_memory_scripts', 'used_memory_vm_eval', 'mem_not_counted_for_evict'].map((name) => [name, field(name)]));
    return { usedMemory: field('used_memory') - field('mem_clients_normal'), keys: await client.dbsize(), info: fields };
  };
  /** Reads every key once: Redis drops an expired key when it is touched, as its active expiry eventually would. */
  const reclaim = async () => {
    let cursor = '0';
    do {
      const [next] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
    } while (cursor !== '0');
  };

  // The server's Lua scripts go into Redis' script cache now, not during a measured step.
  // As redis-scripts.ts defines them: a script that publishes security events runs behind include/publish.lua.
  const luaDir = join(ROOT, 'dist', 'sessions', 'lua');
  const prelude = readFileSync(join(luaDir, 'include', 'publish.lua'), 'utf8');
  for (const file of readdirSync(luaDir).filter((name) => name.endsWith('.lua'))) {
    const lua = readFileSync(join(luaDir, file), 'utf8');
    await client.script('LOAD', lua.includes('publishEnds(') ? `${prelude}\n${lua}` : lua);
  }
  // And every other one-time allocation (Redis keeps a few tens of KB after the first renews and the
  // first SCAN): one warm-up session renewed, its grace slot deleted, one SCAN, all before the baseline.
  const warm = await bench.sessions('register', server.baseUrl, credentials('memory-warm', 1));
  await bench.worker!.run<SessionBatch>({ kind: 'renew', baseUrl: server.baseUrl, stateProofs: warm.stateProofs, times: 2, concurrency: 1 });
  for (const key of await client.keys('*:g:*')) await client.del(key);
  await reclaim();

  const users = credentials('memory', userCount);
  await bench.sessions('register', server.baseUrl, users, 32);
  const pointUsers = await measure();
  const batch = await bench.sessions(
    'login',
    server.baseUrl,
    Array.from({ length: logins }, (_, i) => users[i % userCount]!),
    32,
  );
  const pointLogins = await measure();
  log(`memory: ${logins} logins for ${userCount} users in ${batch.durationS.toFixed(1)} s`);

  // The first `renewed` sessions belong to distinct users (logins go round-robin over users).
  let chains = batch.stateProofs.slice(0, renewed);
  let renewFailures = 0;
  const renewAll = async (times: number) => {
    const result = await bench.worker!.run<SessionBatch>({ kind: 'renew', baseUrl: server.baseUrl, stateProofs: chains, times, concurrency: 32 });
    renewFailures += result.failures;
    chains = result.stateProofs;
    return result;
  };
  await renewAll(1);
  const renew1Now = await measure();
  await sleep(graceWaitMs);
  const renew1AfterGrace = await measure();
  await reclaim();
  const renew1Reclaimed = await measure();
  const many = await renewAll(renews - 1);
  log(`memory: ${renewed} sessions × ${renews - 1} more renews in ${many.durationS.toFixed(1)} s`);
  const renewNNow = await measure();
  await sleep(graceWaitMs);
  const renewNAfterGrace = await measure();
  await reclaim();
  const renewNReclaimed = await measure();
  await bench.stopServers(['memory-probe']);

  const perSession = (point: MemoryPoint) => (point.usedMemory - pointUsers.usedMemory) / logins;
  return {
    redisVersion: await redis.version(),
    users: userCount,
    logins,
    renewed,
    renews,
    graceS,
    points: { users: pointUsers, logins: pointLogins, renew1Now, renew1AfterGrace, renew1Reclaimed, renewNNow, renewNAfterGrace, renewNReclaimed },
    bytesPerSession: perSession(pointLogins),
    keysPerSession: (pointLogins.keys - pointUsers.keys) / logins,
    graceSlotBytes: (renew1Now.usedMemory - pointLogins.usedMemory) / renewed,
    bytesPerSessionAfter1: perSession(renew1Reclaimed),
    bytesPerSessionAfterN: perSession(renewNReclaimed),
    driftPerRenewedSession: (renewNReclaimed.usedMemory - renew1Reclaimed.usedMemory) / renewed,
    renewFailures,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

interface Row {
  scenario: string;
  server: string;
  rate: string;
  cpu: string;
  ratio: string;
  p50: string;
  p99: string;
  errors: string;
  non2xx: string;
  target: string;
  met: string;
}

interface Summary {
  id: string;
  rounds: number;
  rps?: number;
  ratio?: number;
  ratioTo?: string;
  p50?: number;
  p99?: number;
  /** Server (+ Redis) CPU µs per request, and the Redis part. */
  cpuUs?: number;
  redisCpuUs?: number;
  errors?: number;
  non2xx?: number;
  lostChains?: number;
  target?: string;
  met?: boolean;
}

/** The renew chains are StateProofs of the run's throw-away sessions: noise in a results file. */
function withoutChains(sample: Sample): Sample {
  if (sample.kind !== 'load' || sample.result.chains === undefined) return sample;
  const result = { ...sample.result };
  delete result.chains;
  return { ...sample, result };
}

function buildReport(options: Options, machine: Machine, cases: Case[], samples: Map<string, Sample[]>, memory: MemoryResult | undefined): { markdown: string; json: unknown; summaries: Summary[] } {
  const loads = (id: string) => (samples.get(id) ?? []).flatMap((sample) => (sample.kind === 'load' ? [sample.result] : []));
  /** Median CPU µs per request (server + its Redis), and the Redis part; undefined without /proc. */
  const cpuPerRequest = (id: string): { total: number; redis: number } | undefined => {
    const values = (samples.get(id) ?? []).flatMap((sample) => (sample.kind === 'load' && sample.cpu && sample.result.responses > 0 ? [{ total: ((sample.cpu.serverMs + (sample.cpu.redisMs ?? 0)) * 1000) / sample.result.responses, redis: ((sample.cpu.redisMs ?? 0) * 1000) / sample.result.responses }] : []));
    return values.length === 0 ? undefined : { total: median(values.map((v) => v.total)), redis: median(values.map((v) => v.redis)) };
  };
  const floorRps = loads('public:floor').map((result) => result.rps);
  const boundPerS = (samples.get('login:bcrypt-bound') ?? []).flatMap((sample) => (sample.kind === 'bound' ? [sample.result.perS] : []));
  /** Ratio per round against the reference measured in the same round, then the median. */
  const pairedRatio = (values: number[], reference: number[]) => (reference.length === 0 ? undefined : median(values.map((value, i) => value / (reference[i] ?? median(reference)))));

  const summaries: Summary[] = [];
  const rows: Row[] = [];
  const fmt = (value: number | undefined, digits = 2) => (value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits));
  const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'yes' : '**no**');

  for (const item of cases) {
    const list = samples.get(item.id) ?? [];
    if (item.id === 'login:bcrypt-bound') {
      const summary: Summary = { id: item.id, rounds: list.length, rps: median(boundPerS) };
      summaries.push(summary);
      rows.push({ scenario: 'login', server: `bcrypt bound (cost ${options.bcryptRounds}, pool ${options.threadpool})`, rate: fmt(summary.rps, 1), cpu: '', ratio: '1.00× bound', p50: '', p99: '', errors: '', non2xx: '', target: '', met: '' });
      continue;
    }
    if (item.scenario === 'login-flood' || item.scenario === 'stack') continue;
    const results = loads(item.id);
    const isLogin = item.scenario === 'login';
    // A login takes ~1 s under load: its rate is counted between the first and last answers, like the bound's.
    const rps = results.map((result) => (isLogin ? result.steadyRps : result.rps));
    const ratio = isLogin ? pairedRatio(rps, boundPerS) : item.id === 'public:floor' ? 1 : pairedRatio(rps, floorRps);
    const p50 = median(results.map((result) => result.latency.p50));
    const p99 = median(results.map((result) => result.latency.p99));
    const errors = results.reduce((sum, result) => sum + result.errors, 0);
    const non2xx = results.reduce((sum, result) => sum + result.non2xx, 0);
    const lostChains = results.reduce((sum, result) => sum + (result.lost ?? 0), 0);
    let target: string | undefined;
    let met: boolean | undefined;
    if (item.id === 'public:redis' || item.id === 'public:memory') {
      target = '≥ 0.95× floor';
      met = ratio !== undefined && ratio >= 0.95;
    } else if (item.id === 'verify:redis') {
      target = '≥ 0.60× floor, p99 ≤ 40 ms';
      met = ratio !== undefined && ratio >= 0.6 && p99 <= 40;
    } else if (item.id === 'verify-stateless:redis-off') {
      target = '≥ 0.65× floor';
      met = ratio !== undefined && ratio >= 0.65;
    } else if (item.id === 'renew:redis') {
      target = '≥ 0.40× floor, 0 errors, p99 ≤ 60 ms';
      met = ratio !== undefined && ratio >= 0.4 && errors + non2xx + lostChains === 0 && p99 <= 60;
    } else if (item.id === 'login:login') {
      target = '≥ 0.90× bcrypt bound';
      met = ratio !== undefined && ratio >= 0.9;
    }
    const cpu = cpuPerRequest(item.id);
    const summary: Summary = { id: item.id, rounds: results.length, rps: median(rps), ratio, ratioTo: isLogin ? 'bcrypt bound' : 'floor', p50, p99, ...(cpu ? { cpuUs: cpu.total, redisCpuUs: cpu.redis } : {}), errors, non2xx, lostChains, ...(target === undefined ? {} : { target, met }) };
    summaries.push(summary);
    const serverLabel = item.server === 'redis' ? 'ours, Redis' : item.server === 'memory' ? 'ours, memory' : item.server === 'redis-off' ? 'ours, Redis, revocation off' : item.server === 'login' ? `ours, Redis, bcrypt ${options.bcryptRounds}` : item.server === 'redis-ab' ? `A/B build, Redis (${options.ab ?? ''})` : 'Express hello-world';
    rows.push({
      scenario: item.scenario,
      server: serverLabel,
      rate: fmt(summary.rps, 0),
      cpu: cpu === undefined ? '—' : `${cpu.total.toFixed(0)}${cpu.redis > 0 ? ` (${cpu.redis.toFixed(0)})` : ''}`,
      ratio: ratio === undefined ? '—' : `${ratio.toFixed(2)}× ${isLogin ? 'bound' : 'floor'}`,
      p50: fmt(p50),
      p99: fmt(p99),
      errors: String(errors),
      non2xx: String(non2xx) + (lostChains > 0 ? ` (${lostChains} chains lost)` : ''),
      target: target ?? '',
      met: verdict(met),
    });
  }

  const idle = (samples.get('login-flood:idle') ?? []).flatMap((sample) => (sample.kind === 'probe' ? [sample.result] : []));
  const flood = (samples.get('login-flood:flood') ?? []).flatMap((sample) => (sample.kind === 'probe' ? [sample] : []));
  if (idle.length > 0 && flood.length > 0) {
    const idleP99 = idle.map((result) => result.latency.p99);
    const floodP99 = flood.map((sample) => sample.result.latency.p99);
    const ratio = pairedRatio(floodP99, idleP99);
    const loginRps = median(flood.map((sample) => sample.login?.steadyRps ?? Number.NaN));
    const met = ratio !== undefined && ratio <= 2;
    const probeErrors = (results: ProbeResult[]) => results.reduce((sum, result) => sum + result.errors, 0);
    const probeNon2xx = (results: ProbeResult[]) => results.reduce((sum, result) => sum + result.non2xx, 0);
    summaries.push({ id: 'login-flood:idle', rounds: idle.length, p50: median(idle.map((result) => result.latency.p50)), p99: median(idleP99), errors: probeErrors(idle), non2xx: probeNon2xx(idle) });
    summaries.push({ id: 'login-flood:flood', rounds: flood.length, rps: loginRps, p50: median(flood.map((sample) => sample.result.latency.p50)), p99: median(floodP99), ratio, ratioTo: 'idle p99', errors: probeErrors(flood.map((s) => s.result)), non2xx: probeNon2xx(flood.map((s) => s.result)), target: 'p99 ≤ 2× idle p99', met });
    rows.push({ scenario: 'login-flood', server: `verify probe ${options.probeRatePerS}/s, idle`, rate: '', cpu: '', ratio: '', p50: fmt(median(idle.map((result) => result.latency.p50))), p99: fmt(median(idleP99)), errors: String(probeErrors(idle)), non2xx: String(probeNon2xx(idle)), target: '', met: '' });
    rows.push({
      scenario: 'login-flood',
      server: `same probe + ${options.loginConnections} login conns (${fmt(loginRps, 1)} logins/s)`,
      rate: '',
      cpu: '',
      ratio: ratio === undefined ? '—' : `${ratio.toFixed(2)}× idle p99`,
      p50: fmt(median(flood.map((sample) => sample.result.latency.p50))),
      p99: fmt(median(floodP99)),
      errors: String(probeErrors(flood.map((s) => s.result))),
      non2xx: String(probeNon2xx(flood.map((s) => s.result))),
      target: 'p99 ≤ 2× idle p99',
      met: verdict(met),
    });
  }

  const lines: string[] = [];
  const date = new Date().toISOString();
  lines.push(`# Benchmark ${date.slice(0, 10)}${options.smoke ? ' (smoke)' : ''}`, '');
  lines.push(
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}; Redis ${machine.redis}.`,
    `Pinning: ${machine.pinning}. Rate limits off (RATE_LIMIT_ENABLED=false). UV_THREADPOOL_SIZE=${machine.threadpool}. LOG_LEVEL=warn.`,
    `Rounds: ${options.rounds} × ${options.durationS} s per case, interleaved (even rounds in reverse order); medians over rounds; ratios are per-round ratios to the floor measured in the same round, then the median.`,
    `Connections: ${options.connections} (login: ${options.loginConnections}); verify: ${options.verifySessions} distinct BearerPasses round-robin; renew: ${options.renewSessions} StateProof chains; login bcrypt cost ${options.bcryptRounds}.`,
    '',
  );
  lines.push('| scenario | server | req/s | ratio | CPU µs/req (Redis) | p50 ms | p99 ms | errors | non-2xx | target | met |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
  for (const row of rows) lines.push(`| ${row.scenario} | ${row.server} | ${row.rate} | ${row.ratio} | ${row.cpu} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.non2xx} | ${row.target} | ${row.met} |`);

  const stackCases = cases.filter((item) => item.scenario === 'stack' && item.id.startsWith('stack:'));
  if (stackCases.length > 0) {
    // CPU per request (server + Redis, from /proc): robust to other load on the machine, unlike 1/throughput.
    const usPerRequest = (id: string) => cpuPerRequest(id)?.total ?? median(loads(id).map((result) => 1e6 / result.rps));
    const floorUs = usPerRequest('public:floor');
    const fullPublic = usPerRequest('stack:stack-full');
    const fullVerify = usPerRequest('stack-verify:stack-full');
    lines.push(
      '',
      `Middleware stack (the real app with layers swapped for pass-throughs; CPU µs per request, server + Redis; floor ${floorUs.toFixed(0)} µs):`,
      '',
      '| variant | public µs/req | saved vs full | verify µs/req | saved vs full |',
      '|---|---:|---:|---:|---:|',
    );
    for (const item of stackCases) {
      const publicUs = usPerRequest(item.id);
      const verifyUs = usPerRequest(item.id.replace('stack:', 'stack-verify:'));
      lines.push(`| ${item.server.replace('stack-', '')} | ${publicUs.toFixed(0)} | ${(fullPublic - publicUs).toFixed(0)} | ${verifyUs.toFixed(0)} | ${(fullVerify - verifyUs).toFixed(0)} |`);
      summaries.push({ id: item.id, rounds: loads(item.id).length, rps: median(loads(item.id).map((r) => r.rps)) }, { id: item.id.replace('stack:', 'stack-verify:'), rounds: loads(item.id).length, rps: median(loads(item.id.replace('stack:', 'stack-verify:')).map((r) => r.rps)) });
    }
  }

  let memoryMet: { bytes: boolean; constant: boolean } | undefined;
  if (memory) {
    const constant = Math.abs(memory.driftPerRenewedSession) <= Math.max(8, memory.bytesPerSession * 0.02);
    memoryMet = { bytes: memory.bytesPerSession <= 400, constant };
    const p = memory.points;
    lines.push(
      '',
      `Memory (own Redis; used_memory minus client buffers; ${memory.logins} logins of ${memory.users} users, then ${memory.renewed} of those sessions renewed 1 and ${memory.renews} times; grace window ${memory.graceS} s):`,
      '',
      '| measure | value | target | met |',
      '|---|---:|---|---|',
      `| bytes per session after ${memory.logins} logins | ${memory.bytesPerSession.toFixed(0)} | ≤ 400 | ${verdict(memoryMet.bytes)} |`,
      `| keys per session | ${memory.keysPerSession.toFixed(2)} (a hash per session, plus the user's session index when it is not their only session) | | |`,
      `| grace slot per renewed session, right after renewing | ${memory.graceSlotBytes.toFixed(0)} bytes | | |`,
      `| bytes per session, 1 renew, after the grace window (+${memory.graceS + 1.5} s, expired keys reclaimed) | ${memory.bytesPerSessionAfter1.toFixed(0)} | | |`,
      `| bytes per session, ${memory.renews} renews, after the grace window | ${memory.bytesPerSessionAfterN.toFixed(0)} | same as after 1 | ${verdict(constant)} |`,
      `| drift per renewed session (${memory.renews} renews − 1 renew) | ${memory.driftPerRenewedSession.toFixed(1)} bytes | | |`,
      `| used_memory / keys: after ${memory.renews} renews right after → +${memory.graceS + 1.5} s → reclaimed | ${p.renewNNow.usedMemory} / ${p.renewNNow.keys} → ${p.renewNAfterGrace.usedMemory} / ${p.renewNAfterGrace.keys} → ${p.renewNReclaimed.usedMemory} / ${p.renewNReclaimed.keys} | | |`,
      `| renew failures | ${memory.renewFailures} | 0 | ${verdict(memory.renewFailures === 0)} |`,
    );
  }

  const json = { date, smoke: options.smoke, machine, options: { ...options, scenarios: [...options.scenarios] }, summaries, memory, memoryMet, rounds: Object.fromEntries([...samples.entries()].map(([id, list]) => [id, list.map(withoutChains)])) };
  return { markdown: `${lines.join('\n')}\n`, json, summaries };
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
