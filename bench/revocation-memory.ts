/**
 * Child process of `npm run bench:revocation` (started with --expose-gc): an hour of revocations
 * at the given rate, compressed in time, into the installed package's revocation set, on the
 * package's ManualClock — see bench/lib/revocation-memory.ts. Prints one JSON line (MemoryRun).
 *
 * argv: ratePerS simulatedS notAfterMs toleranceMs sampleEveryS
 */
import { ManualClock } from '@jts-auth/verifier/internal/clock.js';
import { RevokedSessions } from '@jts-auth/verifier/internal/events/revocations.js';
import { simulateRevocations } from './lib/revocation-memory.js';

const [ratePerS, simulatedS, notAfterMs, toleranceMs, sampleEveryS] = process.argv.slice(2).map(Number) as [number, number, number, number, number];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc: heap figures are taken after a full collection');

const clock = new ManualClock(Date.now());
// As createVerifier builds it for `events`: the clock tolerance (clockSkewSeconds, default 5 s) in ms.
const set = new RevokedSessions(clock, toleranceMs);
const run = simulateRevocations(
  { ratePerS, simulatedS, notAfterMs, sampleEveryS, lookupsPerS: 100 },
  {
    clock,
    set,
    heapUsed() {
      gc();
      return process.memoryUsage().heapUsed;
    },
  },
);
process.stdout.write(`${JSON.stringify(run)}\n`);
