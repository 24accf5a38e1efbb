/**
 * The remote verifier of `npm run bench:revocation`: another service, in a process of its own,
 * using the installed `@jts-auth/verifier` exactly as its README shows — the JWKS URL, the issuer
 * and audience, and the auth server's `GET /jts/events` with a service client holding `jts:events`.
 *
 * Driven over the IPC channel (bench/lib/revocation-protocol.ts). For each watched BearerPass (one
 * whose session the driver has just revoked) it calls `verify()` — the service's own check — until
 * it answers JTS-401-04, and reports when that happened on the wall clock the driver also reads.
 * Started with --expose-gc: heap figures are taken after a full collection.
 */
import { createVerifier, type VerifierCounter } from '@jts-auth/verifier';
import type { VerifierReply, VerifierRequest, WatchResult } from './lib/revocation-protocol.js';

/** Pending BearerPasses are checked this often (ms): the resolution of a measured latency. */
const POLL_MS = 1;
/** A watch still accepted after this long is reported as never refused. */
const GIVE_UP_MS = 30_000;

// CLOCK_MONOTONIC, one clock for every process on the host: timestamps taken here and in the other
// process compare directly (performance.timeOrigin differs per process by a few ms: the smoke run
// measured a p50 of −7.6 ms).
const wallMs = () => Number(process.hrtime.bigint()) / 1e6;
const send = (reply: VerifierReply) => process.send?.(reply);
const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

const config = JSON.parse(process.env.REVOCATION_VERIFIER ?? '{}') as { base: string; issuer: string; audience: string; clientId: string; clientSecret: string };
const events = new Map<string, number>();
const verifier = createVerifier({
  jwksUrl: `${config.base}/.well-known/jts-jwks`,
  issuer: config.issuer,
  audience: config.audience,
  events: { url: `${config.base}/jts/events`, clientId: config.clientId, clientSecret: config.clientSecret },
  metrics: {
    count(name: VerifierCounter, labels?: Readonly<Record<string, string>>) {
      const key = labels?.result === undefined ? name : `${name}{result=${labels.result}}`;
      events.set(key, (events.get(key) ?? 0) + 1);
    },
  },
});

interface Watch {
  id: number;
  token: string;
  answeredAt: number;
  checks: number;
}
const pending: Watch[] = [];
let done: WatchResult[] = [];
let checking = false;

/** One pass over the pending BearerPasses; a refusal is timed when verify() resolves with it. */
async function check(): Promise<void> {
  if (checking || pending.length === 0) return;
  checking = true;
  try {
    for (let i = 0; i < pending.length; ) {
      const watch = pending[i]!;
      const result = await verifier.verify(watch.token);
      const now = wallMs();
      watch.checks++;
      if (!result.ok || now - watch.answeredAt > GIVE_UP_MS) {
        pending.splice(i, 1);
        const code = result.ok ? 'accepted' : result.error.code;
        done.push({ id: watch.id, code, latencyMs: now - watch.answeredAt, checks: watch.checks });
      } else {
        i++;
      }
    }
  } finally {
    checking = false;
  }
}

setInterval(() => void check(), POLL_MS);
setInterval(() => {
  if (done.length === 0) return;
  send({ type: 'results', results: done });
  done = [];
}, 100);

process.on('message', (message: VerifierRequest) => {
  void (async () => {
    switch (message.type) {
      case 'watch':
        pending.push({ id: message.id, token: message.token, answeredAt: message.answeredAt, checks: 0 });
        void check();
        return;
      case 'precheck': {
        let accepted = 0;
        const refusals: Record<string, number> = {};
        for (const token of message.tokens) {
          const result = await verifier.verify(token);
          if (result.ok) accepted++;
          else refusals[result.error.code] = (refusals[result.error.code] ?? 0) + 1;
        }
        send({ type: 'precheck', accepted, refusals });
        return;
      }
      case 'stats':
        send({ type: 'stats', heapUsed: heapUsed(), status: verifier.status(), pending: pending.length, events: Object.fromEntries(events) });
        return;
      case 'stop':
        await verifier.close();
        process.exit(0);
    }
  })();
});

// Ready once connected to the feed: watches sent before would time the connection, not a revocation.
const readyTimer = setInterval(() => {
  const status = verifier.status();
  if (status.feed !== 'connected') return;
  clearInterval(readyTimer);
  send({ type: 'ready', heapUsed: heapUsed(), status });
}, 20);
