import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '@jts-auth/verifier/internal/clock.js';
import { RevokedSessions } from '@jts-auth/verifier/internal/events/revocations.js';
import { simulateRevocations, summariseMemory, type MemoryPlan, type RevocationSet } from '../../bench/lib/revocation-memory';

/**
 * The simulation behind the revocation bench's memory figure, at a small scale: the package's
 * revocation set on its ManualClock, with a fake heap (the set's entries) so the judgement is exact.
 */
describe('the revocation bench’s memory simulation', () => {
  const plan: MemoryPlan = { ratePerS: 50, simulatedS: 300, notAfterMs: 40_000, sampleEveryS: 10, lookupsPerS: 5 };
  const toleranceMs = 5000;

  function run(set: RevocationSet, clock: ManualClock) {
    return simulateRevocations(plan, { clock, set, heapUsed: () => 1000 + set.entries * 100 });
  }

  it('holds no more than rate × (notAfter + tolerance) sessions, and is judged flat', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const result = run(new RevokedSessions(clock, toleranceMs), clock);
    expect(result.revocations).toBe(plan.ratePerS * plan.simulatedS);
    expect(result.samples).toHaveLength(plan.simulatedS / plan.sampleEveryS + 1);
    // The clock moved with the events: the simulated time ran past, entries expired on it.
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1) + plan.simulatedS * 1000);
    const summary = summariseMemory(result, toleranceMs);
    expect(summary.boundSessions).toBe(50 * 46);
    expect(summary.peakSessions).toBeLessThanOrEqual(summary.boundSessions);
    // Past the first window it holds about one window's worth (the bound, give or take the rounding second).
    expect(summary.endSessions).toBeGreaterThanOrEqual(summary.boundSessions - 2 * plan.ratePerS);
    expect(summary.flat).toBe(true);
  });

  it('judges a set that never forgets as not flat', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const sessions = new Set<string>();
    const hoarder: RevocationSet = {
      revoke(_jti, aid) {
        sessions.add(aid);
        return 'revoked';
      },
      has: (aid) => sessions.has(aid),
      get size() {
        return sessions.size;
      },
      get entries() {
        return sessions.size;
      },
    };
    const summary = summariseMemory(run(hoarder, clock), toleranceMs);
    expect(summary.peakSessions).toBe(plan.ratePerS * plan.simulatedS);
    expect(summary.flat).toBe(false);
  });

  it('gives no steady-state verdict for a run shorter than one window', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const short = simulateRevocations({ ...plan, simulatedS: 30 }, { clock, set: new RevokedSessions(clock, toleranceMs), heapUsed: () => 0 });
    const summary = summariseMemory(short, toleranceMs);
    expect(summary.steadySpread).toBeNaN();
    expect(summary.flat).toBe(false);
  });
});
