import request from 'supertest';
import { AuthError } from '../../src/auth/errors';
import { HttpError, errorCatalog } from '../../src/http/errors';
import { JtsError } from '../../src/jts/errors';
import { StoreError } from '../../src/redis/store-error';
import { redisKeys } from '../../src/sessions/redis-keys';
import { login, profile } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

function claimsOf(bearerPass: string): { prn: string; aid: string } {
  return JSON.parse(Buffer.from(bearerPass.split('.')[1] ?? '', 'base64url').toString('utf8')) as { prn: string; aid: string };
}

describe('a store bug is a 500, an outage is a 503', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('answers a corrupt session record (WRONGTYPE from Redis) with internal_error, logged with its stack, not as an outage', async () => {
    t = await buildTestApp({ store: 'redis' });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    const { prn, aid } = claimsOf(creds.bearerPass);
    await t.redis?.set(redisKeys(t.config.redis.keyPrefix).session(prn, aid), 'not a hash');

    const res = await profile(t.app, creds.bearerPass).expect(500);
    expect(res.body).toEqual({ error: 'internal_error', message: 'Internal server error.', action: 'retry', timestamp: expect.any(Number) as number });
    expect(t.audits.filter((event) => event.event === 'store.unavailable')).toEqual([]);
    const logged = t.logLines.map((line) => JSON.parse(line) as { msg?: string; err?: { stack?: string; message?: string } }).find((line) => line.msg === 'request failed');
    expect(logged?.err?.message).toMatch(/WRONGTYPE/);
    expect(logged?.err?.stack).toMatch(/\n\s+at /);
    expect(JSON.stringify(res.body)).not.toMatch(/WRONGTYPE|at /);
  });

  it('answers a closed Redis connection with service_unavailable and audits it as an outage', async () => {
    t = await buildTestApp({ store: 'redis' });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    t.redis?.disconnect();

    const res = await profile(t.app, creds.bearerPass).expect(503);
    expect(res.body).toMatchObject({ error: 'service_unavailable', action: 'retry', retry_after: 2 });
    expect(res.headers['retry-after']).toBe('2');
    expect(t.audits).toContainEqual({ event: 'store.unavailable', operation: 'GET /api/profile' });
    // Logged as a warning without a stack: an outage is not a bug.
    expect(t.logLines.some((line) => line.includes('"request failed"'))).toBe(false);
    expect(t.logLines.some((line) => line.includes('"stack"'))).toBe(false);
  });
});

describe('the error tables', () => {
  it('give every layer’s error its documented body', () => {
    expect(new JtsError('JTS-401-05').toBody(1_000)).toEqual({ error: 'session_compromised', error_code: 'JTS-401-05', message: 'A StateProof was replayed; the session has been revoked.', action: 'reauth', timestamp: 1 });
    expect(new AuthError('password_rejected', { message: 'The password needs at least 8 characters.' }).toBody(0)).toEqual({ error: 'invalid_request', message: 'The password needs at least 8 characters.', action: 'none', timestamp: 0 });
    expect(new HttpError('rate_limited', { retryAfter: 30 }).toBody(0)).toEqual({ error: 'rate_limited', message: 'Too many requests.', action: 'retry', retry_after: 30, timestamp: 0 });
    expect(new StoreError('service_unavailable').status).toBe(503);
  });

  it('never shows the message of an unexposed error', () => {
    const error = new HttpError('internal_error', { message: 'connect to 10.0.0.7 failed with password hunter2' });
    expect(error.toBody(0).message).toBe('Internal server error.');
  });

  it('keep the JTS table to the protocol’s codes and give every code one status and key', () => {
    const rows = errorCatalog();
    const codes = rows.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(rows.filter((row) => row.code.startsWith('JTS-')).map((row) => row.key)).toEqual([
      'malformed_token', 'missing_claims', 'bearer_expired', 'signature_invalid', 'stateproof_invalid', 'session_terminated',
      'session_compromised', 'device_mismatch', 'audience_mismatch', 'permission_denied', 'org_mismatch', 'key_unavailable',
    ]);
    for (const row of rows) expect(String(row.status)).toMatch(/^[45]\d\d$/);
    expect(rows.filter((row) => !row.expose).map((row) => row.code)).toEqual(['internal_error']);
  });
});

describe('answers of the final handler', () => {
  it('answers a body-parser failure with the HTTP layer’s code', async () => {
    const t = await buildTestApp();
    const res = await request(t.app).post('/jts/login').set('x-jts-request', '1').set('Content-Type', 'application/json').send('{"email":').expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', message: 'The body is not valid JSON.' });
  });

  it('tells JSON that is not an object (null, a string, a number) from text that is not JSON', async () => {
    const t = await buildTestApp();
    for (const body of ['null', '"text"', '3', 'true']) {
      const res = await request(t.app).post('/jts/login').set('x-jts-request', '1').set('Content-Type', 'application/json').send(body).expect(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: 'The body must be a JSON object.' });
    }
    await t.close();
  });
});
