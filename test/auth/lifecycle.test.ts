import request from 'supertest';
import type { ManualClock } from '../../src/jts/clock';
import { buildTestApp, createUser, type TestApp, type TestAppOptions } from '../support/test-app';
import { CSRF, login, profile, renew, renewOk, stateProofFrom } from '../support/http';

/** sp1.<prn>.<aid>.<generation>.<mac> */
const aidOf = (stateProof: string) => stateProof.split('.')[2]!;

// A renewal on the instance that issued the session (or renewed it last) mints from what it
// remembers and lets the store confirm; any other instance reads the store first. Both paths
// must behave the same, so the Redis store runs twice, once with nothing remembered.
const variants: [string, Pick<TestAppOptions, 'store' | 'renewFactsCapacity'>][] = [
  ['memory store', { store: 'memory' }],
  ['redis store', { store: 'redis' }],
  ['memory store, every renewal reads the store', { store: 'memory', renewFactsCapacity: 0 }],
  ['redis store, every renewal reads the store', { store: 'redis', renewFactsCapacity: 0 }],
];

describe.each(variants)('session lifecycle (%s)', (_name, variant) => {
  let t: TestApp;
  let clock: ManualClock;
  let user: Awaited<ReturnType<typeof createUser>>;

  beforeEach(async () => {
    t = await buildTestApp(variant);
    clock = t.clock;
    user = await createUser(t);
  });
  afterEach(async () => {
    await t.close();
  });

  describe('login', () => {
    it('returns a BearerPass in the body and the StateProof in a strict HttpOnly cookie', async () => {
      const res = await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ bearerPass: expect.any(String), expiresIn: 300, tokenType: 'Bearer' });
      expect(res.headers['cache-control']).toBe('no-store');
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]!;
      expect(cookie).toMatch(/^jts_state_proof=sp1\.[^;]+; Max-Age=604800; Path=\/jts; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
      await expect(profile(t.app, (res.body as { bearerPass: string }).bearerPass)).resolves.toMatchObject({ status: 200 });
    });

    it('sets the Secure attribute when configured', async () => {
      const secure = await buildTestApp({ ...variant, env: { JTS_COOKIE_SECURE: 'true' } });
      const u = await createUser(secure);
      const res = await request(secure.app).post('/jts/login').set(CSRF).send({ email: u.email, password: u.password });
      expect(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]).toContain('; Secure');
      await secure.close();
    });

    it('normalises the email', async () => {
      await expect(login(t.app, `  ${user.email.toUpperCase()} `, user.password)).resolves.toBeDefined();
    });

    it.each([
      ['a wrong password', () => ({ email: user.email, password: 'wrong password' })],
      ['an unknown email', () => ({ email: 'nobody@example.com', password: user.password })],
    ])('refuses %s with 401 invalid_credentials', async (_name, body) => {
      const res = await request(t.app).post('/jts/login').set(CSRF).send(body());
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_credentials' });
      expect(stateProofFrom(res)).toBeUndefined();
    });

    it('gives a disabled user the same 401 as a wrong password', async () => {
      await t.users.update(user.id, { disabled: true }, clock.now());
      const res = await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_credentials', message: 'Email or password is incorrect.' });
    });

    it.each([
      [{}, 'email'],
      [{ email: 'not-an-email', password: 'x' }, 'email'],
      [{ email: 'a@example.com' }, 'password'],
      [{ email: 'a@example.com', password: 42 }, 'password'],
    ])('refuses a malformed body %j with 400 naming the field', async (body, field) => {
      const res = await request(t.app).post('/jts/login').set(CSRF).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request' });
      expect((res.body as { message: string }).message).toContain(field);
    });

    it('refuses a password bcrypt could only check truncated, instead of letting a 72-byte prefix match', async () => {
      const long = await createUser(t, { password: 'x'.repeat(72) });
      const res = await request(t.app).post('/jts/login').set(CSRF).send({ email: long.email, password: `${'x'.repeat(72)}suffix` });
      expect(res.status).toBe(400);
      await expect(login(t.app, long.email, 'x'.repeat(72))).resolves.toBeDefined();
    });
  });

  describe('register', () => {
    const body = () => ({ email: `new-${Math.random().toString(36).slice(2)}@example.com`, password: 'a long enough pass', name: 'New Person' });

    it('creates the account and signs in, like login but with 201', async () => {
      const res = await request(t.app).post('/jts/register').set(CSRF).send(body());
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ bearerPass: expect.any(String), expiresIn: 300, tokenType: 'Bearer' });
      expect(stateProofFrom(res)).toMatch(/^sp1\./);
      const me = await profile(t.app, (res.body as { bearerPass: string }).bearerPass);
      expect(me.body).toMatchObject({ name: 'New Person', permissions: ['read:profile'] });
    });

    it('refuses a taken email with 409, whatever its case', async () => {
      const res = await request(t.app).post('/jts/register').set(CSRF).send({ ...body(), email: user.email.toUpperCase() });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'email_taken' });
    });

    it.each([
      ['7 characters', 'short12'],
      ['73 bytes', 'é'.repeat(36) + 'x'],
      ['a NUL byte', 'abcdefgh\0ij'],
    ])('refuses a password of %s with 400', async (_name, password) => {
      const res = await request(t.app).post('/jts/register').set(CSRF).send({ ...body(), password });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request' });
    });

    it('accepts exactly 72 bytes', async () => {
      const res = await request(t.app).post('/jts/register').set(CSRF).send({ ...body(), password: 'é'.repeat(36) });
      expect(res.status).toBe(201);
    });

    it('is refused with 403 when registration is turned off', async () => {
      const closed = await buildTestApp({ ...variant, env: { JTS_ALLOW_REGISTRATION: 'false' } });
      const res = await request(closed.app).post('/jts/register').set(CSRF).send(body());
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'registration_closed' });
      await closed.close();
    });
  });

  describe('renew', () => {
    it('rotates the StateProof on every renewal; afterwards only the newest works', async () => {
      const first = await login(t.app, user.email, user.password);
      const seen = new Set([first.stateProof]);
      let current = first;
      for (let i = 0; i < 3; i++) {
        clock.advance(1_000);
        current = await renewOk(t.app, current.stateProof);
        expect(seen.has(current.stateProof)).toBe(false);
        seen.add(current.stateProof);
      }
      clock.advance(11_000);
      const latest = await renewOk(t.app, current.stateProof);
      expect(latest.stateProof).not.toBe(current.stateProof);
    });

    it('answers the previous StateProof inside the grace window with byte-identical credentials', async () => {
      const first = await login(t.app, user.email, user.password);
      const a = await renew(t.app, first.stateProof);
      clock.advance(9_000);
      const b = await renew(t.app, first.stateProof);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect((b.body as { bearerPass: string }).bearerPass).toBe((a.body as { bearerPass: string }).bearerPass);
      expect(stateProofFrom(b)).toBe(stateProofFrom(a));
      expect(t.audits.filter((e) => e.event === 'renew.grace')).toHaveLength(1);
    });

    it('treats a StateProof two generations old as a replay, even inside the window', async () => {
      const first = await login(t.app, user.email, user.password);
      const second = await renewOk(t.app, first.stateProof);
      const third = await renewOk(t.app, second.stateProof);
      const res = await renew(t.app, first.stateProof);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'session_compromised', error_code: 'JTS-401-05', action: 'reauth' });
      await expect(renew(t.app, third.stateProof)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-05' } });
    });

    it.each([
      ['the last consumed StateProof', 1],
      ['one consumed three rotations earlier', 3],
    ])('detects a replay of %s after the window and kills the session', async (_name, depth) => {
      const chain = [await login(t.app, user.email, user.password)];
      for (let i = 0; i < 4; i++) chain.push(await renewOk(t.app, chain[chain.length - 1]!.stateProof));
      const current = chain[chain.length - 1]!;
      clock.advance(11_000);
      const stolen = chain[chain.length - 1 - depth]!;
      const res = await renew(t.app, stolen.stateProof);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error_code: 'JTS-401-05' });
      expect(t.audits).toContainEqual(expect.objectContaining({ event: 'replay.detected' }));
      await expect(renew(t.app, current.stateProof)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-05' } });
      await expect(profile(t.app, current.bearerPass)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-05' } });
    });

    it('revokes every session of the user on replay with JTS_REPLAY_REVOKE=principal', async () => {
      const strict = await buildTestApp({ ...variant, env: { JTS_REPLAY_REVOKE: 'principal' } });
      const u = await createUser(strict);
      const stolenFrom = await login(strict.app, u.email, u.password);
      const other = await login(strict.app, u.email, u.password);
      await renewOk(strict.app, stolenFrom.stateProof);
      strict.clock.advance(11_000);
      await expect(renew(strict.app, stolenFrom.stateProof)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-05' } });
      await expect(renew(strict.app, other.stateProof)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-05' } });
      expect(strict.audits).toContainEqual({ event: 'renew.rejected', reason: 'compromised', prn: u.id, aid: aidOf(other.stateProof) });
      await strict.close();
    });

    it('audits a renewal of a session ended elsewhere (another instance, the admin CLI) as missing', async () => {
      const creds = await login(t.app, user.email, user.password);
      await t.sessions.revoke(user.id, aidOf(creds.stateProof), { reason: 'revoked', initiator: 'user' });
      await expect(renew(t.app, creds.stateProof)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-04' } });
      expect(t.audits).toContainEqual({ event: 'renew.rejected', reason: 'missing', prn: user.id, aid: aidOf(creds.stateProof) });
    });

    it('reads the user again: new permissions appear in the next BearerPass', async () => {
      const first = await login(t.app, user.email, user.password);
      await t.users.update(user.id, { permissions: ['read:profile', 'admin:access'] }, clock.now());
      const next = await renewOk(t.app, first.stateProof);
      const claims = JSON.parse(Buffer.from(next.bearerPass.split('.')[1]!, 'base64url').toString()) as { perm: string[] };
      expect(claims.perm).toEqual(['read:profile', 'admin:access']);
    });

    it('ends the session of a disabled user with JTS-401-04', async () => {
      const first = await login(t.app, user.email, user.password);
      await t.users.update(user.id, { disabled: true }, clock.now());
      const res = await renew(t.app, first.stateProof);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error_code: 'JTS-401-04' });
      await expect(profile(t.app, first.bearerPass)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-04' } });
    });

    it('accepts the StateProof in X-JTS-StateProof with the device id bound at login, and returns the next one in the body', async () => {
      const first = await login(t.app, user.email, user.password, { 'X-JTS-Device-ID': 'phone-1' });
      const res = await request(t.app).post('/jts/renew').set(CSRF).set('X-JTS-StateProof', first.stateProof).set('X-JTS-Device-ID', 'phone-1');
      expect(res.status).toBe(200);
      expect((res.body as { stateProof: string }).stateProof).toBe(stateProofFrom(res));
    });

    // Issue 14 (1): a StateProof by header is a native client's, which always binds a device.
    it.each([
      ['a browser session’s StateProof copied into the header, without a device id', undefined, undefined],
      ['a browser session’s StateProof copied into the header, with any device id', undefined, 'phone-1'],
      ['a native session’s StateProof without its device id', 'phone-1', undefined],
      ['a native session’s StateProof with another device id', 'phone-1', 'phone-2'],
    ])('refuses %s on renew and on logout with JTS-401-06, and the session lives on', async (_case, boundAt, presented) => {
      const first = await login(t.app, user.email, user.password, boundAt === undefined ? {} : { 'X-JTS-Device-ID': boundAt });
      const device: Record<string, string> = presented === undefined ? {} : { 'X-JTS-Device-ID': presented };
      for (const path of ['/jts/renew', '/jts/logout']) {
        const res = await request(t.app).post(path).set(CSRF).set('X-JTS-StateProof', first.stateProof).set(device);
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ error: 'device_mismatch', error_code: 'JTS-401-06', action: 'reauth' });
      }
      await profile(t.app, first.bearerPass).expect(200);
      const owner = boundAt === undefined ? renew(t.app, first.stateProof) : request(t.app).post('/jts/renew').set(CSRF).set('X-JTS-StateProof', first.stateProof).set('X-JTS-Device-ID', boundAt);
      expect((await owner).status).toBe(200);
    });

    // Review finding: a native session's StateProof replayed as a cookie must not end it either.
    it('refuses to log out a device-bound session through the cookie without its device id', async () => {
      const first = await login(t.app, user.email, user.password, { 'X-JTS-Device-ID': 'phone-1' });
      const res = await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${first.stateProof}`);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error_code: 'JTS-401-06' });
      await profile(t.app, first.bearerPass).expect(200);
      await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${first.stateProof}`).set('X-JTS-Device-ID', 'phone-1').expect(200);
      await profile(t.app, first.bearerPass).expect(401);
    });

    it('logs out a native session by header with its device id', async () => {
      const first = await login(t.app, user.email, user.password, { 'X-JTS-Device-ID': 'phone-1' });
      await request(t.app).post('/jts/logout').set(CSRF).set('X-JTS-StateProof', first.stateProof).set('X-JTS-Device-ID', 'phone-1').expect(200);
      await profile(t.app, first.bearerPass).expect(401);
    });

    it('never puts a cookie’s StateProof in a response body, whatever headers a page script adds', async () => {
      const first = await login(t.app, user.email, user.password);
      const res = await request(t.app).post('/jts/renew').set(CSRF).set('X-JTS-Device-ID', 'anything').set('Cookie', `jts_state_proof=${first.stateProof}`);
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('stateProof');
      expect(JSON.stringify(res.body)).not.toContain('sp1.');
    });

    it('binds a session to X-JTS-Device-ID: another device gets JTS-401-06', async () => {
      const res = await request(t.app).post('/jts/login').set(CSRF).set('X-JTS-Device-ID', 'device-1').send({ email: user.email, password: user.password });
      const sp = (res.body as { stateProof: string }).stateProof;
      const other = await request(t.app).post('/jts/renew').set(CSRF).set('X-JTS-StateProof', sp).set('X-JTS-Device-ID', 'device-2');
      expect(other.body).toMatchObject({ error_code: 'JTS-401-06' });
      const missing = await request(t.app).post('/jts/renew').set(CSRF).set('X-JTS-StateProof', sp);
      expect(missing.body).toMatchObject({ error_code: 'JTS-401-06' });
      const same = await request(t.app).post('/jts/renew').set(CSRF).set('X-JTS-StateProof', sp).set('X-JTS-Device-ID', 'device-1');
      expect(same.status).toBe(200);
    });

    it.each([
      ['no StateProof at all', undefined],
      ['an empty value', ''],
      ['a random string', 'hello'],
      ['the right shape with a forged mac', `sp1.abc.def.1.${'A'.repeat(43)}`],
      ['an oversized value', 'x'.repeat(5000)],
    ])('refuses %s with JTS-401-03', async (_name, value) => {
      const req = request(t.app).post('/jts/renew').set(CSRF);
      const res = await (value === undefined ? req : req.set('Cookie', `jts_state_proof=${value}`));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'stateproof_invalid', error_code: 'JTS-401-03', action: 'reauth' });
    });

    it.each([
      ['side by side', (a: string, b: string) => `jts_state_proof=${a}; jts_state_proof=${b}`],
      // The cookie parser trims names, so a spaced name is the same cookie to it.
      ['one with a space before =', (a: string, b: string) => `jts_state_proof =${a}; jts_state_proof=${b}`],
      ['one with a tab after ;', (a: string, b: string) => `jts_state_proof=${a};\tjts_state_proof=${b}`],
    ])('refuses a request carrying two jts_state_proof cookies (%s)', async (_name, header) => {
      const first = await login(t.app, user.email, user.password);
      const other = await login(t.app, user.email, user.password);
      const res = await request(t.app).post('/jts/renew').set(CSRF).set('Cookie', header(first.stateProof, other.stateProof));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error_code: 'JTS-401-03' });
    });
  });

  describe('logout', () => {
    it('ends the session: its StateProof and BearerPass stop working at once', async () => {
      const creds = await login(t.app, user.email, user.password);
      const res = await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`);
      expect(res.status).toBe(200);
      expect(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]).toMatch(/^jts_state_proof=; Path=\/jts; Expires=Thu, 01 Jan 1970/);
      const after = await renew(t.app, creds.stateProof);
      expect(['JTS-401-03', 'JTS-401-04']).toContain((after.body as { error_code: string }).error_code);
      await expect(profile(t.app, creds.bearerPass)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-04' } });
    });

    it('works with an expired BearerPass and answers 200 when the session is already gone', async () => {
      const creds = await login(t.app, user.email, user.password);
      clock.advance(3_600_000);
      const first = await request(t.app).post('/jts/logout').set(CSRF).set('Authorization', `Bearer ${creds.bearerPass}`).set('Cookie', `jts_state_proof=${creds.stateProof}`);
      expect(first.status).toBe(200);
      const again = await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`);
      expect(again.status).toBe(200);
      await expect(request(t.app).post('/jts/logout').set(CSRF)).resolves.toMatchObject({ status: 200 });
    });
  });

  describe('CSRF', () => {
    const routes = ['/jts/login', '/jts/register', '/jts/renew', '/jts/logout'];

    it.each(routes)('refuses POST %s without X-JTS-Request with 403', async (path) => {
      const res = await request(t.app).post(path).send({ email: user.email, password: user.password });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'csrf_missing' });
    });

    it.each(routes)('refuses POST %s from a foreign Origin with 403', async (path) => {
      const res = await request(t.app).post(path).set(CSRF).set('Origin', 'https://evil.example').send({ email: user.email, password: user.password });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'csrf_origin' });
    });

    it('does not trust the Host header for the origin check in production', async () => {
      const prod = await buildTestApp({ store: 'redis', env: { NODE_ENV: 'production', BCRYPT_ROUNDS: '12', JTS_COOKIE_SECURE: 'true', JTS_ISSUER: 'https://auth.example', JTS_AUDIENCE: 'https://auth.example' } });
      const rebound = await request(prod.app).post('/jts/login').set(CSRF).set('Host', 'evil.example').set('Origin', 'http://evil.example').send({ email: 'a@example.com', password: 'whatever' });
      expect(rebound.status).toBe(403);
      expect(rebound.body).toMatchObject({ error: 'csrf_origin' });
      const own = await request(prod.app).post('/jts/login').set(CSRF).set('Origin', 'https://auth.example').send({ email: 'a@example.com', password: 'whatever' });
      expect(own.status).toBe(401);
      await prod.close();
    });

    it('accepts the server’s own origin and listed origins', async () => {
      const res = await request(t.app).post('/jts/login').set(CSRF).set('Host', 'auth.test').set('Origin', 'http://auth.test').send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
      const listed = await buildTestApp({ ...variant, env: { CORS_ORIGINS: 'https://app.example' } });
      const u = await createUser(listed);
      const ok = await request(listed.app).post('/jts/login').set(CSRF).set('Origin', 'https://app.example').send({ email: u.email, password: u.password });
      expect(ok.status).toBe(200);
      await listed.close();
    });
  });
});
