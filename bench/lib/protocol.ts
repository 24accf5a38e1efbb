import type { LatencySummary } from './stats.js';

/** What run.ts asks of the load worker (pinned to its own CPU), and what it answers. */

export interface Credentials {
  email: string;
  password: string;
  name?: string;
}

export type LoadRequest =
  /** A static GET. */
  | { type: 'get'; path: string }
  /** GET with `Authorization: Bearer <token>`, the tokens taken round-robin across all connections (or at random). */
  | { type: 'bearer'; path: string; tokens: string[]; pick?: Pick }
  /** POST /jts/introspect as one service client (`authorization`: its Basic header), the tokens round-robin. */
  | { type: 'introspect'; authorization: string; tokens: string[] }
  /** POST /jts/renew; each connection owns `chains.length / connections` StateProof chains and renews them in turn (or picks one at random). */
  | { type: 'renew'; chains: string[]; pick?: Pick }
  /** POST /jts/login, each connection logging in as one of the credentials (`random`: any of them, drawn per request). */
  | { type: 'login'; credentials: Credentials[]; pick?: Pick };

/**
 * `cycle` (the default): in turn, as real clients reuse their own few credentials. `random`: drawn
 * per request, so a large set is touched all over (bench/scale.ts: caches at size).
 */
export type Pick = 'cycle' | 'random';

export interface LoadSpec {
  baseUrl: string;
  connections: number;
  durationS: number;
  request: LoadRequest;
}

export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  durationS: number;
  /** Responses per second. */
  rps: number;
  /** (responses − 1) / (last response − first response): the rate without the ramp-up, for slow requests (login). */
  steadyRps: number;
  /** Latency of every response, any status, in ms (autocannon's own histogram keeps 2xx only, in whole ms). */
  latency: LatencySummary;
  /** Connection errors and timeouts (autocannon's count). */
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  /** renew only: the chains' current StateProofs ('' for a chain that was lost). */
  chains?: string[];
  /** renew only: chains whose last answer was cut off by the end of the run and were re-synced inside the grace window. */
  resynced?: number;
  /** renew only: chains that could not be continued (answered non-200). */
  lost?: number;
}

/** An open-loop probe: one request every 1000/ratePerS ms, whatever the answers do (no coordinated omission). */
export interface ProbeSpec {
  baseUrl: string;
  path: string;
  tokens: string[];
  ratePerS: number;
  durationS: number;
  /** Keep-alive sockets the probe may use. */
  sockets: number;
}

export interface ProbeResult {
  sent: number;
  completed: number;
  non2xx: number;
  errors: number;
  latency: LatencySummary;
}

export interface SessionBatch {
  stateProofs: string[];
  bearerPasses: string[];
  failures: number;
  /** Status codes of failures, for the error message. */
  failureStatuses: Record<string, number>;
  durationS: number;
}

export type Job =
  | { kind: 'load'; spec: LoadSpec }
  | { kind: 'probe'; spec: ProbeSpec }
  /** The login load and the probe at the same time (login-flood). */
  | { kind: 'flood'; load: LoadSpec; probe: ProbeSpec }
  | { kind: 'register'; baseUrl: string; users: Credentials[]; concurrency: number }
  | { kind: 'login'; baseUrl: string; logins: Credentials[]; concurrency: number }
  /** Renews each chain `times` times in sequence (chains in parallel); answers the new StateProofs. */
  | { kind: 'renew'; baseUrl: string; stateProofs: string[]; times: number; concurrency: number };

export type JobResult = LoadResult | ProbeResult | { load: LoadResult; probe: ProbeResult } | SessionBatch;

export interface JobMessage {
  id: number;
  job: Job;
}

export type ReplyMessage = { id: number; ok: true; result: JobResult } | { id: number; ok: false; error: string };

export const STATE_PROOF_COOKIE = 'jts_state_proof';

/** The StateProof in a Set-Cookie header value (or list), if any. */
export function stateProofFromSetCookie(value: string | string[] | undefined): string | undefined {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  for (const cookie of list) {
    const match = /^jts_state_proof=([^;]*)/.exec(cookie);
    if (match?.[1]) return decodeURIComponent(match[1]);
  }
  return undefined;
}
