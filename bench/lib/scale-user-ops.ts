/**
 * Per-user operations at size: one user with 100 live sessions (the most a user keeps, see
 * MAX_SESSIONS_PER_USER) lists them and ends all but the current one, `runs` times, through HTTP
 * and through the store alone. Each run refills the 99 ended sessions through the store first.
 */
import { Agent, request } from 'node:http';
import type { SessionStore } from '../../src/sessions/types.js';
import { credentialsFor, seedSessions, type ScaleSeedTools } from './scale-seed.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';

export interface UserOpsResult {
  runs: number;
  sessions: number;
  http: { list: LatencySummary; revokeOthers: LatencySummary };
  store: { list: LatencySummary; revokeAll: LatencySummary };
}

const SESSIONS = 100;

function timedRequest(agent: Agent, url: URL, method: string, headers: Record<string, string>): Promise<{ ms: number; status: number; body: string }> {
  const startedAt = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ ms: Number(process.hrtime.bigint() - startedAt) / 1e6, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function timed<T>(work: () => Promise<T>, into: LatencyRecorder): Promise<T> {
  const startedAt = process.hrtime.bigint();
  const result = await work();
  into.record(Number(process.hrtime.bigint() - startedAt) / 1e6);
  return result;
}

/** `prn` is a seeded account (with its mirror) that has no session yet. */
export async function measureUserOps(options: { baseUrl: string; tools: ScaleSeedTools; store: Pick<SessionStore, 'list' | 'revokeAll'>; prn: string; template: Parameters<typeof credentialsFor>[2]; lifetimeMs: number; runs: number }): Promise<UserOpsResult> {
  const { baseUrl, tools, store, prn, runs, lifetimeMs } = options;
  const [kept] = (await seedSessions(tools, [prn], lifetimeMs)).sessions;
  const { bearerPass } = credentialsFor(tools, kept!, options.template);
  const refill = () => seedSessions(tools, Array.from({ length: SESSIONS - 1 }, () => prn), lifetimeMs, SESSIONS);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { authorization: `Bearer ${bearerPass}`, 'x-jts-request': '1' };
  const recorders = { httpList: new LatencyRecorder(), httpRevoke: new LatencyRecorder(), storeList: new LatencyRecorder(), storeRevoke: new LatencyRecorder() };
  try {
    for (let run = 0; run < runs; run++) {
      await refill();
      const listed = await timedRequest(agent, new URL('/jts/sessions', baseUrl), 'GET', headers);
      recorders.httpList.record(listed.ms);
      const count = listed.status === 200 ? (JSON.parse(listed.body) as { sessions: unknown[] }).sessions.length : -1;
      if (count !== SESSIONS) throw new Error(`GET /jts/sessions: ${listed.status}, ${count} sessions (expected ${SESSIONS}): ${listed.body.slice(0, 300)}`);
      const revoked = await timedRequest(agent, new URL('/jts/sessions/revoke-others', baseUrl), 'POST', headers);
      recorders.httpRevoke.record(revoked.ms);
      const ended = revoked.status === 200 ? (JSON.parse(revoked.body) as { revokedSessions: number }).revokedSessions : -1;
      if (ended !== SESSIONS - 1) throw new Error(`POST /jts/sessions/revoke-others: ${revoked.status}, ${ended} ended (expected ${SESSIONS - 1}): ${revoked.body.slice(0, 300)}`);

      await refill();
      const records = await timed(() => store.list(prn, Date.now()), recorders.storeList);
      if (records.length !== SESSIONS) throw new Error(`store.list: ${records.length} sessions (expected ${SESSIONS})`);
      const endedByStore = await timed(() => store.revokeAll(prn, { reason: 'revoked', initiator: 'user' }, kept!.aid), recorders.storeRevoke);
      if (endedByStore.length !== SESSIONS - 1) throw new Error(`store.revokeAll: ${endedByStore.length} ended (expected ${SESSIONS - 1})`);
    }
  } finally {
    agent.destroy();
  }
  return {
    runs,
    sessions: SESSIONS,
    http: { list: recorders.httpList.summary(), revokeOthers: recorders.httpRevoke.summary() },
    store: { list: recorders.storeList.summary(), revokeAll: recorders.storeRevoke.summary() },
  };
}
