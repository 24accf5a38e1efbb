import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, stateProofFrom } from '../support/http';

/**
 * Bodies and cookies are parsed only by the routes that read them (a per-request cost every
 * other route used to pay). These pin down what that must not change: the CSRF check still comes
 * first, bodyless routes still work whatever body arrives, errors keep their CORS headers, and an
 * OPTIONS under /api or /jts stays empty.
 */
describe('body and cookie parsing are scoped to the routes that read them', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a cross-site login with a malformed body as CSRF (403), before reading the body', async () => {
    const res = await request(t.app).post('/jts/login').set('Origin', 'https://evil.example').set('Content-Type', 'application/json').send('{"email": ');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: expect.any(String), action: expect.any(String) });
  });

  it('still parses the body of a same-site login and names a malformed one (400)', async () => {
    const res = await request(t.app).post('/jts/login').set(CSRF).set('Content-Type', 'application/json').send('{"email": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', message: 'The body is not valid JSON.' });
  });

  it('renews from the cookie whatever body comes along, malformed JSON included', async () => {
    const user = await createUser(t);
    const { stateProof } = await login(t.app, user.email, user.password);
    const res = await request(t.app)
      .post('/jts/renew')
      .set(CSRF)
      .set('Cookie', `theme=dark; jts_state_proof=${stateProof}; other=1`)
      .set('Content-Type', 'application/json')
      .send('{"not": json');
    expect(res.status).toBe(200);
    expect(stateProofFrom(res)).toMatch(/^sp1\./);
  });

  it('accepts the StateProof cookie percent-encoded or quoted, as cookie parsers do', async () => {
    const user = await createUser(t);
    const { stateProof } = await login(t.app, user.email, user.password);
    // Every character percent-encoded: cookie parsers decode values, and so do we.
    const everyCharEncoded = Buffer.from(stateProof).toString('hex').replace(/../g, '%$&');
    const encoded = await request(t.app).post('/jts/renew').set(CSRF).set('Cookie', `jts_state_proof=${everyCharEncoded}`);
    expect(encoded.status).toBe(200);
    const quoted = await request(t.app).post('/jts/renew').set(CSRF).set('Cookie', `jts_state_proof="${stateProof}"`);
    // The previous StateProof, presented again inside the grace window: the same answer.
    expect(quoted.status).toBe(200);
    expect(stateProofFrom(quoted)).toBe(stateProofFrom(encoded));
  });

  it('answers a plain OPTIONS under /api and /jts with an empty 204 and an unknown path with a JSON 404', async () => {
    for (const path of ['/api/public', '/api/nope', '/jts/renew', '/jts/sessions/abc']) {
      const res = await request(t.app).options(path);
      expect({ path, status: res.status, text: res.text }).toEqual({ path, status: 204, text: '' });
    }
    const unknown = await request(t.app).options('/no/such/path');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'not_found' });
  });

  describe('with a listed origin', () => {
    const APP = 'https://app.example.com';
    let listed: TestApp;
    beforeAll(async () => {
      listed = await buildTestApp({ env: { CORS_ORIGINS: APP } });
    });
    afterAll(async () => {
      await listed.close();
    });

    it.each([
      ['a renewal', () => request(listed.app).post('/jts/renew').set(CSRF).set('Origin', APP)],
      ['a malformed login body (400)', () => request(listed.app).post('/jts/login').set(CSRF).set('Origin', APP).set('Content-Type', 'application/json').send('{"email": ')],
      ['a login body over BODY_LIMIT (413)', () => request(listed.app).post('/jts/login').set(CSRF).set('Origin', APP).send({ email: 'a@example.com', password: 'x'.repeat(20_000) })],
      ['the session list', () => request(listed.app).get('/jts/sessions').set('Origin', APP)],
      ['an unknown /api path (404)', () => request(listed.app).get('/api/nope').set('Origin', APP)],
    ])('lets its scripts read %s: the origin is echoed with credentials', async (_name, send) => {
      const res = await send();
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers.vary).toMatch(/Origin/);
    });
  });
});
