import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createVerifier, type Verifier, type VerifierCounter, type VerifierOptions } from '@jts-auth/verifier';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { ManualClock, systemClock, type Clock } from '../../src/jts/clock';
import { KeyRing } from '../../src/jts/key-ring';
import { AUDIENCE, CLIENT, FeedServer, ISSUER, until } from './feed-server';

/**
 * The verifier package's subscription to the security-event feed, against a real HTTP server
 * speaking SSE with SETs signed by a real key published in a real JWKS (events-wire.md).
 */
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

let ring: KeyRing;
let foreign: KeyRing;
const open: { verifier: Verifier; feed: FeedServer }[] = [];

beforeAll(async () => {
  ring = await KeyRing.from([{ alg: 'ES256', privateKey: ec() }]);
  foreign = await KeyRing.from([{ alg: 'ES256', privateKey: ec() }]);
});

afterEach(async () => {
  for (const { verifier, feed } of open.splice(0)) {
    await verifier.close();
    // close() leaves no socket behind: the server sees the connection end.
    await until(() => feed.openStreams === 0, 'the subscriber’s connection to close');
    await feed.stop();
  }
});

function counters() {
  const counts = new Map<string, number>();
  return {
    counts,
    metrics: {
      count(name: VerifierCounter, labels?: Readonly<Record<string, string>>) {
        const key = labels?.result === undefined ? name : `${name}{${labels.result}}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      },
    },
    get: (key: string) => counts.get(key) ?? 0,
  };
}

async function setup(options: { clock?: Clock; overrides?: (feed: FeedServer) => Partial<VerifierOptions> } = {}) {
  const feed = new FeedServer(ring);
  await feed.start();
  const clock = options.clock ?? systemClock;
  const metrics = counters();
  const verifier = createVerifier({
    jwksUrl: `${feed.url}/.well-known/jts-jwks`,
    issuer: ISSUER,
    audience: AUDIENCE,
    clock,
    metrics: metrics.metrics,
    events: { url: `${feed.url}/jts/events`, ...CLIENT, minRetryMs: 20, maxRetryMs: 100 },
    ...options.overrides?.(feed),
  });
  open.push({ verifier, feed });
  const mint = createBearerPassIssuer({ keyRing: ring, clock, lifetimeSeconds: 300, issuer: ISSUER, audience: AUDIENCE });
  const token = (aid: string) => mint({ prn: 'user-1', aid }).token;
  return { feed, verifier, metrics, token };
}

const codeOf = async (verifier: Verifier, token: string) => {
  const result = await verifier.verify(token);
  return result.ok ? 'accepted' : result.error.code;
};

describe('a verifier subscribed to the security-event feed', () => {
  it('refuses a BearerPass of a revoked session with JTS-401-04, and only that session’s', async () => {
    const { feed, verifier, metrics, token } = await setup();
    const revokedToken = token('session-a');
    const otherToken = token('session-b');
    expect(await codeOf(verifier, revokedToken)).toBe('accepted');
    await until(() => verifier.status().feed === 'connected', 'connected');

    const id = feed.publish(await feed.revocation('session-a'));
    await until(() => verifier.status().lastEventId === id, 'the event handled');

    const refused = await verifier.verify(revokedToken);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.toBody()).toMatchObject({ error: 'session_terminated', error_code: 'JTS-401-04', action: 'reauth' });
    expect(await codeOf(verifier, otherToken)).toBe('accepted');
    expect(verifier.status()).toMatchObject({ feed: 'connected', lastEventId: id, revokedSessions: 1, gaps: 0 });
    expect(metrics.get('jts_verifier_events_total{revoked}')).toBe(1);
    expect(metrics.get('jts_verifier_revoked_refusals_total')).toBe(1);
  });

  it('ignores a SET signed by another key, of another type or from another issuer, and takes the next genuine one', async () => {
    const { feed, verifier, metrics, token } = await setup();
    feed.publish(await feed.revocation('forged-key', { ring: foreign }));
    feed.publish(await feed.revocation('wrong-typ', { header: { typ: 'JWT' } }));
    feed.publish(await feed.revocation('wrong-iss', { claims: { iss: 'https://evil.example' } }));
    // A BearerPass is signed by the same key but is no event.
    feed.publish(token('a-bearer-pass'));
    const last = feed.publish(await feed.revocation('genuine'));
    await until(() => verifier.status().lastEventId === last, 'every event handled');

    for (const aid of ['forged-key', 'wrong-typ', 'wrong-iss', 'a-bearer-pass']) expect([aid, await codeOf(verifier, token(aid))]).toEqual([aid, 'accepted']);
    expect(await codeOf(verifier, token('genuine'))).toBe('JTS-401-04');
    expect(verifier.status().revokedSessions).toBe(1);
    expect(metrics.get('jts_verifier_events_total{unknown_key}')).toBe(1);
    expect(metrics.get('jts_verifier_events_total{invalid}')).toBe(3);
  });

  it('handles a replayed event (same jti) once', async () => {
    const { feed, verifier, metrics } = await setup();
    const set = await feed.revocation('session-a', { jti: 'event-1' });
    feed.publish(set);
    const again = feed.publish(set);
    const copy = feed.publish(await feed.revocation('session-a', { jti: 'event-1', notAfter: Math.floor(Date.now() / 1000) + 9000 }));
    await until(() => verifier.status().lastEventId === copy, 'every event handled');
    expect(again).not.toBe(copy);
    expect(metrics.get('jts_verifier_events_total{revoked}')).toBe(1);
    expect(metrics.get('jts_verifier_events_total{duplicate}')).toBe(2);
  });

  it('resumes after a disconnect with Last-Event-ID and misses no event sent meanwhile', async () => {
    const { feed, verifier, metrics, token } = await setup();
    const first = feed.publish(await feed.revocation('before'));
    await until(() => verifier.status().lastEventId === first, 'the first event');

    feed.drop();
    await until(() => verifier.status().feed === 'disconnected', 'disconnected');
    // Published while nobody listens: only a resume delivers it.
    const missed = feed.publish(await feed.revocation('during'));
    await until(() => verifier.status().lastEventId === missed, 'the missed event, after the resume');

    expect(feed.resumes).toEqual([undefined, first]);
    expect(await codeOf(verifier, token('before'))).toBe('JTS-401-04');
    expect(await codeOf(verifier, token('during'))).toBe('JTS-401-04');
    expect(verifier.status().feed).toBe('connected');
    expect(metrics.get('jts_verifier_events_total{duplicate}')).toBe(0);
    expect(metrics.get('jts_verifier_feed_reconnects_total')).toBe(1);
  });

  it('counts a gap the server reports', async () => {
    const { feed, verifier } = await setup();
    const gap = feed.publish('{"oldest":"1764550000000-0"}', 'gap');
    await until(() => verifier.status().lastEventId === gap, 'the gap');
    expect(verifier.status().gaps).toBe(1);
  });

  it('forgets a revoked session once no BearerPass of it can be alive: memory stays bounded', async () => {
    const clock = new ManualClock(Date.now());
    const { feed, verifier, token } = await setup({ clock });
    const notAfter = Math.floor(clock.now() / 1000) + 60;
    let last = '';
    for (let i = 0; i < 200; i++) last = feed.publish(await feed.revocation(`old-${i}`, { notAfter }));
    await until(() => verifier.status().lastEventId === last, 'the revocations');
    expect(verifier.status().revokedSessions).toBe(200);
    const old = token('old-7');
    expect(await codeOf(verifier, old)).toBe('JTS-401-04');

    // Past jts_not_after plus the clock tolerance (5 s): the BearerPass would have died of age anyway.
    clock.advance(66_000);
    const fresh = feed.publish(await feed.revocation('new', { notAfter: Math.floor(clock.now() / 1000) + 60 }));
    await until(() => verifier.status().lastEventId === fresh, 'the new revocation');
    expect(verifier.status().revokedSessions).toBe(1);
    expect(await codeOf(verifier, old)).toBe('accepted');
    expect(await codeOf(verifier, token('new'))).toBe('JTS-401-04');
  });

  it('ignores a revocation whose BearerPasses have all expired already', async () => {
    const { feed, verifier } = await setup();
    const id = feed.publish(await feed.revocation('long-gone', { notAfter: Math.floor(Date.now() / 1000) - 3600 }));
    await until(() => verifier.status().lastEventId === id, 'the event');
    expect(verifier.status().revokedSessions).toBe(0);
  });

  it('keeps verifying by signature while the feed is down, reports it, and reconnects when it is back', async () => {
    const { feed, verifier, metrics, token } = await setup();
    const id = feed.publish(await feed.revocation('session-a'));
    await until(() => verifier.status().lastEventId === id, 'the event');

    await feed.stop();
    await until(() => verifier.status().feed === 'disconnected', 'disconnected');
    expect(verifier.status().lastError).toEqual(expect.any(String));
    expect(await codeOf(verifier, token('session-b'))).toBe('accepted');
    // What it learnt stays: the revocation is still enforced.
    expect(await codeOf(verifier, token('session-a'))).toBe('JTS-401-04');

    await feed.start();
    await until(() => verifier.status().feed === 'connected', 'reconnected', 10_000);
    expect(feed.resumes.at(-1)).toBe(id);
    expect(metrics.get('jts_verifier_feed_reconnects_total')).toBeGreaterThanOrEqual(1);
  });

  it('reports disconnected, with the reason, when the feed refuses its credentials, and verifies on', async () => {
    const { verifier, token } = await setup({ overrides: (feed) => ({ events: { url: `${feed.url}/jts/events`, clientId: CLIENT.clientId, clientSecret: 'wrong', minRetryMs: 20, maxRetryMs: 100 } }) });
    await until(() => verifier.status().feed === 'disconnected', 'disconnected');
    expect(verifier.status().lastError).toBe('the feed answered 401 invalid_client');
    expect(await codeOf(verifier, token('session-a'))).toBe('accepted');
  });

  it('replaces a connection that falls silent (no event, no keepalive) and resumes where it was', async () => {
    const { feed, verifier, metrics } = await setup({ overrides: (feed) => ({ events: { url: `${feed.url}/jts/events`, ...CLIENT, minRetryMs: 20, maxRetryMs: 100, idleTimeoutMs: 150 } }) });
    const id = feed.publish(await feed.revocation('session-a'));
    await until(() => feed.resumes.length >= 2, 'a second connection');
    expect(feed.resumes.slice(0, 2)).toEqual([undefined, id]);
    expect(metrics.get('jts_verifier_feed_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect(verifier.status().revokedSessions).toBe(1);
  });

  it('is off without events, and after close()', async () => {
    const plain = createVerifier({ keys: ring.jwks().keys, issuer: ISSUER, audience: AUDIENCE });
    expect(plain.status()).toMatchObject({ feed: 'off', revokedSessions: 0 });
    const { verifier } = await setup();
    await until(() => verifier.status().feed === 'connected', 'connected');
    await verifier.close();
    expect(verifier.status().feed).toBe('off');
  });

  it('refuses to subscribe without an issuer to hold the events to', () => {
    expect(() => createVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks', events: { url: 'http://127.0.0.1:1/jts/events', ...CLIENT } })).toThrow(/issuer/);
  });
});
