/**
 * `npm run soak [-- --minutes 10]`: a long run of mixed traffic against the built server, to show
 * that memory and latency stay flat. Not part of CI.
 *
 *  1. builds (`npm run build`; `--no-build` skips it), starts a private redis-server and
 *     `node dist/server.js` on loopback ports, with throw-away keys;
 *  2. measures a short peak (closed loop, no pacing) of the mix;
 *  3. runs the mix — verify 80 %, renew 15 %, login 5 % — paced at `--load` (0.7) × peak for
 *     `--minutes` (10);
 *  4. every 10 s samples throughput, p50/p99 latency, errors, the server's RSS (VmRSS from
 *     /proc/<pid>/status) and Redis used_memory;
 *  5. writes reports/soak-<date>.md with the table and a verdict: RSS growth ≤ 10 %, p99 flat,
 *     no errors. Exits 1 when the verdict fails.
 *
 * Traffic goes only to 127.0.0.1. Every loop is bounded by the run's deadline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { writeKeyPair, writeSecretFile } from '../src/key-files/files.js';
import { freePort } from './lib/free-port.js';

const ROOT = resolve(__dirname, '..');

interface Options {
  minutes: number;
  peakSeconds: number;
  load: number;
  workers: number;
  users: number;
  build: boolean;
  bcryptRounds: number;
  sampleSeconds: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { minutes: 10, peakSeconds: 20, load: 0.7, workers: 48, users: 200, build: true, bcryptRounds: 4, sampleSeconds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = Number(argv[++i]);
      if (!Number.isFinite(next) || next <= 0) throw new Error(`${arg ?? ''} needs a positive number`);
      return next;
    };
    if (arg === '--minutes') options.minutes = value();
    else if (arg === '--peak-seconds') options.peakSeconds = value();
    else if (arg === '--load') options.load = value();
    else if (arg === '--workers') options.workers = Math.round(value());
    else if (arg === '--users') options.users = Math.round(value());
    else if (arg === '--bcrypt-rounds') options.bcryptRounds = Math.round(value());
    else if (arg === '--sample-seconds') options.sampleSeconds = value();
    else if (arg === '--no-build') options.build = false;
    else throw new Error(`unknown option ${arg ?? ''} (--minutes N, --peak-seconds N, --load 0.7, --workers N, --users N, --bcrypt-rounds N, --sample-seconds N, --no-build)`);
  }
  return options;
}

const sleep = (ms: number) =>
  new Promise<void>((done) => {
    setTimeout(done, ms);
  });

async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

// --- a small keep-alive HTTP client (cheaper per request than fetch, so the server gets the CPU)

interface Reply {
  status: number;
  body: string;
  setCookie: string[];
}

function httpCall(agent: Agent, port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), setCookie: res.headers['set-cookie'] ?? [] });
      });
      res.on('error', () => {
        done({ status: 0, body: '', setCookie: [] });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      done({ status: 0, body: '', setCookie: [] });
    });
    req.end(body);
  });
}

const CSRF = { 'x-jts-request': '1' };

function stateProofOf(reply: Reply): string | undefined {
  const cookie = reply.setCookie.find((c) => c.startsWith('jts_state_proof=') && !c.startsWith('jts_state_proof=;'));
  return cookie?.slice('jts_state_proof='.length).split(';')[0];
}

interface Session {
  user: { email: string; password: string };
  stateProof: string;
  bearerPass: string;
}

type Kind = 'verify' | 'renew' | 'login';

interface Window {
  latencies: number[];
  counts: Record<Kind, number>;
  errors: Record<string, number>;
}

const newWindow = (): Window => ({ latencies: [], counts: { verify: 0, renew: 0, login: 0 }, errors: {} });

/** One request of the mix on a session this worker owns; updates the session on success. */
async function step(agent: Agent, port: number, session: Session, random: number, window: Window): Promise<void> {
  const kind: Kind = random < 0.8 ? 'verify' : random < 0.95 ? 'renew' : 'login';
  const started = performance.now();
  let reply: Reply;
  if (kind === 'verify') reply = await httpCall(agent, port, 'GET', '/api/profile', { authorization: `Bearer ${session.bearerPass}` });
  else if (kind === 'renew') reply = await httpCall(agent, port, 'POST', '/jts/renew', { ...CSRF, cookie: `jts_state_proof=${session.stateProof}` });
  else reply = await httpCall(agent, port, 'POST', '/jts/login', CSRF, JSON.stringify(session.user));
  window.latencies.push(performance.now() - started);
  window.counts[kind]++;
  if (reply.status !== 200) {
    const key = `${kind} ${reply.status}`;
    window.errors[key] = (window.errors[key] ?? 0) + 1;
    return;
  }
  if (kind !== 'verify') {
    // A login replaces the worker's session (the old one is abandoned and expires, as a tab
    // closed for good would); a renewal moves it on.
    const stateProof = stateProofOf(reply);
    const bearerPass = (JSON.parse(reply.body) as { bearerPass?: string }).bearerPass;
    if (stateProof !== undefined && bearerPass !== undefined) {
      session.stateProof = stateProof;
      session.bearerPass = bearerPass;
    }
  }
}

/**
 * Runs `workers` loops over their own sessions until `until`. `ratePerSecond` undefined: closed
 * loop (as fast as answers come); else each worker is paced to its share of the rate.
 */
async function drive(agent: Agent, port: number, sessions: Session[], workers: number, until: number, ratePerSecond: number | undefined, onWindow: () => Window): Promise<void> {
  const interval = ratePerSecond === undefined ? 0 : (1000 * workers) / ratePerSecond;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const own = sessions.filter((_s, i) => i % workers === w);
      let next = Date.now() + Math.random() * interval;
      let i = 0;
      while (Date.now() < until) {
        if (interval > 0) {
          const wait = next - Date.now();
          if (wait > 0) await sleep(wait);
          next += interval;
        }
        const session = own[i++ % own.length];
        if (session === undefined) return;
        await step(agent, port, session, Math.random(), onWindow());
      }
    }),
  );
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * ((ys[i] ?? my) - my);
    den += (x - mx) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

const median = (values: number[]) => percentile(values, 50);

interface Row {
  elapsedS: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssMiB: number;
  redisMiB: number;
  redisKeys: number;
  /** The machine's 1-minute load average: other work on the machine shows up in p99. */
  load1: number;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn();
    cleanups.length = 0;
  };
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130));
  });

  try {
    if (options.build) {
      console.log('building (npm run build)…');
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (build.status !== 0) throw new Error('npm run build failed');
    }

    // --- private Redis and keys
    const dir = mkdtempSync(join(tmpdir(), 'jts-soak-'));
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const redisPort = await freePort();
    const redisChild: ChildProcess = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    cleanups.push(() => {
      redisChild.kill('SIGKILL');
    });
    const redis = new Redis({ host: '127.0.0.1', port: redisPort, lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await waitUntil('redis-server', async () => {
      if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
      await redis.ping();
      return true;
    }, 10_000);
    cleanups.push(() => {
      redis.disconnect();
    });
    const keys = join(dir, 'keys');
    await writeKeyPair({ privateKeyPath: join(keys, 'signing-key.pem'), publicKeyPath: join(keys, 'signing-key.pub.pem') }, 'ES256', { force: true });
    await writeSecretFile(join(keys, 'state-proof.secret'), { force: true });

    // --- the built server, as in production (one process: its RSS is what we watch)
    const port = await freePort();
    const server = spawn(process.execPath, [join(ROOT, 'dist', 'server.js')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        JTS_PRIVATE_KEY_PATH: join(keys, 'signing-key.pem'),
        JTS_PUBLIC_KEY_PATH: join(keys, 'signing-key.pub.pem'),
        JTS_STATE_PROOF_SECRET_PATH: join(keys, 'state-proof.secret'),
        JTS_DEMO_USERS: 'false',
        BCRYPT_ROUNDS: String(options.bcryptRounds),
        // Abandoned sessions (replaced by a login) expire after 2 minutes, so Redis plateaus.
        JTS_STATE_PROOF_LIFETIME: '120',
        // Limits on (counters in Redis are part of the hot path), high enough for one client address.
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_LOGIN_IP: '999999/1m',
        RATE_LIMIT_REGISTER: '999999/1h',
        RATE_LIMIT_RENEW: '999999/1m',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let serverErrors = '';
    server.stderr.on('data', (chunk: Buffer) => {
      serverErrors = (serverErrors + chunk.toString()).slice(-20_000);
    });
    cleanups.push(async () => {
      if (server.exitCode === null) {
        const exited = new Promise((done) => server.once('exit', done));
        server.kill('SIGTERM');
        await exited;
      }
    });
    const agent = new Agent({ keepAlive: true, maxSockets: options.workers + 8 });
    cleanups.push(() => {
      agent.destroy();
    });
    await waitUntil('the server', async () => (await httpCall(agent, port, 'GET', '/readyz', {})).status === 200, 20_000);
    const pid = server.pid ?? 0;
    console.log(`server pid ${pid} on 127.0.0.1:${port}, redis on ${redisPort}`);

    // --- users and their first sessions
    const sessions: Session[] = [];
    for (let i = 0; i < options.users; i++) {
      const user = { email: `soak-${i}-${randomBytes(3).toString('hex')}@example.com`, password: 'correct horse battery staple' };
      const reply = await httpCall(agent, port, 'POST', '/jts/register', CSRF, JSON.stringify({ ...user, name: `Soak ${i}` }));
      const stateProof = stateProofOf(reply);
      if (reply.status !== 201 || stateProof === undefined) throw new Error(`register failed: ${reply.status} ${reply.body}`);
      sessions.push({ user, stateProof, bearerPass: (JSON.parse(reply.body) as { bearerPass: string }).bearerPass });
    }

    // --- peak: a warm-up, then a closed-loop measurement
    let window = newWindow();
    await drive(agent, port, sessions, options.workers, Date.now() + 5000, undefined, () => window);
    window = newWindow();
    const peakStart = Date.now();
    await drive(agent, port, sessions, options.workers, peakStart + options.peakSeconds * 1000, undefined, () => window);
    const peakRps = window.latencies.length / ((Date.now() - peakStart) / 1000);
    const peakP99 = percentile(window.latencies, 99);
    const peakErrors = Object.values(window.errors).reduce((a, b) => a + b, 0);
    const target = Math.round(peakRps * options.load);
    console.log(`peak ${peakRps.toFixed(0)} req/s (p99 ${peakP99.toFixed(1)} ms, ${peakErrors} errors); soaking at ${target} req/s for ${options.minutes} min`);

    // --- the soak, sampled every sampleSeconds
    const rows: Row[] = [];
    const errorTotals: Record<string, number> = {};
    const counts: Record<Kind, number> = { verify: 0, renew: 0, login: 0 };
    const soakStart = Date.now();
    const until = soakStart + options.minutes * 60_000;
    window = newWindow();
    let windowStart = Date.now();
    const sampler = (async () => {
      while (Date.now() < until) {
        await sleep(Math.min(options.sampleSeconds * 1000, Math.max(0, until - Date.now())));
        const done = window;
        window = newWindow();
        const seconds = (Date.now() - windowStart) / 1000;
        windowStart = Date.now();
        const errors = Object.values(done.errors).reduce((a, b) => a + b, 0);
        for (const [key, n] of Object.entries(done.errors)) errorTotals[key] = (errorTotals[key] ?? 0) + n;
        for (const kind of Object.keys(counts) as Kind[]) counts[kind] += done.counts[kind];
        const info = await redis.info('memory');
        const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
        const row: Row = {
          elapsedS: Math.round((Date.now() - soakStart) / 1000),
          rps: Math.round(done.latencies.length / seconds),
          p50: percentile(done.latencies, 50),
          p99: percentile(done.latencies, 99),
          errors,
          rssMiB: rssKiB(pid) / 1024,
          redisMiB: usedMemory / 1024 / 1024,
          redisKeys: await redis.dbsize(),
          load1: loadavg()[0] ?? 0,
        };
        rows.push(row);
        console.log(
          `${String(row.elapsedS).padStart(5)} s  ${String(row.rps).padStart(5)} req/s  p50 ${row.p50.toFixed(1)} ms  p99 ${row.p99.toFixed(1)} ms  errors ${errors}  RSS ${row.rssMiB.toFixed(1)} MiB  redis ${row.redisMiB.toFixed(1)} MiB (${row.redisKeys} keys)`,
        );
      }
    })();
    await drive(agent, port, sessions, options.workers, until, target, () => window);
    await sampler;
    const alive = server.exitCode === null;

    // --- verdict
    const settled = rows.length > 6 ? rows.slice(Math.floor(rows.length / 10)) : rows;
    const third = Math.max(1, Math.floor(settled.length / 3));
    const first = settled.slice(0, third);
    const last = settled.slice(-third);
    const rssStart = median(first.map((r) => r.rssMiB));
    const rssEnd = median(last.map((r) => r.rssMiB));
    const rssSlopePerMin = slope(settled.map((r) => r.elapsedS / 60), settled.map((r) => r.rssMiB));
    const spanMin = ((settled.at(-1)?.elapsedS ?? 0) - (settled[0]?.elapsedS ?? 0)) / 60;
    const rssTrendPct = rssStart > 0 ? ((rssSlopePerMin * spanMin) / rssStart) * 100 : 0;
    const p99Start = median(first.map((r) => r.p99));
    const p99End = median(last.map((r) => r.p99));
    const totalErrors = Object.values(errorTotals).reduce((a, b) => a + b, 0);
    const totalRequests = counts.verify + counts.renew + counts.login;
    const checks = [
      { name: 'RSS growth trend ≤ 10 %', ok: rssTrendPct <= 10, detail: `least-squares trend ${rssTrendPct.toFixed(1)} % over ${spanMin.toFixed(1)} min (${rssSlopePerMin.toFixed(2)} MiB/min); median RSS ${rssStart.toFixed(1)} → ${rssEnd.toFixed(1)} MiB (first vs last third)` },
      { name: 'p99 flat (last third ≤ 1.5 × first third + 2 ms)', ok: p99End <= p99Start * 1.5 + 2, detail: `median p99 ${p99Start.toFixed(1)} → ${p99End.toFixed(1)} ms` },
      { name: 'no errors', ok: totalErrors === 0 && alive, detail: totalErrors === 0 ? `0 of ${totalRequests}` : JSON.stringify(errorTotals) },
      { name: 'throughput held', ok: median(rows.map((r) => r.rps)) >= target * 0.9, detail: `median ${median(rows.map((r) => r.rps))} req/s for a target of ${target}` },
    ];
    const pass = checks.every((c) => c.ok);

    const date = new Date().toISOString().slice(0, 10);
    const lines = [
      `# Soak test, ${date}`,
      '',
      `\`npm run soak -- --minutes ${options.minutes}\` (scripts/soak.ts): the built server (\`node dist/server.js\`, one process) and a private redis-server on loopback, on this machine (${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, Node ${process.version}). The load generator runs in the same machine and takes part of the CPU.`,
      '',
      `- Mix: verify (GET /api/profile, with the revocation check in Redis) 80 %, renew 15 %, login 5 %; ${options.users} users, ${options.workers} workers, each owning its sessions (a login replaces the worker's session; the abandoned one expires after JTS_STATE_PROOF_LIFETIME=120 s). bcrypt cost ${options.bcryptRounds}, rate limits on (counters in Redis) with limits above the load.`,
      `- Peak (closed loop, ${options.peakSeconds} s after a 5 s warm-up): **${peakRps.toFixed(0)} req/s**, p99 ${peakP99.toFixed(1)} ms, ${peakErrors} errors.`,
      `- Soak: paced at ${Math.round(options.load * 100)} % of the peak = **${target} req/s** for ${options.minutes} min: ${totalRequests} requests (verify ${counts.verify}, renew ${counts.renew}, login ${counts.login}).`,
      '',
      `## Verdict: ${pass ? 'PASS' : 'FAIL'}`,
      '',
      '| check | result | detail |',
      '| --- | --- | --- |',
      ...checks.map((c) => `| ${c.name} | ${c.ok ? 'ok' : 'FAILED'} | ${c.detail} |`),
      '',
      `RSS of the server: ${rows[0]?.rssMiB.toFixed(1) ?? '?'} MiB at the first sample, ${rows[rows.length - 1]?.rssMiB.toFixed(1) ?? '?'} MiB at the last. Redis used_memory: ${rows[0]?.redisMiB.toFixed(1) ?? '?'} → ${rows[rows.length - 1]?.redisMiB.toFixed(1) ?? '?'} MiB (it grows until abandoned sessions start expiring, 2 minutes in, then plateaus).`,
      '',
      `## Every ${options.sampleSeconds} s`,
      '',
      '| elapsed (s) | req/s | p50 (ms) | p99 (ms) | errors | server RSS (MiB) | Redis used_memory (MiB) | Redis keys | machine load (1 min) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.elapsedS} | ${r.rps} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ${r.rssMiB.toFixed(1)} | ${r.redisMiB.toFixed(2)} | ${r.redisKeys} | ${r.load1.toFixed(2)} |`),
      '',
      ...(serverErrors.trim() === '' ? [] : ['## Server stderr (last lines)', '', '```', serverErrors.trim().split('\n').slice(-20).join('\n'), '```', '']),
    ];
    mkdirSync(join(ROOT, 'reports'), { recursive: true });
    const file = join(ROOT, 'reports', `soak-${date}.md`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    console.log(`\n${checks.map((c) => `${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`).join('\n')}\nverdict ${pass ? 'PASS' : 'FAIL'}; report written to ${file}`);
    await cleanup();
    process.exit(pass ? 0 : 1);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
