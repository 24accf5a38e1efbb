import { generateKeyPairSync } from 'node:crypto';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { KeyRing } from '../../src/jts/key-ring';
import { CSRF, login, renewOk } from '../support/http';
import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { addClient, basic, introspect, tokenRequest } from './support';

const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';

describe('POST /jts/introspect (RFC 7662)', () => {
  let t: TestApp;
  let orders: { Authorization: string };
  let billing: { Authorization: string };

  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    orders = basic('orders', await addClient(t, 'orders', ORDERS, ['read:orders']));
    billing = basic('billing', await addClient(t, 'billing', BILLING, ['read:invoices']));
  });

  afterAll(async () => {
    await t.close();
  });

  async function clientToken(headers: { Authorization: string }): Promise<string> {
    return ((await tokenRequest(t, { grant_type: 'client_credentials' }, headers)).body as { access_token: string }).access_token;
  }

  it('describes a client’s own live token, and is never cached', async () => {
    const token = await clientToken(orders);
    const res = await introspect(t, token, orders);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      active: true,
      sub: 'orders',
      prn: 'orders',
      aid: expect.stringMatching(/^cc-/),
      scope: 'read:orders',
      exp: expect.any(Number),
      iat: expect.any(Number),
      client_id: 'orders',
      token_type: 'Bearer',
      aud: ORDERS,
      iss: t.config.jts.issuer,
      atm: 'client_credentials',
    });
  });

  it('describes a user’s BearerPass (the JWT generator’s `validate`) until its session is logged out', async () => {
    const user = await createUser(t, { permissions: ['read:profile', 'read:orders'] });
    const { bearerPass, stateProof } = await login(t.app, user.email, user.password);
    expect((await introspect(t, bearerPass, orders)).body).toMatchObject({ active: true, sub: user.id, prn: user.id, scope: 'read:profile read:orders', token_type: 'Bearer' });

    expect((await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${stateProof}`)).status).toBe(200);
    expect((await introspect(t, bearerPass, orders)).body).toEqual({ active: false });
  });

  it('is inactive at once for a session revoked after a StateProof replay', async () => {
    const user = await createUser(t);
    const first = await login(t.app, user.email, user.password);
    const second = await renewOk(t.app, first.stateProof);
    t.clock.advance((t.config.jts.rotationGraceSeconds + 1) * 1000);
    expect((await request(t.app).post('/jts/renew').set(CSRF).set('Cookie', `jts_state_proof=${first.stateProof}`)).body).toMatchObject({ error_code: 'JTS-401-05' });
    expect((await introspect(t, second.bearerPass, orders)).body).toEqual({ active: false });
  });

  it('is inactive for an expired token, garbage, a token signed by another key, and another client’s token', async () => {
    const ordersToken = await clientToken(orders);
    const foreignRing = await KeyRing.from([{ alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }]);
    const foreign = createBearerPassIssuer({ keyRing: foreignRing, clock: t.clock, lifetimeSeconds: 300, issuer: t.config.jts.issuer })({ prn: 'orders', aid: 'cc-x', aud: ORDERS, atm: 'client_credentials' }).token;
    for (const token of ['garbage', foreign]) expect((await introspect(t, token, orders)).body).toEqual({ active: false });
    // RFC 7662 §4: a client learns nothing about tokens meant for another service.
    expect((await introspect(t, ordersToken, billing)).body).toEqual({ active: false });
    expect((await introspect(t, ordersToken, orders)).body).toMatchObject({ active: true });
    t.clock.advance(3601_000 + t.config.jts.clockSkewSeconds * 1000);
    expect((await introspect(t, ordersToken, orders)).body).toEqual({ active: false });
  });


  it('needs client authentication and a token', async () => {
    const anonymous = await request(t.app).post('/jts/introspect').type('form').send({ token: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="jts", charset="UTF-8"');
    expect(anonymous.body).toMatchObject({ error: 'invalid_client' });
    const noToken = await request(t.app).post('/jts/introspect').type('form').set(orders).send({ token_type_hint: 'access_token' });
    expect(noToken.status).toBe(400);
    expect(noToken.body).toMatchObject({ error: 'invalid_request', message: '`token` is required.' });
  });
});

describe('POST /jts/introspect rate limit', () => {
  it('counts per client: one client’s burst does not throttle another', async () => {
    const t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_INTROSPECT: '3/1m' } });
    try {
      const a = basic('a', await addClient(t, 'a', 'https://a.example.com', []));
      const b = basic('b', await addClient(t, 'b', 'https://b.example.com', []));
      for (let i = 0; i < 3; i++) expect((await introspect(t, 'x', a)).status).toBe(200);
      const limited = await introspect(t, 'x', a);
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ error: 'rate_limited', retry_after: expect.any(Number) });
      expect((await introspect(t, 'x', b)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
