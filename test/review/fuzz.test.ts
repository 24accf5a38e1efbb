import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login } from '../support/http';
import { SmtpSink } from '../support/smtp-sink';

/** Review of issue 21: the new endpoints answer bad input with the documented JSON errors, never a 500 or a stack. */
describe('review: bad input to the new endpoints (real SMTP, PostgreSQL, Redis)', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await buildTestApp({
      store: 'redis',
      accounts: 'postgres',
      env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example', TRUST_PROXY: '1', JTS_SIGN_IN_NOTICES: 'on', JTS_RISK_FAILED_SIGN_INS: '3/15m', JTS_EMAIL_VERIFICATION: 'off', RATE_LIMIT_ENABLED: 'false' },
    });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  const bodies: [string, unknown][] = [
    ['an empty object', {}],
    ['an array', [{ token: 'x'.repeat(43) }]],
    ['a number token', { token: 12345 }],
    ['an object token', { token: { $ne: null } }],
    ['an array token', { token: ['x'.repeat(43)] }],
    ['a null token', { token: null }],
    ['a huge token', { token: 'x'.repeat(200_000) }],
    ['a token with a NUL', { token: `${'x'.repeat(42)}\u0000` }],
    ['a unicode token', { token: 'é'.repeat(43) }],
    ['a prototype key', JSON.parse('{"__proto__": {"token": "x"}, "token": "abc"}') as unknown],
  ];

  it.each(bodies)('POST /jts/not-me with %s: a 4xx JSON error without a stack', async (_name, body) => {
    const res = await request(t.app).post('/jts/not-me').set(CSRF).send(body as object);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(res.body).toMatchObject({ error: expect.any(String) as string });
  });

  it.each([
    ['malformed JSON', '{"token":', 'application/json'],
    ['form encoding', 'token=abc', 'application/x-www-form-urlencoded'],
    ['text', 'abc', 'text/plain'],
  ])('POST /jts/not-me with %s: a 4xx JSON error', async (_name, raw, type) => {
    const res = await request(t.app).post('/jts/not-me').set(CSRF).set('Content-Type', type).send(raw);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('POST /jts/not-me without the CSRF header is refused before anything is read', async () => {
    const res = await request(t.app).post('/jts/not-me').send({ token: 'x'.repeat(43) });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it.each([
    ['a lower-case CSRF header name', { 'x-jts-request': '1' }],
    ['an upper-case CSRF header name', { 'X-JTS-REQUEST': '1' }],
  ])('accepts %s (header names are case-insensitive)', async (_name, headers) => {
    const res = await request(t.app).post('/jts/not-me').set(headers).send({ token: 'x'.repeat(43) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'token_invalid' });
  });

  it('GET /jts/sessions answers ended[] of the caller only', async () => {
    const a = await createUser(t);
    const b = await createUser(t);
    const sa = await login(t.app, a.email, a.password);
    await login(t.app, b.email, b.password);
    const res = await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${sa.bearerPass}`).query({ prn: b.id, user: b.id });
    expect(res.status).toBe(200);
    expect((res.body as { ended: unknown[] }).ended).toEqual([]);
  });

  it('POST /jts/login with wrong types under step-up: 400 invalid_request, not a 500', async () => {
    for (const body of [{ email: ['a@example.com'], password: 'x' }, { email: 'a@example.com', password: { a: 1 } }, { email: 'a'.repeat(100_000) + '@example.com', password: 'x' }]) {
      const res = await request(t.app).post('/jts/login').set(CSRF).send(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
  });
});
