import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createVerifier, type Verifier, type VerifierCounter } from '@jts-auth/verifier';
import { listen } from '../events/support';
import { addClient } from '../oauth/support';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { until } from './feed-server';

/**
 * The package's verifier subscribed to the real server's feed: two auth server instances sharing
 * Redis and PostgreSQL, one verifier on each instance's GET /jts/events.
 */
describe('verifiers subscribed to the auth server’s own feed, on two instances', () => {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  let a: TestApp;
  let b: TestApp;
  let aHttp: Awaited<ReturnType<typeof listen>>;
  let bHttp: Awaited<ReturnType<typeof listen>>;
  const secrets = new Map<string, string>();
  const verifiers: Verifier[] = [];

  beforeAll(async () => {
    const env = { REDIS_KEY_PREFIX: prefix };
    a = await buildTestApp({ store: 'redis', accounts: 'postgres', env });
    b = await buildTestApp({ store: 'redis', accounts: 'postgres', env });
    aHttp = await listen(a);
    bHttp = await listen(b);
    // Each test app has a schema of its own: the subscriber is registered with both.
    for (const [t, http] of [[a, aHttp], [b, bHttp]] as const) secrets.set(http.url, await addClient(t, 'orders', 'https://orders.example.com', ['jts:events']));
  });

  afterEach(async () => {
    await Promise.all(verifiers.splice(0).map((verifier) => verifier.close()));
  });

  afterAll(async () => {
    await Promise.all([aHttp.close(), bHttp.close()]);
    await Promise.all([a.close(), b.close()]);
  });

  function subscribed(url: string, duplicates?: { count: number }) {
    const verifier = createVerifier({
      jwksUrl: `${url}/.well-known/jts-jwks`,
      issuer: a.config.jts.issuer,
      audience: a.config.jts.audience,
      events: { url: `${url}/jts/events`, clientId: 'orders', clientSecret: secrets.get(url) ?? '', minRetryMs: 50, maxRetryMs: 200 },
      metrics: {
        count(name: VerifierCounter, labels?: Readonly<Record<string, string>>) {
          if (duplicates && name === 'jts_verifier_events_total' && labels?.result === 'duplicate') duplicates.count++;
        },
      },
    });
    verifiers.push(verifier);
    return verifier;
  }

  async function signIn(t: TestApp) {
    const user = await createUser(t);
    return login(t.app, user.email, user.password);
  }

  async function logout(t: TestApp, stateProof: string) {
    expect((await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${stateProof}`)).status).toBe(200);
  }

  const codeOf = async (verifier: Verifier, token: string) => {
    const result = await verifier.verify(token);
    return result.ok ? 'accepted' : result.error.code;
  };

  it('a logout on instance A is refused at the verifiers of A and B', async () => {
    const onA = subscribed(aHttp.url);
    const onB = subscribed(bHttp.url);
    await until(() => onA.status().feed === 'connected' && onB.status().feed === 'connected', 'both connected');
    const session = await signIn(a);
    const other = await signIn(b);
    expect(await codeOf(onA, session.bearerPass)).toBe('accepted');
    expect(await codeOf(onB, session.bearerPass)).toBe('accepted');

    await logout(a, session.stateProof);
    // Not a timing test (the bench measures the latency): the bound here only keeps a failure short.
    await until(() => onA.status().revokedSessions >= 1 && onB.status().revokedSessions >= 1, 'the revocation at both verifiers', 10_000);
    await until(async () => (await codeOf(onB, session.bearerPass)) === 'JTS-401-04', 'B refusing', 10_000);
    expect(await codeOf(onA, session.bearerPass)).toBe('JTS-401-04');
    expect(await codeOf(onB, other.bearerPass)).toBe('accepted');
    expect(onB.status()).toMatchObject({ feed: 'connected', gaps: 0, lastEventId: expect.stringMatching(/^\d+-\d+$/) });
  });

  it('a verifier cut off from its instance resumes from its last event id and misses no logout made meanwhile', async () => {
    const duplicates = { count: 0 };
    const onB = subscribed(bHttp.url, duplicates);
    await until(() => onB.status().feed === 'connected', 'connected');
    const before = await signIn(a);
    await logout(a, before.stateProof);
    await until(async () => (await codeOf(onB, before.bearerPass)) === 'JTS-401-04', 'the first logout', 10_000);
    const resumeFrom = onB.status().lastEventId;

    const during = await signIn(a);
    bHttp.server.closeAllConnections();
    await logout(a, during.stateProof);
    await until(async () => (await codeOf(onB, during.bearerPass)) === 'JTS-401-04', 'the logout made while cut off', 10_000);
    expect(onB.status().feed).toBe('connected');
    expect(onB.status().lastEventId).not.toBe(resumeFrom);
    expect(await codeOf(onB, before.bearerPass)).toBe('JTS-401-04');
    expect(duplicates.count).toBe(0);
  });
});
