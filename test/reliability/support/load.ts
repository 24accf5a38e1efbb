import { profileCall, renewCall, sleep, type Answer } from './client';

/** A deterministic PRNG (mulberry32), so a run's mix of requests can be repeated. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `sp1.<prn>.<aid>.<generation>.<mac>` → its parts (the test reads the store with them). */
export function stateProofParts(stateProof: string): { prn: string; aid: string; generation: number } {
  const [, prn = '', aid = '', generation = '0'] = stateProof.split('.');
  return { prn, aid, generation: Number(generation) };
}

/**
 * What the client knows of one session. Exactly one worker drives a session, one request at a
 * time, so this view is exact: `stateProof` is the latest one an answer handed out.
 */
export interface TrackedSession {
  id: number;
  stateProof: string;
  bearerPass: string;
  /** StateProofs this session consumed, with the time the rotation that consumed them answered. */
  consumed: { stateProof: string; at: number }[];
  /** A renewal got no usable answer (503 or none) while the store may have run it. */
  uncertainAt: number[];
}

export interface Sample {
  kind: 'verify' | 'renew';
  session: number;
  sentAt: number;
  doneAt: number;
  status: number;
  error: string | undefined;
  retryAfterBody: unknown;
  retryAfterHeader: string | null | undefined;
}

export interface LoadOptions {
  base: () => string;
  sessions: TrackedSession[];
  workers: number;
  /** Requests per second, all workers together (paced; each worker waits for its answer). */
  rate: number;
  durationMs: number;
  /** Share of renewals (the rest are verifications). */
  renewShare: number;
  seed: number;
  timeoutMs?: number;
  /** Ends the run early (e.g. once the server was killed: no point hammering a closed port). */
  stop?: () => boolean;
}

/**
 * Drives verify (GET /api/profile) and renew (POST /jts/renew) over the sessions at a paced
 * rate, with a fixed number of workers, for a bounded time. Each worker owns a disjoint slice of
 * the sessions. Returns every request's outcome.
 */
export async function runLoad(options: LoadOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  const started = Date.now();
  const until = started + options.durationMs;
  const interval = (1000 * options.workers) / options.rate;
  const worker = async (index: number) => {
    const own = options.sessions.filter((s) => s.id % options.workers === index);
    if (own.length === 0) return;
    const random = prng(options.seed + index);
    let next = Date.now() + random() * interval;
    let i = 0;
    while (Date.now() < until && !(options.stop?.() ?? false)) {
      await sleep(Math.max(0, next - Date.now()));
      next += interval;
      const session = own[i++ % own.length]!;
      const kind = random() < options.renewShare ? 'renew' : 'verify';
      const sentAt = Date.now();
      const answer: Answer = kind === 'renew' ? await renewCall(options.base(), session.stateProof, options.timeoutMs) : await profileCall(options.base(), session.bearerPass, options.timeoutMs);
      const doneAt = Date.now();
      samples.push({
        kind,
        session: session.id,
        sentAt,
        doneAt,
        status: answer.status,
        error: typeof answer.body.error === 'string' ? (answer.body.error_code as string | undefined) ?? answer.body.error : undefined,
        retryAfterBody: answer.body.retry_after,
        retryAfterHeader: answer.headers?.get('retry-after'),
      });
      if (kind === 'renew') {
        if (answer.status === 200 && answer.stateProof !== undefined && typeof answer.body.bearerPass === 'string') {
          if (answer.stateProof !== session.stateProof) session.consumed.push({ stateProof: session.stateProof, at: doneAt });
          session.stateProof = answer.stateProof;
          session.bearerPass = answer.body.bearerPass;
        } else if (answer.status === 503 || answer.status === 0) {
          session.uncertainAt.push(sentAt);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, i) => worker(i)));
  return samples;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `{ "200": n, "503": m }` for a set of samples. */
export function byStatus(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) out[String(s.status)] = (out[String(s.status)] ?? 0) + 1;
  return out;
}
