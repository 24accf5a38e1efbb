import express from 'express';
import request from 'supertest';
import { bearerTokenOf } from '../../src/jts/authorization-header';
import { createVerifier } from '@jts-auth/verifier';
import { requireBearerPass } from '@jts-auth/verifier/express';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { login } from '../support/http';

/** RFC 6750 §2.1, as bearerTokenOf() reads it: one parser for every place that takes a Bearer token. */
describe('bearerTokenOf', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER   a.b-c_d~e+f/g=  ', 'a.b-c_d~e+f/g='],
    ['Bearer a.b.c', 'a.b.c'],
  ])('takes the token of %j', (header, token) => {
    expect(bearerTokenOf(header)).toBe(token);
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Bearerabc', 'Bearer a b', 'Bearer\tabc', ' Bearer abc', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'Token abc'])('finds no token in %j', (header) => {
    expect(bearerTokenOf(header)).toBeUndefined();
  });
});

describe('authenticate(), requireBearerPass() and the metrics guard read Authorization alike', () => {
  const METRICS_TOKEN = 'metrics-token-0123456789';
  let t: TestApp;
  let other: express.Express;
  let bearerPass: string;
  beforeAll(async () => {
    t = await buildTestApp({ env: { METRICS_TOKEN } });
    const user = await createUser(t);
    ({ bearerPass } = await login(t.app, user.email, user.password));
    const verifier = createVerifier({ keys: t.keyRing.jwks().keys, audience: t.config.jts.audience, issuer: t.config.jts.issuer });
    other = express();
    other.get('/orders', requireBearerPass(verifier), (_req, res) => res.json({ ok: true }));
  });
  afterAll(async () => {
    await t.close();
  });

  const forms = (token: string) => [`Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}   `];
  const refused = (token: string) => ['Bearer', `Bearer ${token} extra`, `Basic ${token}`, `Bearer\t${token}`, token];

  it('accept the same spellings of a good token', async () => {
    for (const header of forms(bearerPass)) {
      expect((await request(t.app).get('/api/profile').set('Authorization', header)).status).toBe(200);
      expect((await request(other).get('/orders').set('Authorization', header)).status).toBe(200);
    }
    for (const header of forms(METRICS_TOKEN)) expect((await request(t.app).get('/metrics').set('Authorization', header)).status).toBe(200);
  });

  it('refuse the same malformed headers as presenting no token', async () => {
    for (const header of refused(bearerPass)) {
      const server = await request(t.app).get('/api/profile').set('Authorization', header);
      const service = await request(other).get('/orders').set('Authorization', header);
      expect({ header, server: server.body.error_code, service: service.body.error_code }).toEqual({ header, server: 'JTS-401-03', service: 'JTS-401-03' });
    }
    for (const header of refused(METRICS_TOKEN)) expect((await request(t.app).get('/metrics').set('Authorization', header)).status).toBe(401);
  });
});
