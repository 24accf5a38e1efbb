/**
 * The verifier's memory under a steady stream of revocations, in simulated time: the package's own
 * revocation set (`RevokedSessions`, the one `createVerifier` builds for `events`) fed `ratePerS`
 * revocations per simulated second on a clock that moves with the simulation, so entries expire
 * exactly as they would over the real hour. Events are shaped as the server's: jti = a stream id
 * (`<ms>-<seq>`), aid = 16 random bytes base64url (the server's randomId), `jts_not_after` =
 * revocation time + the server's notAfter window, in seconds.
 */
import { randomFillSync } from 'node:crypto';

export interface RevocationSet {
  revoke(jti: string, aid: string, notAfterSeconds: number): 'revoked' | 'duplicate' | 'expired';
  has(aid: string): boolean;
  readonly size: number;
  readonly entries: number;
}

export interface SettableClock {
  now(): number;
  set(ms: number): void;
}

export interface MemoryPlan {
  ratePerS: number;
  simulatedS: number;
  /** Revocation time + this = jts_not_after (the server's max(BearerPass, exchange token life) + grace). */
  notAfterMs: number;
  /** A sample (heap after GC, entries) every this many simulated seconds. */
  sampleEveryS: number;
  /** Verifications of random known sessions per simulated second (the lookups that drop expired entries on the way). */
  lookupsPerS: number;
}

export interface MemorySample {
  simulatedS: number;
  heapUsed: number;
  /** Revoked sessions held (after a sweep). */
  sessions: number;
  /** Entries of both maps (sessions and event ids). */
  entries: number;
}

export interface MemoryRun {
  plan: MemoryPlan;
  revocations: number;
  samples: MemorySample[];
  wallS: number;
}

const ID_BYTES = 16;

export function simulateRevocations(plan: MemoryPlan, deps: { clock: SettableClock; set: RevocationSet; heapUsed: () => number }): MemoryRun {
  const { clock, set, heapUsed } = deps;
  const start = clock.now();
  const startedAt = process.hrtime.bigint();
  const samples: MemorySample[] = [{ simulatedS: 0, heapUsed: heapUsed(), sessions: set.size, entries: set.entries }];
  const random = Buffer.alloc(ID_BYTES * plan.ratePerS);
  const recent: string[] = [];
  let revocations = 0;
  for (let second = 0; second < plan.simulatedS; second++) {
    randomFillSync(random);
    for (let i = 0; i < plan.ratePerS; i++) {
      const at = start + second * 1000 + Math.floor((i * 1000) / plan.ratePerS);
      clock.set(at);
      const aid = random.toString('base64url', i * ID_BYTES, (i + 1) * ID_BYTES);
      const outcome = set.revoke(`${at}-${i}`, aid, Math.ceil((at + plan.notAfterMs) / 1000));
      if (outcome !== 'revoked') throw new Error(`simulateRevocations: revocation ${revocations} was ${outcome}`);
      revocations++;
      if (i < plan.lookupsPerS) recent.push(aid);
    }
    for (const aid of recent.splice(0)) set.has(aid);
    if ((second + 1) % plan.sampleEveryS === 0) {
      clock.set(start + (second + 1) * 1000);
      samples.push({ simulatedS: second + 1, heapUsed: heapUsed(), sessions: set.size, entries: set.entries });
    }
  }
  return { plan, revocations, samples, wallS: Number(process.hrtime.bigint() - startedAt) / 1e9 };
}

export interface MemorySummary {
  startBytes: number;
  peakBytes: number;
  endBytes: number;
  /** Heap above the start per held session at the end (both maps' entries, per session). */
  bytesPerSession: number;
  /** rate × (notAfter + tolerance + 1 s): the sessions a verifier can hold at most (jts_not_after is rounded up to a second). */
  boundSessions: number;
  peakSessions: number;
  endSessions: number;
  /** Samples from two windows on (every entry of the first window has expired and its slot been reused): the steady state. */
  steadyMinBytes: number;
  steadyMaxBytes: number;
  /** (steady max − steady min) ÷ steady max; flat when small. */
  steadySpread: number;
  flat: boolean;
}

/** Flat: from two windows on the heap stays within 10 %, and no sample holds more sessions than the bound. */
export function summariseMemory(run: MemoryRun, toleranceMs: number): MemorySummary {
  const { plan, samples } = run;
  const windowS = (plan.notAfterMs + toleranceMs) / 1000;
  const boundSessions = Math.ceil(plan.ratePerS * (windowS + 1));
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  // Not from the first window on: V8 grows a Map's table once more shortly after (rehash), and keeps it.
  const steady = samples.filter((sample) => sample.simulatedS >= 2 * windowS);
  const heaps = steady.map((sample) => sample.heapUsed);
  const steadyMinBytes = heaps.length > 0 ? Math.min(...heaps) : Number.NaN;
  const steadyMaxBytes = heaps.length > 0 ? Math.max(...heaps) : Number.NaN;
  const steadySpread = heaps.length > 0 ? (steadyMaxBytes - steadyMinBytes) / steadyMaxBytes : Number.NaN;
  const peakSessions = Math.max(...samples.map((sample) => sample.sessions));
  return {
    startBytes: first.heapUsed,
    peakBytes: Math.max(...samples.map((sample) => sample.heapUsed)),
    endBytes: last.heapUsed,
    bytesPerSession: last.sessions > 0 ? (last.heapUsed - first.heapUsed) / last.sessions : Number.NaN,
    boundSessions,
    peakSessions,
    endSessions: last.sessions,
    steadyMinBytes,
    steadyMaxBytes,
    steadySpread,
    flat: heaps.length >= 2 && steadySpread <= 0.1 && peakSessions <= boundSessions,
  };
}
