import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { KeyRing } from '../../src/jts/key-ring';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { ACCESS_TOKEN, addClient, addLegacyClient, basic, EXCHANGE, introspect, tokenRequest, verifyAs } from './support';

const ORDERS = 'https://orders.example.com';

function exchangeForm(subjectToken: string, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN, audience: ORDERS, ...extra };
}

describe('POST /jts/token, token exchange (RFC 8693)', () => {
  let t: TestApp;
  let frontend: { Authorization: string };
  let orders: { Authorization: string };
  let legacy: { Authorization: string };
  let user: { id: string; email: string; password: string };

  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    orders = basic('orders', await addClient(t, 'orders', ORDERS, ['read:orders', 'write:orders']));
    frontend = basic('frontend', await addClient(t, 'frontend', 'https://frontend.example.com', []));
    // Registration refuses this server's own audience (JTS_AUDIENCE); a row written before that
    // rule, straight into the table, is the only way to get a client token with our `aud`.
    legacy = basic('legacy', await addLegacyClient(t, 'legacy', t.config.jts.audience, ['read:orders']));
    user = await createUser(t, { permissions: ['read:profile', 'read:orders'] });
  });

  afterAll(async () => {
    await t.close();
  });

  const errorBody = (error: string, message: string) => ({ error, message, action: 'none', timestamp: expect.any(Number) });

  it('gives a ≤15-minute token for that audience only, with minimal claims and the acting client in `act`', async () => {
    const { bearerPass } = await login(t.app, user.email, user.password, { 'User-Agent': 'orders-app/1.0' });
    const res = await tokenRequest(t, exchangeForm(bearerPass, { scope: 'read:orders' }), { ...frontend, 'User-Agent': 'frontend-backend/2.0' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ access_token: expect.any(String), issued_token_type: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 900, scope: 'read:orders' });
    const verified = await verifyAs(t, ORDERS, (res.body as { access_token: string }).access_token);
    if (!verified.ok) throw verified.error;
    const { payload } = verified;
    expect(payload.exp - payload.iat).toBe(900);
    // Only these claims: no permissions, device hash or session policy travels downstream.
    expect(Object.keys(payload).sort()).toEqual(['act', 'aid', 'atm', 'aud', 'exp', 'iat', 'iss', 'prn', 'scope', 'tkn_id']);
    expect(payload).toMatchObject({ prn: user.id, iss: t.config.jts.issuer, aud: ORDERS, atm: 'token_exchange', scope: 'read:orders', act: { sub: 'frontend' } });
    expect(t.audits).toContainEqual({ event: 'token.exchanged', prn: user.id, aid: expect.any(String), audience: ORDERS, scope: 'read:orders', client: 'frontend', ip: expect.any(String), userAgent: 'frontend-backend/2.0' });
  });

  it('lets a signed-in user’s app exchange without client credentials (then no `act`); the scope defaults to what the user may grant', async () => {
    const { bearerPass } = await login(t.app, user.email, user.password);
    const res = await tokenRequest(t, exchangeForm(bearerPass));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ scope: 'read:orders' });
    const verified = await verifyAs(t, ORDERS, (res.body as { access_token: string }).access_token);
    expect(verified.ok && verified.payload.act).toBeUndefined();
  });

  it('ends with the user’s session, on this server’s introspection', async () => {
    const { bearerPass, stateProof } = await login(t.app, user.email, user.password);
    const { access_token: token } = (await tokenRequest(t, exchangeForm(bearerPass))).body as { access_token: string };
    expect((await introspect(t, token, orders)).body).toMatchObject({ active: true, sub: user.id, scope: 'read:orders', aud: ORDERS });
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${stateProof}`);
    expect((await introspect(t, token, orders)).body).toEqual({ active: false });
  });

  describe('refuses, each with its exact answer', () => {
    it('a scope wider than the user’s permissions: invalid_scope', async () => {
      const { bearerPass } = await login(t.app, user.email, user.password);
      const res = await tokenRequest(t, exchangeForm(bearerPass, { scope: 'read:orders write:orders' }));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_scope', 'Not granted to the user for this audience: write:orders.'));
    });

    it('a permission taken from the user after the subject token was minted: invalid_scope (review M3)', async () => {
      const demoted = await createUser(t, { permissions: ['read:profile', 'read:orders'] });
      const { bearerPass } = await login(t.app, demoted.email, demoted.password);
      await t.users.update(demoted.id, { permissions: ['read:profile'] }, t.clock.now());
      const res = await tokenRequest(t, exchangeForm(bearerPass, { scope: 'read:orders' }));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_scope', 'Not granted to the user for this audience: read:orders.'));
    });

    it('a user with no permission the audience accepts: invalid_scope', async () => {
      const other = await createUser(t, { permissions: ['read:profile'] });
      const { bearerPass } = await login(t.app, other.email, other.password);
      const res = await tokenRequest(t, exchangeForm(bearerPass));
      expect(res.body).toEqual(errorBody('invalid_scope', 'The user has no permission this audience accepts.'));
    });

    it('an audience that is no registered service: invalid_target', async () => {
      const { bearerPass } = await login(t.app, user.email, user.password);
      const res = await tokenRequest(t, exchangeForm(bearerPass, { audience: 'https://unknown.example.com' }));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_target', 'The audience is not a registered service.'));
    });

    it('an expired subject token: invalid_grant', async () => {
      const { bearerPass } = await login(t.app, user.email, user.password);
      t.clock.advance((t.config.jts.bearerPassLifetimeSeconds + t.config.jts.clockSkewSeconds + 1) * 1000);
      const res = await tokenRequest(t, exchangeForm(bearerPass));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_grant', 'The subject token has expired.'));
    });

    it('a subject token whose session was logged out: invalid_grant', async () => {
      const { bearerPass, stateProof } = await login(t.app, user.email, user.password);
      await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${stateProof}`);
      const res = await tokenRequest(t, exchangeForm(bearerPass));
      expect(res.body).toEqual(errorBody('invalid_grant', 'The subject token’s session has ended.'));
    });

    it('a subject token of a session signed in before a password change it slipped past: invalid_grant (review F2)', async () => {
      const raced = await createUser(t, { permissions: ['read:profile', 'read:orders'] });
      const { bearerPass } = await login(t.app, raced.email, raced.password);
      // The mirror moved to the next credential epoch without the session being revoked: what a
      // sign-in with the old password that raced the change would leave behind.
      const account = await t.users.get(raced.id);
      await t.sessions.putUser(raced.id, { disabled: false, permissions: account!.permissions, credentialEpoch: account!.credentialEpoch + 1, version: account!.version + 1, emailVerified: false });
      const res = await tokenRequest(t, exchangeForm(bearerPass));
      expect(res.body).toEqual(errorBody('invalid_grant', 'The subject token’s session has ended.'));
    });

    it('a foreign subject token (signed by a key this server does not have): invalid_grant', async () => {
      const ring = await KeyRing.from([{ alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }]);
      const forged = createBearerPassIssuer({ keyRing: ring, clock: t.clock, lifetimeSeconds: 300, issuer: t.config.jts.issuer, audience: t.config.jts.audience })({ prn: user.id, aid: 'a', perm: ['read:orders'] }).token;
      const res = await tokenRequest(t, exchangeForm(forged));
      expect(res.body).toEqual(errorBody('invalid_grant', 'The subject token is not a valid BearerPass of this server.'));
    });

    it('a downstream token or a client’s token as subject (no chains)', async () => {
      const { bearerPass } = await login(t.app, user.email, user.password);
      const downstream = ((await tokenRequest(t, exchangeForm(bearerPass))).body as { access_token: string }).access_token;
      const chained = await tokenRequest(t, exchangeForm(downstream));
      expect(chained.body).toEqual(errorBody('invalid_grant', 'The subject token was issued for another audience.'));
      const clientToken = ((await tokenRequest(t, { grant_type: 'client_credentials' }, legacy)).body as { access_token: string }).access_token;
      const res = await tokenRequest(t, exchangeForm(clientToken));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_grant', 'The subject token must be a user’s BearerPass; a token issued by /jts/token cannot be exchanged.'));
    });

    it('a client with this server’s own audience cannot be registered (reviewer L3)', async () => {
      await expect(addClient(t, 'api', t.config.jts.audience, ['read:orders'])).rejects.toMatchObject({ code: 'client_invalid', message: expect.stringMatching(/^`audience` must not be this server's own audience/) as string });
    });

    it('this server’s own audience as the target, even when a client is registered with it: invalid_target', async () => {
      const { bearerPass } = await login(t.app, user.email, user.password);
      const res = await tokenRequest(t, exchangeForm(bearerPass, { audience: t.config.jts.audience }));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(errorBody('invalid_target', 'This server’s own API is not an exchange target; call it with the BearerPass itself.'));
    });

    it('a subject_token_type other than access_token, or unsupported parameters: invalid_request', async () => {
      const { bearerPass } = await login(t.app, user.email, user.password);
      const wrongType = await tokenRequest(t, exchangeForm(bearerPass, { subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }));
      expect(wrongType.body).toEqual(errorBody('invalid_request', '`subject_token_type` must be urn:ietf:params:oauth:token-type:access_token.'));
      const actor = await tokenRequest(t, exchangeForm(bearerPass, { actor_token: bearerPass, actor_token_type: ACCESS_TOKEN }));
      expect(actor.body).toEqual(errorBody('invalid_request', '`actor_token` is not supported; name the target service with `audience`.'));
      const missing = await tokenRequest(t, { grant_type: EXCHANGE, subject_token: bearerPass, subject_token_type: ACCESS_TOKEN });
      expect(missing.body).toEqual(errorBody('invalid_request', '`audience` is required.'));
    });

    it('a wrong client secret, even though client authentication is optional here: invalid_client', async () => {
      const { bearerPass } = await login(t.app, user.email, user.password);
      const res = await tokenRequest(t, exchangeForm(bearerPass), basic('frontend', 'wrong'));
      expect(res.status).toBe(401);
      expect(res.body).toEqual(errorBody('invalid_client', 'Client authentication failed.'));
    });
  });
});

describe('the per-user limit on token exchange', () => {
  it('allows 10 per user per 15 minutes by default, then 429 with Retry-After; other users are not affected', async () => {
    const t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { RATE_LIMIT_ENABLED: 'true' } });
    try {
      expect(t.config.rateLimits.tokenExchange).toEqual({ limit: 10, windowMs: 900_000 });
      await addClient(t, 'orders', ORDERS, ['read:orders']);
      const first = await createUser(t, { permissions: ['read:orders'] });
      const second = await createUser(t, { permissions: ['read:orders'] });
      // Two sessions of one user share one allowance: the limit is per user, not per session or address.
      const sessions = [await login(t.app, first.email, first.password), await login(t.app, first.email, first.password)];
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await tokenRequest(t, exchangeForm(sessions[i % 2]?.bearerPass ?? ''))).status);
      expect(statuses).toEqual([...Array<number>(10).fill(200), 429]);
      const limited = await tokenRequest(t, exchangeForm(sessions[0]?.bearerPass ?? ''));
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(limited.body).toMatchObject({ error: 'rate_limited', action: 'retry', retry_after: expect.any(Number) });
      expect(t.audits).toContainEqual({ event: 'rate_limited', limiter: 'token-exchange-user' });

      const { bearerPass } = await login(t.app, second.email, second.password);
      expect((await tokenRequest(t, exchangeForm(bearerPass))).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
