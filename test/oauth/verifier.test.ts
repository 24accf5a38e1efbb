import express from 'express';
import request from 'supertest';
import { createVerifier } from '@jts-auth/verifier';
import { requireBearerPass, requireScopes } from '@jts-auth/verifier/express';
import { login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { ACCESS_TOKEN, addClient, basic, EXCHANGE, tokenRequest } from './support';

const ORDERS = 'https://orders.example.com';

/** The orders service: the package's verifier with its own audience, guarded by scope. */
function ordersService(t: TestApp) {
  const verifier = createVerifier({ keys: t.keyRing.jwks().keys, audience: ORDERS, issuer: t.config.jts.issuer, clock: t.clock });
  const app = express();
  app.get('/orders', requireBearerPass(verifier), requireScopes(['read:orders']), (req, res) => {
    const payload = req.jts?.payload;
    res.json({ prn: payload?.prn, atm: payload?.atm, scope: payload?.scope, act: payload?.act ?? null });
  });
  return app;
}

describe('the verifier package with /jts/token’s tokens', () => {
  let t: TestApp;
  let orders: { Authorization: string };
  let reporting: { Authorization: string };

  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    orders = basic('orders', await addClient(t, 'orders', ORDERS, ['read:orders', 'write:orders']));
    reporting = basic('reporting', await addClient(t, 'reporting', 'https://reporting.example.com', ['read:orders']));
  });

  afterAll(async () => {
    await t.close();
  });

  const token = async (form: Record<string, string>, headers: Record<string, string> = {}) => ((await tokenRequest(t, form, headers)).body as { access_token: string }).access_token;

  it('accepts a client-credentials token for its audience and exposes atm and scope', async () => {
    const res = await request(ordersService(t)).get('/orders').set('Authorization', `Bearer ${await token({ grant_type: 'client_credentials', scope: 'read:orders' }, orders)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ prn: 'orders', atm: 'client_credentials', scope: 'read:orders', act: null });
  });

  it('accepts an exchanged token and exposes act', async () => {
    const user = await createUser(t, { permissions: ['read:orders'] });
    const { bearerPass } = await login(t.app, user.email, user.password);
    const exchanged = await token({ grant_type: EXCHANGE, subject_token: bearerPass, subject_token_type: ACCESS_TOKEN, audience: ORDERS }, reporting);
    const res = await request(ordersService(t)).get('/orders').set('Authorization', `Bearer ${exchanged}`);
    expect(res.body).toEqual({ prn: user.id, atm: 'token_exchange', scope: 'read:orders', act: { sub: 'reporting' } });
  });

  it('refuses another audience’s token (JTS-403-01) and a token without the scope (JTS-403-02)', async () => {
    const service = ordersService(t);
    const foreign = await request(service).get('/orders').set('Authorization', `Bearer ${await token({ grant_type: 'client_credentials' }, reporting)}`);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ error_code: 'JTS-403-01' });
    const narrow = await request(service).get('/orders').set('Authorization', `Bearer ${await token({ grant_type: 'client_credentials', scope: 'write:orders' }, orders)}`);
    expect(narrow.status).toBe(403);
    expect(narrow.body).toMatchObject({ error_code: 'JTS-403-02', message: 'Missing scope: read:orders.' });
  });
});
