import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis as IORedis, type Redis } from 'ioredis';
import { login, newAccount, register, renewCall, sleep, type Answer } from './support/client';
import { prng, stateProofParts } from './support/load';
import { ChildServer, LOG_DIR, makeKeyDir, RedisProcess, redisBinariesPresent } from './support/processes';
import { decodeGeneration } from '../../src/sessions/redis-keys';

/**
 * Issue 15, as a property: a renewal answered 503 must never rotate later, and a rotation whose
 * answer was lost must still be retried within the grace window. Many sessions renew at once
 * against the real server (a child process, real clocks) while its Redis is paused (CLIENT PAUSE),
 * blocked (DEBUG SLEEP) or has its connections cut mid-command (CLIENT KILL), for durations around
 * REDIS_COMMAND_TIMEOUT and around the grace window. Clients behave like the browser client: after
 * a 503 they wait and renew again with the StateProof they hold (the same one).
 *
 * Property, over every round: no JTS-401-05 (nor any other 401) for a client that only ever
 * presented StateProofs the server gave it, and no forked session — the store's generation is the
 * client's, or one ahead only when the client's last answer was a 503, and then the client's next
 * renewal is accepted. The one exception is told apart exactly and counted, not hidden: a lost
 * answer followed by a Redis that answered nothing for the whole grace window (LostBeforeOutage).
 *
 * STALL_ROUNDS (default 5), STALL_SEED and STALL_SESSIONS make a longer run:
 *   STALL_ROUNDS=60 npx jest test/reliability/redis-stall.test.ts
 */
const present = redisBinariesPresent();
if (!present) console.warn('SKIPPED test/reliability/redis-stall.test.ts: redis-server/redis-cli are not installed (apt-get install redis-server)');
const describeWithRedis = present ? describe : describe.skip;

const ROUNDS = Number(process.env.STALL_ROUNDS ?? 5);
const SEED = Number(process.env.STALL_SEED ?? 15);
const SESSIONS = Number(process.env.STALL_SESSIONS ?? 48);
const PREFIX = 'stall:';
const COMMAND_TIMEOUT_MS = 400;
/** The shortest window the configuration allows: a stall longer than it is what exposed the bug. */
const GRACE_MS = 5000;
/** What the browser client waits after a failed renewal (src/client/jts-client.ts, RETRY_MS). */
const CLIENT_RETRY_MS = 2000;

/** A cut: after `gapMs`, the server's connections are killed — at once, or after Redis froze for `freezeMs` (so commands that piled up run, and lose their answers, in the same instant). */
interface Cut {
  gapMs: number;
  freezeMs: number;
}
type Fault = { kind: 'pause' | 'sleep'; ms: number } | { kind: 'kill'; cuts: Cut[] };
interface Round {
  fault: Fault;
  /** Renewals run this long before the fault. */
  warmupMs: number;
}

/**
 * The plan cycles through five shapes so that even the short CI run has every kind of fault and
 * both duration scales; fast-check draws the numbers from the seed.
 */
function plan(rounds: number, seed: number): Round[] {
  const aroundTimeout = fc.integer({ min: COMMAND_TIMEOUT_MS / 2, max: 3 * COMMAND_TIMEOUT_MS });
  const aroundGrace = fc.integer({ min: GRACE_MS - 1500, max: GRACE_MS + 2000 });
  const warmupMs = fc.integer({ min: 200, max: 800 });
  const shapes: fc.Arbitrary<Fault>[] = [
    aroundGrace.map((ms) => ({ kind: 'pause', ms })),
    aroundTimeout.map((ms) => ({ kind: 'sleep', ms })),
    fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 400 }), freezeMs: fc.oneof(fc.constant(0), fc.integer({ min: 20, max: COMMAND_TIMEOUT_MS / 2 - 50 })) }), { minLength: 2, maxLength: 6 }).map((cuts) => ({ kind: 'kill', cuts })),
    aroundTimeout.map((ms) => ({ kind: 'pause', ms })),
    aroundGrace.map((ms) => ({ kind: 'sleep', ms })),
  ];
  const draws = fc.sample(fc.tuple(fc.tuple(...shapes), fc.array(warmupMs, { minLength: shapes.length, maxLength: shapes.length })), { seed, numRuns: Math.ceil(rounds / shapes.length) });
  const out: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const [faults, warmups] = draws[Math.floor(i / shapes.length)]!;
    out.push({ fault: faults[i % shapes.length]!, warmupMs: warmups[i % shapes.length]! });
  }
  return out;
}

interface Client {
  id: number;
  account: { email: string; password: string };
  stateProof: string;
  /** Status of the last renewal answer (0: no answer). */
  last: number;
}

/** One renewal of a client, as the client saw it. */
interface Attempt {
  client: Client;
  stateProof: string;
  sentAt: number;
  doneAt: number;
  answer: Answer;
}

interface Violation {
  round: number;
  fault: Fault;
  session: number;
  what: string;
}

/**
 * What the design cannot promise, told apart exactly: a rotation that ran in time just before
 * Redis stopped answering, whose answer was lost (DEBUG SLEEP blocks Redis before it sends it; or
 * this machine's load stalled the server past its command timeout), followed by a Redis that
 * answered nothing for about the whole grace window. Every retry of the client inside the window
 * got 503, its first answered one came after the window: a replay verdict, as after any outage
 * longer than the window that follows a lost answer. Excused only when the store had already
 * rotated when the stall began (read in the same MULTI as the CLIENT PAUSE or DEBUG SLEEP, so
 * nothing ran in between) and the verdict came more than a window after the client's first
 * unanswered renewal with that StateProof. A rotation run *after* the stall began — the bug of
 * issue 15 — is never excused.
 */
interface LostBeforeOutage {
  round: number;
  session: number;
  presented: number;
  generationAtStall: number;
  firstUnansweredMsBeforeVerdict: number;
}
interface RoundStats {
  round: number;
  fault: Fault;
  renewals: number;
  byStatus: Record<string, number>;
  /** Sessions whose store was one generation ahead of a client whose last answer was a 503. */
  aheadAfter503: number;
  ms: number;
}

describeWithRedis('renewals while Redis stalls (issue 15)', () => {
  let redis: RedisProcess;
  let admin: Redis;
  let keys: Awaited<ReturnType<typeof makeKeyDir>>;
  let server: ChildServer;

  beforeAll(async () => {
    // DEBUG SLEEP is refused unless enabled; 'local' allows it from loopback only.
    redis = await RedisProcess.start(['--enable-debug-command', 'local']);
    admin = redis.client();
    keys = await makeKeyDir();
    server = await ChildServer.start({
      name: 'redis-stall',
      env: {
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: PREFIX,
        REDIS_COMMAND_TIMEOUT: String(COMMAND_TIMEOUT_MS),
        ...keys.env,
        JTS_ROTATION_GRACE: String(GRACE_MS / 1000),
        RATE_LIMIT_ENABLED: 'false',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server.kill();
    admin.disconnect();
    await redis.destroy();
    keys.cleanup();
  });

  async function storedGeneration(stateProof: string): Promise<{ st: string | null; g: number }> {
    const { prn, aid } = stateProofParts(stateProof);
    const [st, g] = await admin.hmget(`${PREFIX}{u:${prn}}:s:${aid}`, 'st', 'g');
    return { st: st ?? null, g: decodeGeneration(g) };
  }

  /** Until Redis answers again: a sign-in after a lost session may land in the next stall. */
  async function signInAgain(client: Client): Promise<void> {
    for (;;) {
      try {
        client.stateProof = (await login(server.url, client.account)).stateProof;
        client.last = 200;
        return;
      } catch {
        await sleep(CLIENT_RETRY_MS);
      }
    }
  }

  const sessionKey = (stateProof: string) => {
    const { prn, aid } = stateProofParts(stateProof);
    return `${PREFIX}{u:${prn}}:s:${aid}`;
  };

  interface Stall {
    /** Each session's generation at the instant Redis stopped answering. */
    generations: Map<string, number>;
    /** A renewal sent after this (test clock) cannot have run before the stall. */
    startedBy: number;
  }

  /**
   * Injects the fault and returns when it is over. A pause or a sleep is sent in one MULTI with a
   * read of every session's generation, so the read sees exactly what ran before the stall.
   */
  async function inject(fault: Fault, clients: Client[]): Promise<Stall | undefined> {
    switch (fault.kind) {
      case 'pause':
      case 'sleep': {
        const tx = admin.multi();
        const keysNow = clients.map((client) => sessionKey(client.stateProof));
        for (const key of keysNow) tx.hget(key, 'g');
        if (fault.kind === 'pause') tx.call('CLIENT', 'PAUSE', String(fault.ms), 'ALL');
        else tx.call('DEBUG', 'SLEEP', (fault.ms / 1000).toFixed(3)); // answers when Redis wakes up
        // Generous: the MULTI leaves now, a renewal sent later still has to cross the server.
        const startedBy = Date.now() + 20;
        const replies = (await tx.exec()) ?? [];
        if (fault.kind === 'pause') await sleep(Math.max(0, startedBy - 20 + fault.ms - Date.now()));
        const generations = new Map<string, number>();
        keysNow.forEach((key, i) => generations.set(key, decodeGeneration(replies[i]?.[1] as string | null)));
        return { generations, startedBy };
      }
      case 'kill':
        // The server's connections only (SKIPME: not this admin connection), while renewals fly.
        for (const cut of fault.cuts) {
          await sleep(cut.gapMs);
          if (cut.freezeMs === 0) {
            await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
            continue;
          }
          // A throw-away connection freezes Redis; the kill queued behind it runs when Redis wakes,
          // in the same instant as the renewals that piled up meanwhile (in time: freeze < budget).
          const sleeper = new IORedis(redis.url, { retryStrategy: () => null, maxRetriesPerRequest: 0, lazyConnect: true });
          sleeper.on('error', () => undefined);
          await sleeper.connect();
          const frozen = sleeper.call('DEBUG', 'SLEEP', (cut.freezeMs / 1000).toFixed(3)).catch(() => undefined);
          await sleep(5);
          await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
          await frozen;
          sleeper.disconnect();
        }
        return undefined;
    }
  }

  /** Whether a refused renewal is the one case the design cannot promise (see LostBeforeOutage). */
  function lostBeforeOutage(round: number, refused: Attempt, attempts: Attempt[], stall: Stall | undefined): LostBeforeOutage | undefined {
    if (stall === undefined || refused.answer.body.error_code !== 'JTS-401-05') return undefined;
    const presented = stateProofParts(refused.stateProof).generation;
    const generationAtStall = stall.generations.get(sessionKey(refused.stateProof));
    if (generationAtStall !== presented + 1) return undefined;
    const unanswered = attempts.filter((a) => a.client === refused.client && a.stateProof === refused.stateProof && (a.answer.status === 503 || a.answer.status === 0) && a.sentAt <= stall.startedBy);
    if (unanswered.length === 0) return undefined;
    const first = Math.min(...unanswered.map((a) => a.sentAt));
    if (refused.doneAt <= first + GRACE_MS) return undefined;
    return { round, session: refused.client.id, presented, generationAtStall, firstUnansweredMsBeforeVerdict: refused.doneAt - first };
  }

  /** The server's own count of renewal outcomes (rotated, grace, replay, invalid). */
  async function renewalOutcomes(): Promise<Record<string, number>> {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const match of text.matchAll(/^jts_renewals_total\{outcome="(\w+)"\} (\d+)/gm)) out[match[1]!] = Number(match[2]);
    return out;
  }

  it(`has no false JTS-401-05 and no forked session over ${ROUNDS} rounds of pauses, sleeps and cut connections`, async () => {
    const rounds = plan(ROUNDS, SEED);
    const clients: Client[] = [];
    for (let id = 0; id < SESSIONS; id++) {
      const account = newAccount();
      clients.push({ id, account, stateProof: (await register(server.url, account)).stateProof, last: 200 });
    }
    const violations: Violation[] = [];
    const excused: LostBeforeOutage[] = [];
    const stats: RoundStats[] = [];
    const started = Date.now();

    for (const [index, round] of rounds.entries()) {
      const roundStarted = Date.now();
      const roundStats: RoundStats = { round: index, fault: round.fault, renewals: 0, byStatus: {}, aheadAfter503: 0, ms: 0 };
      let running = true;
      const attempts: Attempt[] = [];
      const refused: Attempt[] = [];
      const drive = async (client: Client) => {
        const random = prng(SEED * 1000 + index * 100 + client.id);
        while (running) {
          const sentAt = Date.now();
          const answer: Answer = await renewCall(server.url, client.stateProof, 10_000);
          const attempt = { client, stateProof: client.stateProof, sentAt, doneAt: Date.now(), answer };
          attempts.push(attempt);
          roundStats.renewals++;
          const key = answer.status === 401 ? String(answer.body.error_code) : String(answer.status);
          roundStats.byStatus[key] = (roundStats.byStatus[key] ?? 0) + 1;
          client.last = answer.status;
          if (answer.status === 200 && answer.stateProof !== undefined) {
            client.stateProof = answer.stateProof;
            await sleep(50 + random() * 250);
          } else if (answer.status === 503 || answer.status === 0) {
            // As the browser client: wait, then renew with the StateProof it holds (the same one).
            const retryAfter = typeof answer.body.retry_after === 'number' ? answer.body.retry_after * 1000 : CLIENT_RETRY_MS;
            await sleep(retryAfter);
          } else {
            refused.push(attempt);
            await signInAgain(client);
          }
        }
      };
      const driving = clients.map(drive);
      await sleep(round.warmupMs);
      const stall = await inject(round.fault, clients);
      // Every client that got a 503 during the fault renews at least once after it.
      await sleep(CLIENT_RETRY_MS + 800);
      running = false;
      await Promise.all(driving);

      for (const attempt of refused) {
        const lost = lostBeforeOutage(index, attempt, attempts, stall);
        if (lost) {
          excused.push(lost);
          continue;
        }
        const presented = stateProofParts(attempt.stateProof).generation;
        const atStall = stall?.generations.get(sessionKey(attempt.stateProof));
        violations.push({ round: index, fault: round.fault, session: attempt.client.id, what: `renewal with generation ${presented} answered ${attempt.answer.status} ${String(attempt.answer.body.error_code ?? attempt.answer.body.error)} (store at ${String(atStall)} when the stall began)` });
      }

      // Not forked: the store is at the client's generation, or one ahead after a lost answer —
      // and then the client's StateProof still renews (inside the window of that rotation).
      for (const client of clients) {
        const { st, g } = await storedGeneration(client.stateProof);
        const held = stateProofParts(client.stateProof).generation;
        const lostAnswer = client.last === 503 || client.last === 0;
        if (st !== 'a') violations.push({ round: index, fault: round.fault, session: client.id, what: `session state ${String(st)} after the round` });
        else if (g === held + 1 && lostAnswer) roundStats.aheadAfter503++;
        else if (g !== held) violations.push({ round: index, fault: round.fault, session: client.id, what: `store at generation ${g}, client holds ${held} (last answer ${client.last})` });
      }
      const next = await Promise.all(clients.map((client) => renewCall(server.url, client.stateProof, 10_000)));
      next.forEach((answer, i) => {
        const client = clients[i]!;
        if (answer.status === 200 && answer.stateProof !== undefined) {
          client.stateProof = answer.stateProof;
          client.last = 200;
        } else {
          violations.push({ round: index, fault: round.fault, session: client.id, what: `renewal after the round answered ${answer.status} ${String(answer.body.error_code ?? answer.body.error)}` });
        }
      });
      for (const client of clients) {
        const { g } = await storedGeneration(client.stateProof);
        if (g !== stateProofParts(client.stateProof).generation) violations.push({ round: index, fault: round.fault, session: client.id, what: `forked: store at ${g} after the closing renewal, client holds ${stateProofParts(client.stateProof).generation}` });
      }
      roundStats.ms = Date.now() - roundStarted;
      stats.push(roundStats);
      console.log(`stall round ${index}: ${JSON.stringify(roundStats)}; violations so far ${violations.length}`);
    }

    const total = (status: string) => stats.reduce((n, s) => n + (s.byStatus[status] ?? 0), 0);
    const summary = {
      seed: SEED,
      rounds: rounds.length,
      sessions: SESSIONS,
      seconds: Math.round((Date.now() - started) / 1000),
      renewals: stats.reduce((n, s) => n + s.renewals, 0),
      ok: total('200'),
      unavailable: total('503') + total('0'),
      falseCompromised: total('JTS-401-05'),
      aheadAfter503: stats.reduce((n, s) => n + s.aheadAfter503, 0),
      lostBeforeOutageLongerThanWindow: excused.length,
      serverOutcomes: await renewalOutcomes(),
      violations: violations.length,
    };
    mkdirSync(LOG_DIR, { recursive: true });
    writeFileSync(join(LOG_DIR, 'redis-stall-summary.json'), `${JSON.stringify({ summary, stats, violations, excused }, null, 2)}\n`);
    console.log(`Redis stall property: ${JSON.stringify(summary)}`);

    expect(server.alive).toBe(true);
    // The faults did bite: renewals were refused with 503 while Redis stalled.
    expect(summary.unavailable).toBeGreaterThan(0);
    if (violations.length > 0) {
      throw new Error(`seed ${SEED} (STALL_SEED=${SEED} STALL_ROUNDS=${ROUNDS}): ${violations.length} violations, first ones:\n${violations.slice(0, 20).map((v) => JSON.stringify(v)).join('\n')}`);
    }
  }, 30_000 + ROUNDS * 20_000);
});
