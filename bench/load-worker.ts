/**
 * The load generator: a child process of run.ts (pinned to its own CPU when taskset exists) that
 * runs one job at a time on request over IPC — autocannon loads, an open-loop latency probe, and
 * the setup traffic (register, login, renew chains).
 */
import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';
import type { Credentials, Job, JobMessage, JobResult, LoadResult, LoadSpec, ProbeResult, ProbeSpec, ReplyMessage, SessionBatch } from './lib/protocol.js';
import { STATE_PROOF_COOKIE, stateProofFromSetCookie } from './lib/protocol.js';
import { LatencyRecorder } from './lib/stats.js';

const JSON_HEADERS = { 'content-type': 'application/json', 'x-jts-request': '1' };

interface Chain {
  stateProof: string;
  inFlight: boolean;
  /** The last request got no answer (cut off or timed out): its rotation may or may not have happened. */
  uncertain: boolean;
  dead: boolean;
}

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { request } = spec;
  const chains: Chain[] = request.type === 'renew' ? request.chains.map((stateProof) => ({ stateProof, inFlight: false, uncertain: false, dead: false })) : [];
  let clientIndex = 0;
  let tokenIndex = 0;
  const draw = (length: number) => Math.floor(Math.random() * length);

  const options: autocannon.Options = {
    url: spec.baseUrl,
    connections: spec.connections,
    duration: spec.durationS,
    timeout: 20,
  };
  switch (request.type) {
    case 'get':
      options.requests = [{ method: 'GET', path: request.path }];
      break;
    case 'bearer': {
      const { tokens, path } = request;
      const random = request.pick === 'random';
      options.requests = [
        {
          method: 'GET',
          path,
          setupRequest(req) {
            const token = tokens[random ? draw(tokens.length) : tokenIndex++ % tokens.length]!;
            return { ...req, headers: { authorization: `Bearer ${token}` } };
          },
        },
      ];
      break;
    }
    case 'introspect': {
      const { tokens, authorization } = request;
      options.requests = [
        {
          method: 'POST',
          path: '/jts/introspect',
          setupRequest(req) {
            const token = tokens[tokenIndex++ % tokens.length]!;
            return { ...req, headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` };
          },
        },
      ];
      break;
    }
    case 'login': {
      const { credentials } = request;
      const loginBody = (user: Credentials) => JSON.stringify({ email: user.email, password: user.password });
      options.requests = [{ method: 'POST', path: '/jts/login' }];
      options.setupClient = (client) => {
        if (request.pick === 'random') {
          client.setRequests([{ method: 'POST', path: '/jts/login', setupRequest: (req) => ({ ...req, headers: JSON_HEADERS, body: loginBody(credentials[draw(credentials.length)]!) }) }]);
          return;
        }
        const mine = credentials[clientIndex++ % credentials.length]!;
        client.setRequests([{ method: 'POST', path: '/jts/login', headers: JSON_HEADERS, body: loginBody(mine) }]);
      };
      break;
    }
    case 'renew': {
      const connections = spec.connections;
      const random = request.pick === 'random';
      options.requests = [{ method: 'POST', path: '/jts/renew' }];
      options.setupClient = (client) => {
        const index = clientIndex++;
        // Chain i belongs to connection i % connections: each chain is only ever renewed by one connection, one request at a time.
        const mine = chains.filter((_, i) => i % connections === index % connections);
        let turn = 0;
        let current: Chain | undefined;
        client.setRequests([
          {
            method: 'POST',
            path: '/jts/renew',
            setupRequest(req) {
              // A request that never got its answer (timeout, reconnect) leaves its chain in doubt: set it aside.
              if (current?.inFlight) current.uncertain = true;
              let pick: Chain | undefined;
              for (let k = 0; k < mine.length && pick === undefined; k++) {
                const candidate = mine[random ? draw(mine.length) : turn++ % mine.length]!;
                if (!candidate.uncertain && !candidate.dead) pick = candidate;
              }
              current = pick ?? mine[turn++ % mine.length]!;
              current.inFlight = true;
              return { ...req, headers: { 'x-jts-request': '1', cookie: `${STATE_PROOF_COOKIE}=${current.stateProof}` } };
            },
            onResponse(status, _body, _context, headers) {
              const chain = current;
              if (!chain) return;
              chain.inFlight = false;
              const next = status === 200 ? stateProofFromSetCookie(headerValue(headers, 'set-cookie')) : undefined;
              if (next === undefined) chain.dead = true;
              else chain.stateProof = next;
            },
          },
        ]);
      };
      break;
    }
  }

  return new Promise((resolve, reject) => {
    const latency = new LatencyRecorder();
    const statusCounts: Record<string, number> = {};
    const started = process.hrtime.bigint();
    let firstAt = 0n;
    let lastAt = 0n;
    const instance = autocannon(options, (error, result) => {
      if (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const durationS = Number(process.hrtime.bigint() - started) / 1e9;
      const base: LoadResult = {
        responses: latency.count,
        durationS,
        rps: latency.count / durationS,
        steadyRps: latency.count > 1 ? ((latency.count - 1) * 1e9) / Number(lastAt - firstAt) : latency.count / durationS,
        latency: latency.summary(),
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        statusCounts,
      };
      if (request.type !== 'renew') {
        resolve(base);
        return;
      }
      // Requests cut off by the end of the run: their rotation may have happened. Presenting the
      // same StateProof again at once lands inside the grace window and yields the current one.
      const doubtful = chains.filter((chain) => (chain.inFlight || chain.uncertain) && !chain.dead);
      resyncChains(spec.baseUrl, doubtful)
        .then(() => {
          resolve({ ...base, chains: chains.map((chain) => (chain.dead ? '' : chain.stateProof)), resynced: doubtful.length, lost: chains.filter((chain) => chain.dead).length });
        })
        .catch(reject);
    });
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      latency.record(responseTime);
      lastAt = process.hrtime.bigint();
      if (firstAt === 0n) firstAt = lastAt;
      const key = String(statusCode);
      statusCounts[key] = (statusCounts[key] ?? 0) + 1;
    });
  });
}

function headerValue(headers: Record<string, unknown> | undefined, name: string): string | string[] | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : undefined;
  }
  return undefined;
}

async function resyncChains(baseUrl: string, chains: Chain[]): Promise<void> {
  await forEachLimited(chains, 32, async (chain) => {
    const answer = await renewOnce(baseUrl, chain.stateProof);
    chain.inFlight = false;
    chain.uncertain = false;
    if (answer === undefined) chain.dead = true;
    else chain.stateProof = answer;
  });
}

// ---------------------------------------------------------------------------------------------
// Open-loop probe: fixed send times, never waiting for answers, so a stalled server shows up as
// latency (requests queue on the sockets), not as fewer samples.

function runProbe(spec: ProbeSpec): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.sockets });
  const url = new URL(spec.path, spec.baseUrl);
  const latency = new LatencyRecorder();
  const intervalNs = BigInt(Math.round(1e9 / spec.ratePerS));
  const total = Math.max(1, Math.round(spec.ratePerS * spec.durationS));
  let sent = 0;
  let completed = 0;
  let non2xx = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const finish = () => {
      agent.destroy();
      resolve({ sent, completed, non2xx, errors, latency: latency.summary() });
    };
    const fire = () => {
      // Timed from the moment it is sent (the probe's timer is ~1 ms coarse; its lateness is not the server's).
      const sentAt = process.hrtime.bigint();
      const token = spec.tokens[sent % spec.tokens.length]!;
      sent++;
      const req = httpRequest(url, { agent, method: 'GET', headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          latency.record(Number(process.hrtime.bigint() - sentAt) / 1e6);
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) non2xx++;
          if (++completed + errors === total) finish();
        });
      });
      req.on('error', () => {
        if (completed + ++errors === total) finish();
      });
      req.end();
    };
    const tick = () => {
      const now = process.hrtime.bigint();
      while (sent < total && start + intervalNs * BigInt(sent) <= now) fire();
      if (sent < total) {
        const waitMs = Number(start + intervalNs * BigInt(sent) - process.hrtime.bigint()) / 1e6;
        setTimeout(tick, Math.max(0, waitMs - 0.2));
      }
    };
    tick();
  });
}

// ---------------------------------------------------------------------------------------------
// Setup traffic.

interface Issued {
  status: number;
  stateProof?: string;
  bearerPass?: string;
}

async function postJson(url: string, headers: Record<string, string>, body?: unknown): Promise<Issued> {
  const response = await fetch(url, { method: 'POST', headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  const stateProof = stateProofFromSetCookie(response.headers.getSetCookie());
  let bearerPass: string | undefined;
  if (response.ok) bearerPass = (JSON.parse(text) as { bearerPass?: string }).bearerPass;
  return { status: response.status, ...(stateProof === undefined ? {} : { stateProof }), ...(bearerPass === undefined ? {} : { bearerPass }) };
}

async function renewOnce(baseUrl: string, stateProof: string): Promise<string | undefined> {
  const issued = await postJson(`${baseUrl}/jts/renew`, { 'x-jts-request': '1', cookie: `${STATE_PROOF_COOKIE}=${stateProof}` });
  return issued.status === 200 ? issued.stateProof : undefined;
}

async function forEachLimited<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
}

async function issueMany(items: readonly Credentials[], concurrency: number, send: (item: Credentials) => Promise<Issued>, expected: number): Promise<SessionBatch> {
  const started = process.hrtime.bigint();
  const stateProofs: string[] = new Array<string>(items.length).fill('');
  const bearerPasses: string[] = new Array<string>(items.length).fill('');
  const failureStatuses: Record<string, number> = {};
  let failures = 0;
  await forEachLimited(items, concurrency, async (item, index) => {
    // As a well-behaved client: a 503 (a backing store busy right after start-up) is tried again
    // a few times after a pause; nothing was written by the refused attempt.
    let issued = await send(item);
    for (let attempt = 1; issued.status === 503 && attempt < 5; attempt++) {
      await new Promise((resume) => setTimeout(resume, 250 * attempt));
      issued = await send(item);
    }
    if (issued.status !== expected || issued.stateProof === undefined || issued.bearerPass === undefined) {
      failures++;
      failureStatuses[issued.status] = (failureStatuses[issued.status] ?? 0) + 1;
      return;
    }
    stateProofs[index] = issued.stateProof;
    bearerPasses[index] = issued.bearerPass;
  });
  return { stateProofs, bearerPasses, failures, failureStatuses, durationS: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function renewMany(baseUrl: string, stateProofs: readonly string[], times: number, concurrency: number): Promise<SessionBatch> {
  const started = process.hrtime.bigint();
  const current = [...stateProofs];
  const failureStatuses: Record<string, number> = {};
  let failures = 0;
  await forEachLimited(current, concurrency, async (initial, index) => {
    let stateProof = initial;
    for (let i = 0; i < times && stateProof !== ''; i++) {
      const issued = await postJson(`${baseUrl}/jts/renew`, { 'x-jts-request': '1', cookie: `${STATE_PROOF_COOKIE}=${stateProof}` });
      if (issued.status === 200 && issued.stateProof !== undefined) {
        stateProof = issued.stateProof;
      } else {
        failures++;
        failureStatuses[issued.status] = (failureStatuses[issued.status] ?? 0) + 1;
        stateProof = '';
      }
    }
    current[index] = stateProof;
  });
  return { stateProofs: current, bearerPasses: [], failures, failureStatuses, durationS: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function run(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case 'load':
      return runLoad(job.spec);
    case 'probe':
      return runProbe(job.spec);
    case 'flood': {
      const [load, probe] = await Promise.all([runLoad(job.load), runProbe(job.probe)]);
      return { load, probe };
    }
    case 'register':
      return issueMany(
        job.users,
        job.concurrency,
        async (user) => {
          const registered = await postJson(`${job.baseUrl}/jts/register`, JSON_HEADERS, { email: user.email, password: user.password, name: user.name ?? 'Bench User' });
          if (registered.status !== 409) return registered;
          // A retried 503 whose account was written before the session failed: sign in instead.
          const signedIn = await postJson(`${job.baseUrl}/jts/login`, JSON_HEADERS, { email: user.email, password: user.password });
          return signedIn.status === 200 ? { ...signedIn, status: 201 } : signedIn;
        },
        201,
      );
    case 'login':
      return issueMany(job.logins, job.concurrency, (user) => postJson(`${job.baseUrl}/jts/login`, JSON_HEADERS, { email: user.email, password: user.password }), 200);
    case 'renew':
      return renewMany(job.baseUrl, job.stateProofs, job.times, job.concurrency);
  }
}

process.on('message', (message: JobMessage) => {
  run(message.job).then(
    (result) => process.send?.({ id: message.id, ok: true, result } satisfies ReplyMessage),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ReplyMessage),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, result: { stateProofs: [], bearerPasses: [], failures: 0, failureStatuses: {}, durationS: 0 } } satisfies ReplyMessage);
