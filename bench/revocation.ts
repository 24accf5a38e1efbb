/**
 * npm run bench:revocation [-- --smoke] [--rate 1000] [--duration 60] [--sample-every 10]
 *                          [--connections 32] [--memory-seconds 3600] [--tag name] [--note text] [--no-write]
 *                          [--cpu-prof] [--report-from bench/results/<name>.json]
 *
 * Issue 20, measured: how long after a revocation's HTTP answer a remote verifier (another
 * process using the installed @jts-auth/verifier, subscribed to GET /jts/events) refuses that
 * session's BearerPass, while `--rate` sessions a second are revoked through POST /jts/logout; and
 * the verifier's memory over an hour of revocations at that rate, in simulated time.
 * See bench/README.md ("Revocation").
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { freePort } from '../scripts/lib/free-port.js';
import { PrivatePostgres } from '../test/support/postgres-server.js';
import { BenchRedis, canPin, launch, LOAD_CPU, type Managed, SERVER_CPU, sleep, waitFor } from './lib/processes.js';
import { summariseMemory, type MemoryRun, type MemorySummary } from './lib/revocation-memory.js';
import type { VerifierReply, VerifierRequest, WatchResult } from './lib/revocation-protocol.js';
import { openBuiltServer } from './lib/scale-built.js';
import { credentialsFor, seedAccounts, seedMirrors, seedSessions } from './lib/scale-seed.js';
import { percentileSorted } from './lib/stats.js';
import { cpuMs } from './lib/worker-client.js';

const ROOT = resolve(__dirname, '..');
const VERIFIER_CLIENT = 'bench-verifier';
/** The verifier's clock tolerance (createVerifier's default clockSkewSeconds, 5 s). */
const VERIFIER_TOLERANCE_MS = 5000;

interface Options {
  /** A saved run's JSON: render its report again with this build's judgement, measure nothing. */
  reportFrom: string | undefined;
  /** The server's and the verifier's CPU profiles in bench/results/profiles/ (revocation-*.cpuprofile). */
  cpuProf: boolean;
  smoke: boolean;
  ratePerS: number;
  durationS: number;
  warmupS: number;
  sampleEvery: number;
  connections: number;
  memorySeconds: number;
  write: boolean;
  tag: string | undefined;
  note: string | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'sample-every': { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      'memory-seconds': { type: 'string' },
      tag: { type: 'string' },
      note: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'report-from': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const smoke = values.smoke;
  const options = {
    reportFrom: values['report-from'],
    cpuProf: values['cpu-prof'],
    smoke,
    // Smoke: a harness check, short even on a busy machine.
    ratePerS: Number(values.rate ?? (smoke ? 500 : 1000)),
    durationS: Number(values.duration ?? (smoke ? 1 : 60)),
    warmupS: smoke ? 0 : 3,
    sampleEvery: Number(values['sample-every']),
    connections: Number(values.connections),
    memorySeconds: Number(values['memory-seconds'] ?? (smoke ? 60 : 3600)),
    write: !smoke && !values['no-write'],
    tag: values.tag,
    note: values.note,
  };
  for (const name of ['ratePerS', 'durationS', 'sampleEvery', 'connections', 'memorySeconds'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw new Error(`--${name}: a whole number ≥ 1 (got ${String(options[name])})`);
  }
  return options;
}

// CLOCK_MONOTONIC, one clock for every process on the host: timestamps taken here and in the other
// process compare directly (performance.timeOrigin differs per process by a few ms: the smoke run
// measured a p50 of −7.6 ms).
const wallMs = () => Number(process.hrtime.bigint()) / 1e6;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const mib = (bytes: number) => round(bytes / 2 ** 20);

// ---------------------------------------------------------------------------------------------
// The verifier process

class VerifierProcess {
  private readonly waiters: { type: VerifierReply['type']; resolve: (reply: VerifierReply) => void }[] = [];
  readonly results: WatchResult[] = [];

  constructor(readonly process: Managed) {
    process.child.on('message', (reply: VerifierReply) => {
      if (reply.type === 'results') {
        this.results.push(...reply.results);
        return;
      }
      const index = this.waiters.findIndex((waiter) => waiter.type === reply.type);
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(reply);
    });
  }

  send(request: VerifierRequest): void {
    this.process.child.send(request);
  }

  reply<T extends VerifierReply['type']>(type: T, timeoutMs: number): Promise<Extract<VerifierReply, { type: T }>> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`verifier: no ${type} within ${timeoutMs} ms\n${this.process.output()}`));
      }, timeoutMs);
      this.waiters.push({
        type,
        resolve: (reply) => {
          clearTimeout(timer);
          resolvePromise(reply as Extract<VerifierReply, { type: T }>);
        },
      });
    });
  }

  async ask<T extends 'precheck' | 'stats'>(request: VerifierRequest & { type: T }, timeoutMs = 30_000): Promise<Extract<VerifierReply, { type: T }>> {
    const answer = this.reply(request.type, timeoutMs);
    this.send(request);
    return answer;
  }
}

// ---------------------------------------------------------------------------------------------
// The revocation driver (this process)

interface Revocation {
  stateProof: string;
  /** Set for the sampled sessions: their BearerPass is watched at the verifier. */
  bearerPass?: string;
}

interface DriveResult {
  sent: number;
  answered: number;
  ok: number;
  statuses: Record<string, number>;
  /**
   * Revocations of the measured part (after the warm-up), from when its first was scheduled to its
   * last answer: a driver behind schedule at the end of the warm-up catches up in a burst, which
   * must not count as a faster rate.
   */
  measured: { count: number; seconds: number; ratePerS: number };
  httpLatencyMs: { p50: number; p99: number; max: number };
  watched: number;
  /** The longest a revocation was sent after its scheduled time (every request slot was busy). */
  maxLagMs?: number;
}

async function drive(base: URL, revocations: Revocation[], options: Options, verifier: VerifierProcess): Promise<DriveResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const total = revocations.length;
  const warmupCount = options.ratePerS * options.warmupS;
  const maxInFlight = options.connections * 4;
  const statuses: Record<string, number> = {};
  const httpLatencies: number[] = [];
  let sent = 0;
  let answered = 0;
  let ok = 0;
  let inFlight = 0;
  let watched = 0;

  let measuredLastAnswer = Number.NaN;
  let maxLagMs = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolvePromise) => {
    finish = resolvePromise;
  });

  const revoke = (index: number) => {
    const revocation = revocations[index]!;
    const sentAt = wallMs();
    maxLagMs = Math.max(maxLagMs, performance.now() - startedAt - (index * 1000) / options.ratePerS);
    inFlight++;
    const done = (status: number, answeredAt: number) => {
      inFlight--;
      answered++;
      statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      if (status === 200) {
        ok++;
        if (index >= warmupCount) {
          httpLatencies.push(answeredAt - sentAt);
          measuredLastAnswer = Math.max(Number.isNaN(measuredLastAnswer) ? 0 : measuredLastAnswer, answeredAt);
          if (revocation.bearerPass !== undefined) {
            watched++;
            verifier.send({ type: 'watch', id: index, token: revocation.bearerPass, answeredAt });
          }
        }
      }
      if (answered === total) finish();
    };
    const request = http.request(
      { host: base.hostname, port: base.port, path: '/jts/logout', method: 'POST', agent, headers: { cookie: `jts_state_proof=${revocation.stateProof}`, 'x-jts-request': '1', 'content-length': '0' } },
      (response) => {
        const answeredAt = wallMs();
        response.resume();
        response.once('end', () => {
          done(response.statusCode ?? 0, answeredAt);
        });
      },
    );
    request.once('error', () => {
      done(0, wallMs());
    });
    request.end();
  };

  // Open loop: revocation i is due at i / rate seconds; at most maxInFlight wait for an answer.
  const startedAt = performance.now();
  const measuredScheduledStart = wallMs() + (warmupCount * 1000) / options.ratePerS;
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * options.ratePerS));
    while (sent < due && inFlight < maxInFlight) revoke(sent++);
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
  await finished;
  agent.destroy();
  httpLatencies.sort((a, b) => a - b);
  const count = Math.max(0, ok - Math.min(ok, warmupCount));
  const seconds = (measuredLastAnswer - measuredScheduledStart) / 1000;
  return {
    sent,
    answered,
    ok,
    statuses,
    measured: { count, seconds: round(seconds, 2), ratePerS: round(count / seconds) },
    httpLatencyMs: { p50: round(percentileSorted(httpLatencies, 50), 2), p99: round(percentileSorted(httpLatencies, 99), 2), max: round(httpLatencies[httpLatencies.length - 1] ?? Number.NaN, 2) },
    watched,
    maxLagMs: round(maxLagMs),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

interface LatencyResult {
  samples: number;
  refused: number;
  otherAnswers: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  meanChecks: number;
}

function summariseLatency(results: WatchResult[]): LatencyResult {
  const refused = results.filter((result) => result.code === 'JTS-401-04');
  const otherAnswers: Record<string, number> = {};
  for (const result of results) if (result.code !== 'JTS-401-04') otherAnswers[result.code] = (otherAnswers[result.code] ?? 0) + 1;
  const sorted = refused.map((result) => result.latencyMs).sort((a, b) => a - b);
  const at = (p: number) => round(percentileSorted(sorted, p), 2);
  return {
    samples: results.length,
    refused: refused.length,
    otherAnswers,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: round(sorted[sorted.length - 1] ?? Number.NaN, 2),
    meanChecks: round(refused.reduce((sum, result) => sum + result.checks, 0) / Math.max(1, refused.length), 2),
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.reportFrom !== undefined) {
    rerender(options.reportFrom, options.write);
    return;
  }
  const startedAt = Date.now();
  const log = (message: string) => process.stderr.write(`[revocation +${((Date.now() - startedAt) / 1000).toFixed(1)} s] ${message}\n`);
  const pin = canPin(os.cpus().length);
  // The driver (this process) and the verifier on the load CPU; server, Redis on the server CPU.
  if (pin) {
    const self = launch('taskset', undefined, 'taskset', ['-a', '-p', '-c', String(LOAD_CPU), String(process.pid)], { PATH: process.env.PATH });
    if ((await self.exited) !== 0) throw new Error(`could not pin the driver: ${self.output()}`);
  }
  const serverCpu = pin ? SERVER_CPU : undefined;
  const loadCpu = pin ? LOAD_CPU : undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  const dir = mkdtempSync(join(os.tmpdir(), 'jts-revocation-'));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const benchStartedAt = Date.now();
  try {
    const keyPaths = { priv: join(dir, 'signing-key.pem'), pub: join(dir, 'signing-key.pub.pem'), secret: join(dir, 'state-proof.secret') };
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    writeFileSync(keyPaths.priv, privateKey, { mode: 0o600 });
    writeFileSync(keyPaths.pub, publicKey);
    writeFileSync(keyPaths.secret, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });

    const postgres = await PrivatePostgres.start();
    cleanups.push(() => postgres.destroy());
    const redis = await BenchRedis.start('redis', serverCpu);
    cleanups.push(() => redis.stop());
    const schema = `revocation_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const databaseUrl = new URL(postgres.url);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);

    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // test: allows bcrypt cost 4 (the seeded accounts' hash); nothing else differs.
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      JTS_DEMO_USERS: 'false',
      JTS_PRIVATE_KEY_PATH: keyPaths.priv,
      JTS_PUBLIC_KEY_PATH: keyPaths.pub,
      JTS_STATE_PROOF_SECRET_PATH: keyPaths.secret,
      JTS_REVOCATION_CHECK: 'strict',
      // The sampled BearerPasses outlive the run, however slow the drive (the other benches do the same).
      // Events then carry jts_not_after = revocation + 3610 s: the memory part uses the defaults' 910 s.
      JTS_BEARER_PASS_LIFETIME: '3600',
      // The verifier's client is registered after start-up.
      JTS_CLIENTS_REFRESH: '1',
      BCRYPT_ROUNDS: '4',
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl.toString(),
    };
    const profileDir = join(ROOT, 'bench', 'results', 'profiles');
    if (options.cpuProf) mkdirSync(profileDir, { recursive: true });
    const profile = (name: string) => (options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=revocation-${name}.cpuprofile`] : []);
    const server = launch('server', serverCpu, process.execPath, [...profile('server'), join(ROOT, 'dist', 'server.js')], env);
    cleanups.push(() => server.stop());
    const base = new URL(`http://127.0.0.1:${port}`);
    await waitFor(
      async () => {
        if (!server.running) throw new Error(`server exited:\n${server.output()}`);
        return (await fetch(new URL('/readyz', base))).status === 200;
      },
      30_000,
      'server',
    );
    log('server ready');
    const discovery = (await (await fetch(new URL('/.well-known/jts-configuration', base))).json()) as { issuer: string };

    // The subscriber, registered as an operator does it: npm run client -- add (the built CLI).
    const cli = launch('client-cli', undefined, process.execPath, [join(ROOT, 'dist', 'cli', 'client.js'), 'add', '--id', VERIFIER_CLIENT, '--audience', 'https://verifier.bench.example.com', '--scope', 'jts:events'], env);
    if ((await cli.exited) !== 0) throw new Error(`client add failed:\n${cli.output()}`);
    const clientSecret = cli.output().trim().split('\n').pop()!.trim();
    const basic = `Basic ${Buffer.from(`${VERIFIER_CLIENT}:${clientSecret}`).toString('base64')}`;
    await waitFor(async () => (await fetch(new URL('/jts/events/poll', base), { headers: { authorization: basic } })).status === 200, 10_000, 'the client reload');

    // Sessions: accounts, mirrors and sessions through the server's own modules (as the scale bench seeds).
    const count = options.ratePerS * (options.warmupS + options.durationS);
    const built = await openBuiltServer({ ...env, REDIS_COMMAND_TIMEOUT: '20000' });
    cleanups.push(() => built.close());
    const sql = new pg.Client({ connectionString: databaseUrl.toString() });
    await sql.connect();
    cleanups.push(() => sql.end());
    const seedStartedAt = Date.now();
    const accounts = await seedAccounts(sql, built.tools, { first: 0, count, passwordHash: await bcrypt.hash('revocation-bench-1234', 4), now: Date.now() });
    await seedMirrors(built.tools, accounts, 0);
    const { sessions } = await seedSessions(built.tools, accounts.ids, built.sessionLifetimeMs);
    const revocations: Revocation[] = sessions.map((session, index) => {
      const credentials = credentialsFor(built.tools, session, accounts.template);
      return index >= options.ratePerS * options.warmupS && index % options.sampleEvery === 0 ? credentials : { stateProof: credentials.stateProof };
    });
    log(`${count} sessions seeded in ${((Date.now() - seedStartedAt) / 1000).toFixed(1)} s`);

    const verifierProcess = launch('verifier', loadCpu, process.execPath, [...profile('verifier'), '--expose-gc', '--import', 'tsx', join(__dirname, 'revocation-verifier.ts')], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REVOCATION_VERIFIER: JSON.stringify({ base: base.origin, issuer: discovery.issuer, audience: discovery.issuer, clientId: VERIFIER_CLIENT, clientSecret }),
    }, ['ignore', 'pipe', 'pipe', 'ipc']);
    const verifier = new VerifierProcess(verifierProcess);
    cleanups.push(async () => {
      if (verifierProcess.running) {
        // Let it exit by itself first (its CPU profile is written at exit), then make sure.
        verifier.send({ type: 'stop' });
        await Promise.race([verifierProcess.exited, sleep(5000)]);
      }
      await verifierProcess.stop();
    });
    const ready = await verifier.reply('ready', 30_000);
    const sampled = revocations.flatMap((revocation) => (revocation.bearerPass === undefined ? [] : [revocation.bearerPass]));
    const precheck = await verifier.ask({ type: 'precheck', tokens: sampled }, 120_000);
    if (precheck.accepted !== sampled.length) throw new Error(`the verifier refused sampled BearerPasses before their revocation: ${JSON.stringify(precheck.refusals)}`);
    const beforeStats = await verifier.ask({ type: 'stats' });
    log(`verifier connected; ${sampled.length} sampled BearerPasses accepted; revoking ${count} sessions at ${options.ratePerS}/s`);

    const pids = { server: server.child.pid, redis: redis.process.child.pid, verifier: verifierProcess.child.pid };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
    const driveStartedAt = Date.now();
    const driven = await drive(base, revocations, options, verifier);
    const driveMs = Date.now() - driveStartedAt;
    // Per process: % of one core over the drive, and CPU µs per revocation answered.
    const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => {
      const before = cpuBefore[name];
      const after = cpuMs(pid);
      return [name, before === undefined || after === undefined ? undefined : { percent: round(((after - before) / driveMs) * 100), usPerRevocation: round(((after - before) * 1000) / Math.max(1, driven.answered)) }];
    }));
    await waitFor(() => Promise.resolve(verifier.results.length >= driven.watched), 40_000, 'the verifier’s answers for every watched BearerPass').catch((error: unknown) => {
      log(String(error));
    });
    const afterStats = await verifier.ask({ type: 'stats' });
    const latency = summariseLatency(verifier.results);
    log(`achieved ${driven.measured.ratePerS} revocations/s; refusal latency p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms (${latency.refused}/${latency.samples})`);

    const realPath = {
      events: afterStats.events,
      revokedSessions: afterStats.status.revokedSessions,
      heapBefore: beforeStats.heapUsed,
      heapAfter: afterStats.heapUsed,
      bytesPerSession: afterStats.status.revokedSessions > 0 ? round((afterStats.heapUsed - beforeStats.heapUsed) / afterStats.status.revokedSessions) : Number.NaN,
      gaps: afterStats.status.gaps,
      readyHeap: ready.heapUsed,
    };
    for (const step of cleanups.splice(1).reverse()) await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));

    // Memory: an hour of revocations at the rate, simulated (bench/revocation-memory.ts).
    // jts_not_after = revocation + max(BearerPass, exchange token life) + grace, as the server computes it (defaults: 300, 900, 10 s).
    const notAfterMs = (Math.max(300, 900) + 10) * 1000;
    const memory = await simulateMemory(options, notAfterMs, loadCpu);
    const memorySummary = summariseMemory(memory, VERIFIER_TOLERANCE_MS);
    log(`memory: start ${mib(memorySummary.startBytes)} MiB, peak ${mib(memorySummary.peakBytes)} MiB, end ${mib(memorySummary.endBytes)} MiB; ${memorySummary.peakSessions} sessions at most (bound ${memorySummary.boundSessions}); flat: ${memorySummary.flat}`);

    const report = buildReport({ date: new Date().toISOString(), options, pin, driven, latency, cpu, realPath, memory, memorySummary, notAfterMs, totalS: (Date.now() - benchStartedAt) / 1000 });
    process.stdout.write(`${report.markdown}\n`);
    if (options.write) writeReport(report, `${report.json.date.slice(0, 10)}-revocation${options.tag === undefined ? '' : `-${options.tag}`}`, log);
    // Not a timing judgement: a sampled BearerPass still accepted 30 s after its logout means the feed is broken.
    if (latency.refused !== latency.samples || latency.samples !== driven.watched) {
      throw new Error(`${latency.samples - latency.refused} of ${driven.watched} sampled BearerPasses were not refused (${JSON.stringify(latency.otherAnswers)}; ${latency.samples} answered)`);
    }
  } finally {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }
}

async function simulateMemory(options: Options, notAfterMs: number, cpu: number | undefined): Promise<MemoryRun> {
  const args = ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', join(__dirname, 'revocation-memory.ts'), ...[options.ratePerS, options.memorySeconds, notAfterMs, VERIFIER_TOLERANCE_MS, 60].map(String)];
  const [command, argv] = cpu === undefined ? [process.execPath, args] : ['taskset', ['-c', String(cpu), process.execPath, ...args]];
  const child = spawn(command, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolvePromise) => child.once('exit', resolvePromise));
  if (code !== 0) throw new Error(`revocation-memory exited with ${String(code)}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '') as MemoryRun;
}

// ---------------------------------------------------------------------------------------------
// Report

function writeReport(report: { markdown: string; json: { date: string } }, name: string, log: (message: string) => void): void {
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.md`), report.markdown);
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(report.json, null, 2)}\n`);
  log(`wrote bench/results/${name}.md and .json`);
}

/** --report-from: the saved measurements, judged and written again (next to the JSON, same name). */
function rerender(path: string, write: boolean): void {
  const saved = JSON.parse(readFileSync(path, 'utf8')) as ReportInput & { machine: Machine };
  const report = buildReport({ ...saved, pin: saved.machine.pinned, notAfterMs: saved.memory.plan.notAfterMs, memorySummary: summariseMemory(saved.memory, VERIFIER_TOLERANCE_MS) });
  process.stdout.write(`${report.markdown}\n`);
  if (write) writeReport(report, basename(path, '.json'), (message) => process.stderr.write(`[revocation] ${message}\n`));
}

interface ReportInput {
  date: string;
  options: Options;
  pin: boolean;
  driven: DriveResult;
  latency: LatencyResult;
  cpu: Record<string, { percent: number; usPerRevocation: number } | undefined>;
  realPath: { events: Record<string, number>; revokedSessions: number; heapBefore: number; heapAfter: number; bytesPerSession: number; gaps: number; readyHeap: number };
  memory: MemoryRun;
  memorySummary: MemorySummary;
  notAfterMs: number;
  /** Absent in runs saved before it was recorded. */
  totalS?: number;
  /** The measured machine (a re-rendered run's); this one's by default. */
  machine?: Machine;
}

interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  pinned: boolean;
}

function buildReport(input: ReportInput): { markdown: string; json: { date: string } } {
  const { date, options, pin, driven, latency, cpu, realPath, memory, memorySummary: m, notAfterMs } = input;
  const cpus = os.cpus();
  const machine = input.machine ?? { cpuModel: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: round(os.totalmem() / 2 ** 30), node: process.version, pinned: pin };
  const met = { latency: latency.p99 <= 1000 && latency.refused === latency.samples && latency.samples > 0, rate: driven.measured.ratePerS >= options.ratePerS * 0.95, memory: m.flat };
  const yes = (value: boolean) => (value ? 'yes' : 'no');
  const lines = [
    `# Revocation bench ${date.slice(0, 10)}${options.smoke ? ' (smoke)' : ''}`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}; ${pin ? `server and Redis pinned to CPU ${SERVER_CPU}, driver and verifier to CPU ${LOAD_CPU}` : 'not pinned'}; PostgreSQL unpinned (idle during the drive).${options.note === undefined ? '' : ` Note: ${options.note}`}`,
    '',
    '## Revocation to rejection at a remote verifier',
    '',
    `Our built server (Redis store, strict revocation check), a verifier process using the installed \`@jts-auth/verifier\` subscribed to \`GET /jts/events\` as service client \`${VERIFIER_CLIENT}\` (scope \`jts:events\`, registered with \`npm run client -- add\`). ${driven.sent} sessions, seeded through the server's own modules, revoked by \`POST /jts/logout\` (open loop, ${options.ratePerS}/s scheduled, ${options.connections} keep-alive connections, ${options.warmupS} s warm-up not counted). For every ${options.sampleEvery}th session of the measured part, the driver sends its BearerPass to the verifier when the logout's answer arrives; the verifier calls \`verify()\` every ~1 ms until it answers JTS-401-04. Latency = wall clock at that answer − wall clock at the logout's answer (both processes read the same system clock).`,
    '',
    '| | value |',
    '|---|---|',
    `| revocations answered 200 | ${driven.ok} of ${driven.sent} (statuses ${JSON.stringify(driven.statuses)}) |`,
    `| achieved rate (measured part, from its scheduled start to its last answer) | **${driven.measured.ratePerS}/s** (${driven.measured.count} in ${driven.measured.seconds} s; target ${options.ratePerS}/s; sends lagged the schedule by up to ${driven.maxLagMs ?? '?'} ms) |`,
    `| logout HTTP latency p50 / p99 / max | ${driven.httpLatencyMs.p50} / ${driven.httpLatencyMs.p99} / ${driven.httpLatencyMs.max} ms |`,
    `| sampled BearerPasses refused (JTS-401-04) | ${latency.refused} of ${latency.samples}${Object.keys(latency.otherAnswers).length > 0 ? ` (other: ${JSON.stringify(latency.otherAnswers)})` : ''} |`,
    `| **revocation → refusal p50 / p90 / p99 / max** | **${latency.p50} / ${latency.p90} / ${latency.p99} / ${latency.max} ms** |`,
    `| CPU during the drive: % of one core (µs per revocation) | ${Object.entries(cpu).map(([name, used]) => `${name} ${used === undefined ? '?' : `${used.percent} % (${used.usPerRevocation} µs)`}`).join(', ')} |`,
    `| verifier events | ${JSON.stringify(realPath.events)}; gaps ${realPath.gaps} |`,
    `| verifier heap (after GC) before / after | ${mib(realPath.heapBefore)} / ${mib(realPath.heapAfter)} MiB, ${realPath.revokedSessions} revoked sessions held (${realPath.bytesPerSession} B each, real path) |`,
    '',
    `Goal (issue 20): p99 ≤ 1 s at ${options.ratePerS} revocations/s — latency met: **${yes(met.latency)}**, rate reached (≥ 95 %): **${yes(met.rate)}**.`,
    '',
    '## Verifier memory over an hour of revocations',
    '',
    `${memory.revocations.toLocaleString('en')} revocations (${options.ratePerS}/s for ${memory.plan.simulatedS} simulated s) fed directly into the package's revocation set (\`RevokedSessions\`, the one \`createVerifier\` builds for \`events\`) on its \`ManualClock\`, advanced with the events, so entries expire as over the real hour; events shaped as the server's (jti a stream id, aid 16 random bytes, \`jts_not_after\` = revocation + ${notAfterMs / 1000} s: max(BearerPass 300 s, exchange token 900 s) + grace 10 s, the defaults), 100 lookups per simulated second. Only the ${realPath.revokedSessions} events of the first part went through the server and the SSE path (bytes per session above). Heap used after a full GC, every simulated minute; ${round(memory.wallS)} s of wall time.`,
    '',
    '| | value |',
    '|---|---|',
    `| heap start / peak / end | **${mib(m.startBytes)} / ${mib(m.peakBytes)} / ${mib(m.endBytes)} MiB** |`,
    `| steady state (from two ${Math.round((notAfterMs + VERIFIER_TOLERANCE_MS) / 1000)} s windows on) min / max | ${Number.isFinite(m.steadySpread) ? `${mib(m.steadyMinBytes)} / ${mib(m.steadyMaxBytes)} MiB (spread ${round(m.steadySpread * 100)} %)` : 'n/a: the simulated time is shorter than two windows'} |`,
    `| sessions held: peak / end / bound (rate × (notAfter + tolerance + 1 s)) | ${m.peakSessions} / ${m.endSessions} / ${m.boundSessions} |`,
    `| heap per held session (both maps) | ${round(m.bytesPerSession)} B |`,
    `| flat (steady spread ≤ 10 %, never above the bound) | **${Number.isNaN(m.steadySpread) ? 'n/a: shorter than two windows' : yes(m.flat)}** |`,
    '',
    '| simulated min | heap MiB | sessions held |',
    '|---|---|---|',
    ...memory.samples.map((sample) => `| ${sample.simulatedS / 60} | ${mib(sample.heapUsed)} | ${sample.sessions} |`),
    '',
    input.totalS === undefined ? '' : `Total run: ${round(input.totalS)} s.`,
  ];
  const json = { date, smoke: options.smoke, machine, options, driven, latency, cpu, realPath, memory, memorySummary: m, met, ...(input.totalS === undefined ? {} : { totalS: round(input.totalS) }) };
  return { markdown: lines.join('\n'), json };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
