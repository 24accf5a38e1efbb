import request from 'supertest';
import { buildTestApp, createUser, type StoreKind, type TestApp } from '../support/test-app';
import { CSRF, login, profile, renew, renewOk, type Credentials } from '../support/http';
import { PrivateRedis } from '../support/redis-server';

type Revoker = (t: TestApp, victim: Credentials, user: { email: string; password: string }) => Promise<void>;

/** Each way a session can end, driven through the public API. */
const revokers: [string, Revoker][] = [
  ['logout', async (t, victim) => {
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${victim.stateProof}`).expect(200);
  }],
  ['DELETE /jts/sessions/:aid from another session', async (t, victim, user) => {
    const other = await login(t.app, user.email, user.password);
    const aid = (JSON.parse(Buffer.from(victim.bearerPass.split('.')[1]!, 'base64url').toString()) as { aid: string }).aid;
    await request(t.app).delete(`/jts/sessions/${aid}`).set(CSRF).set('Authorization', `Bearer ${other.bearerPass}`).expect(200);
  }],
  ['a password change in another session', async (t, _victim, user) => {
    const other = await login(t.app, user.email, user.password);
    await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${other.bearerPass}`).send({ currentPassword: user.password, newPassword: 'a brand new password' }).expect(200);
  }],
  ['revoke-others from another session', async (t, _victim, user) => {
    const other = await login(t.app, user.email, user.password);
    await request(t.app).post('/jts/sessions/revoke-others').set(CSRF).set('Authorization', `Bearer ${other.bearerPass}`).expect(200);
  }],
  ['replay detection', async (t, victim) => {
    await renewOk(t.app, victim.stateProof);
    t.clock.advance(11_000);
    await renew(t.app, victim.stateProof).expect(401);
  }],
];

describe.each<StoreKind>(['memory', 'redis'])('instant revocation (%s store)', (store) => {
  describe.each(revokers)('after %s', (_name, revoke) => {
    it('refuses the session’s earlier BearerPass at once in strict mode', async () => {
      const t = await buildTestApp({ store });
      const user = await createUser(t);
      const victim = await login(t.app, user.email, user.password);
      await profile(t.app, victim.bearerPass).expect(200);
      await revoke(t, victim, user);
      const res = await profile(t.app, victim.bearerPass);
      expect(res.status).toBe(401);
      expect(['JTS-401-04', 'JTS-401-05']).toContain((res.body as { error_code: string }).error_code);
      await t.close();
    });

    it('still accepts it with JTS_REVOCATION_CHECK=off, until it expires', async () => {
      const t = await buildTestApp({ store, env: { JTS_REVOCATION_CHECK: 'off' } });
      const user = await createUser(t);
      const victim = await login(t.app, user.email, user.password);
      await revoke(t, victim, user);
      await profile(t.app, victim.bearerPass).expect(200);
      t.clock.advance(306_000);
      const expired = await profile(t.app, victim.bearerPass);
      expect(expired.body).toMatchObject({ error_code: 'JTS-401-01', action: 'renew' });
      await t.close();
    });
  });

  it('refuses the BearerPass of a session evicted by the single policy', async () => {
    const t = await buildTestApp({ store, env: { JTS_SESSION_POLICY: 'single' } });
    const user = await createUser(t);
    const first = await login(t.app, user.email, user.password);
    const second = await login(t.app, user.email, user.password);
    await expect(profile(t.app, first.bearerPass)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-04' } });
    await profile(t.app, second.bearerPass).expect(200);
    const claims = JSON.parse(Buffer.from(second.bearerPass.split('.')[1]!, 'base64url').toString()) as { spl: string };
    expect(claims.spl).toBe('single');
    await t.close();
  });
});

describe('authenticate()', () => {
  let t: TestApp;
  let creds: Credentials;
  beforeAll(async () => {
    t = await buildTestApp();
    const user = await createUser(t);
    creds = await login(t.app, user.email, user.password);
  });

  it('accepts the Bearer scheme in any case', async () => {
    await request(t.app).get('/api/profile').set('Authorization', `bearer ${creds.bearerPass}`).expect(200);
    await request(t.app).get('/api/profile').set('Authorization', `BEARER ${creds.bearerPass}`).expect(200);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
    ['two tokens', 'Bearer a b'],
  ])('answers %s with JTS-401-03 and action reauth', async (_name, header) => {
    const req = request(t.app).get('/api/profile');
    const res = await (header === undefined ? req : req.set('Authorization', header));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'stateproof_invalid', error_code: 'JTS-401-03', message: expect.any(String), action: 'reauth', timestamp: expect.any(Number) });
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it('answers a malformed token with JTS-400-01 and a tampered one with JTS-401-02', async () => {
    await expect(request(t.app).get('/api/profile').set('Authorization', 'Bearer not.a.jwt')).resolves.toMatchObject({ status: 400, body: { error_code: 'JTS-400-01' } });
    const [h, p, s] = creds.bearerPass.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, perm: ['admin:access'] })).toString('base64url')}.${s}`;
    await expect(request(t.app).get('/api/admin').set('Authorization', `Bearer ${forged}`)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-02' } });
  });

  it('answers a token for another audience with JTS-403-01', async () => {
    // Same signing key (the test key ring is shared) and issuer, another audience.
    const other = await buildTestApp({ env: { JTS_AUDIENCE: 'https://other.example', JTS_ISSUER: 'http://localhost:3000' } });
    const user = await createUser(other);
    const foreign = await login(other.app, user.email, user.password);
    const res = await request(t.app).get('/api/profile').set('Authorization', `Bearer ${foreign.bearerPass}`);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'audience_mismatch', error_code: 'JTS-403-01', action: 'none' });
  });
});

describe('permissions', () => {
  it('gives the plain user JTS-403-02 on /api/admin and the admin 200', async () => {
    const t = await buildTestApp();
    const plain = await createUser(t, { permissions: ['read:profile'] });
    const admin = await createUser(t, { permissions: ['read:profile', 'admin:access'] });
    const p = await login(t.app, plain.email, plain.password);
    const a = await login(t.app, admin.email, admin.password);
    const denied = await request(t.app).get('/api/admin').set('Authorization', `Bearer ${p.bearerPass}`);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: 'permission_denied', error_code: 'JTS-403-02', action: 'none' });
    const ok = await request(t.app).get('/api/admin').set('Authorization', `Bearer ${a.bearerPass}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ message: expect.any(String), user: { id: admin.id, permissions: ['read:profile', 'admin:access'] }, timestamp: Math.floor(t.clock.now() / 1000) });
    const me = await profile(t.app, a.bearerPass);
    expect(me.body).toEqual({ id: admin.id, email: admin.email, name: 'Test User', permissions: ['read:profile', 'admin:access'] });
  });
});

describe('session policies under concurrent logins (Redis)', () => {
  it.each([
    ['single', 1],
    ['max:2', 2],
  ])('%s never leaves more than %i sessions', async (policy, max) => {
    const t = await buildTestApp({ store: 'redis', env: { JTS_SESSION_POLICY: policy } });
    const user = await createUser(t);
    const all = await Promise.all(Array.from({ length: 8 }, () => login(t.app, user.email, user.password)));
    const sessions = await t.sessions.list(user.id, t.clock.now());
    expect(sessions).toHaveLength(max);
    const alive = (await Promise.all(all.map((c) => profile(t.app, c.bearerPass)))).filter((r) => r.status === 200);
    expect(alive).toHaveLength(max);
    await t.close();
  });
});

describe('when the store is down', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(async () => {
    await server.destroy();
  });

  // /api/admin reads nothing but the BearerPass, so only the revocation check needs the store.
  it.each([
    ['deny', 503],
    ['allow', 200],
  ])('JTS_REVOCATION_ON_STORE_ERROR=%s answers %i', async (mode, status) => {
    await server.start();
    const t = await buildTestApp({ store: 'redis', redisUrl: server.url, env: { JTS_REVOCATION_ON_STORE_ERROR: mode } });
    const admin = await createUser(t, { permissions: ['admin:access'] });
    const creds = await login(t.app, admin.email, admin.password);
    await server.stop();
    const res = await request(t.app).get('/api/admin').set('Authorization', `Bearer ${creds.bearerPass}`);
    expect(res.status).toBe(status);
    if (mode === 'deny') {
      expect(res.body).toMatchObject({ error: 'service_unavailable', retry_after: expect.any(Number) });
    } else {
      expect(t.logLines.some((line) => line.includes('"level":40') && line.includes('signature alone'))).toBe(true);
      expect(t.audits).toContainEqual({ event: 'store.unavailable', operation: 'revocation_check' });
    }
    await t.close();
  });
});
