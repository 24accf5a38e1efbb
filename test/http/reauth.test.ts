import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import type { BearerPassClaims } from '../../src/jts/bearer-pass/claims';
import { CSRF, login, renew, renewOk, stateProofFrom, type Credentials } from '../support/http';
import { buildTestApp, createUser, type StoreKind, type TestApp } from '../support/test-app';
import { ACCESS_TOKEN, addClient, basic, EXCHANGE, tokenRequest } from '../oauth/support';

const STEP = 30_000;
const HOUR = 3_600_000;
const UA = { 'User-Agent': 'reauth-test/1.0' };
const claimsOf = (bearerPass: string) => JSON.parse(Buffer.from(bearerPass.split('.')[1] ?? '', 'base64url').toString('utf8')) as BearerPassClaims;
const codeAt = (secret: string, at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });
const seconds = (ms: number) => Math.floor(ms / 1000);
const refused = (error: string, message: string, action = 'none') => ({ error, message, action, timestamp: expect.any(Number) as number });

describe.each<StoreKind>(['redis', 'memory'])('POST /jts/reauth: a step-up on the same session (%s sessions)', (store) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store, env: { JTS_MFA_REQUIRED_FOR: 'admin:access' } });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  });
  afterEach(async () => {
    await t.close();
  });

  const bearer = (bearerPass: string) => ({ ...UA, Authorization: `Bearer ${bearerPass}` });
  const post = (path: string, body: object, headers: Record<string, string> = UA) => request(t.app).post(path).set(CSRF).set(headers).send(body);
  const reauth = (bearerPass: string, body: object) => post('/jts/reauth', body, bearer(bearerPass));

  /** A password session signed in an hour ago and just renewed, its user with a confirmed authenticator. */
  async function oldSessionWithTotp(permissions = ['read:profile']) {
    const user = await createUser(t, { emailVerified: true, permissions });
    const first = await login(t.app, user.email, user.password, UA);
    const { secret } = (await post('/jts/mfa/totp', {}, bearer(first.bearerPass)).expect(201)).body as { secret: string };
    await post('/jts/mfa/totp/confirm', { code: codeAt(secret, t.clock.now()) }, bearer(first.bearerPass)).expect(200);
    const signedInAt = t.clock.now();
    t.clock.advance(HOUR);
    return { user, session: await renewOk(t.app, first.stateProof), secret, signedInAt };
  }

  it('the password moves auth_time to now with amr pwd, on the same session; the StateProof is untouched and renewals keep the step-up', async () => {
    const { user, session, signedInAt } = await oldSessionWithTotp();
    const res = await reauth(session.bearerPass, { password: user.password });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(stateProofFrom(res)).toBeUndefined();
    expect(Object.keys(res.body as object).sort()).toEqual(['bearerPass', 'expiresIn', 'tokenType']);
    const stepped = claimsOf((res.body as { bearerPass: string }).bearerPass);
    const before = claimsOf(session.bearerPass);
    expect(before.auth_time).toBe(seconds(signedInAt));
    expect(stepped).toMatchObject({ prn: before.prn, aid: before.aid, auth_time: seconds(t.clock.now()), amr: ['pwd'] });
    expect(t.audits).toContainEqual({ event: 'reauth.succeeded', prn: user.id, aid: before.aid, method: 'pwd', amr: ['pwd'] });

    // The StateProof of before the step-up is the current one still; its renewals carry the step-up.
    const steppedAt = t.clock.now();
    t.clock.advance(60_000);
    const renewed = await renewOk(t.app, session.stateProof);
    expect(claimsOf(renewed.bearerPass)).toMatchObject({ aid: before.aid, auth_time: seconds(steppedAt), amr: ['pwd'] });
    const again = await renewOk(t.app, renewed.stateProof);
    expect(claimsOf(again.bearerPass)).toMatchObject({ auth_time: seconds(steppedAt), amr: ['pwd'] });
    // The sessions list still shows the sign-in's time.
    const listed = await request(t.app).get('/jts/sessions').set(bearer(again.bearerPass)).expect(200);
    expect(JSON.stringify(listed.body)).toContain(new Date(signedInAt).toISOString());

    // An older StateProof after the grace window is still a replay: the chain is the same one.
    t.clock.advance(60_000);
    const replay = await renew(t.app, session.stateProof);
    expect(replay.status).toBe(401);
    expect((replay.body as { error_code: string }).error_code).toBe('JTS-401-05');
    expect((await renew(t.app, again.stateProof)).status).toBe(401);
  });

  it('a TOTP code after a password sign-in gives pwd, otp, mfa: the permissions JTS_MFA_REQUIRED_FOR gates appear, and the guards of removing the authenticator pass', async () => {
    const { session, secret } = await oldSessionWithTotp(['read:profile', 'admin:access']);
    expect(claimsOf(session.bearerPass).perm).toEqual(['read:profile']);
    // Too old for removing the authenticator, and without mfa.
    const stale = await request(t.app).delete('/jts/mfa/totp').set(CSRF).set(bearer(session.bearerPass));
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({ error: 'insufficient_user_authentication', action: 'reauth' });

    const res = await reauth(session.bearerPass, { code: codeAt(secret, t.clock.now()) });
    expect(res.status).toBe(200);
    const bearerPass = (res.body as { bearerPass: string }).bearerPass;
    expect(claimsOf(bearerPass)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], auth_time: seconds(t.clock.now()), perm: ['read:profile', 'admin:access'] });
    await request(t.app).get('/api/admin').set(bearer(bearerPass)).expect(200);
    const renewed = await renewOk(t.app, session.stateProof);
    expect(claimsOf(renewed.bearerPass)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], perm: ['read:profile', 'admin:access'] });
    await request(t.app).delete('/jts/mfa/totp').set(CSRF).set(bearer(renewed.bearerPass)).expect(200);
  });

  // Peers: Supabase auth #1615 and KeeperHub #1523 (a session alone, or a fresh password, swaps the authenticator).
  it('a password step-up is fresh but not mfa: it cannot remove the authenticator, nor start another', async () => {
    const { user, session } = await oldSessionWithTotp();
    const res = await reauth(session.bearerPass, { password: user.password });
    const { bearerPass } = res.body as { bearerPass: string };
    const removal = await request(t.app).delete('/jts/mfa/totp').set(CSRF).set(bearer(bearerPass));
    expect(removal.status).toBe(401);
    expect(removal.body).toEqual(refused('insufficient_user_authentication', 'This needs a stronger sign-in: sign in again with the required methods, then retry.', 'reauth'));
    expect((await post('/jts/mfa/totp', {}, bearer(bearerPass))).status).toBe(409);
  });

  // Peer: safe-global/safe-client-gateway #3374 (a step-up handed back a fresh session lifetime).
  it('a step-up does not lengthen the session: the next renewal’s cookie still counts down from the sign-in', async () => {
    const { user, session, signedInAt } = await oldSessionWithTotp();
    await reauth(session.bearerPass, { password: user.password }).expect(200);
    const renewed = await renew(t.app, session.stateProof).expect(200);
    const maxAge = Number(/Max-Age=(\d+)/.exec(([] as string[]).concat(renewed.headers['set-cookie'] ?? []).join(';'))?.[1]);
    expect(maxAge).toBe(seconds(signedInAt + t.config.jts.stateProofLifetimeSeconds * 1000 - t.clock.now()));
  });

  it('a recovery code steps up once; the same code again is refused', async () => {
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password, UA);
    const { secret } = (await post('/jts/mfa/totp', {}, bearer(session.bearerPass)).expect(201)).body as { secret: string };
    const { recoveryCodes } = (await post('/jts/mfa/totp/confirm', { code: codeAt(secret, t.clock.now()) }, bearer(session.bearerPass)).expect(200)).body as { recoveryCodes: string[] };
    const recoveryCode = recoveryCodes[0] ?? '';
    const res = await reauth(session.bearerPass, { recoveryCode });
    expect(res.status).toBe(200);
    expect(claimsOf((res.body as { bearerPass: string }).bearerPass).amr).toEqual(['pwd', 'otp', 'mfa']);
    const twice = await reauth(session.bearerPass, { recoveryCode });
    expect(twice.status).toBe(401);
    expect(twice.body).toEqual(refused('mfa_code_invalid', 'The code is wrong or was already used.'));
  });

  it('refuses a wrong password, a wrong code, a used code, and a body with two credentials; nothing moves', async () => {
    const { user, session, secret, signedInAt } = await oldSessionWithTotp();
    const wrong = await reauth(session.bearerPass, { password: `${user.password}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(refused('invalid_credentials', 'Email or password is incorrect.'));
    expect(t.audits).toContainEqual({ event: 'reauth.failed', prn: user.id, aid: claimsOf(session.bearerPass).aid, reason: 'wrong_password' });
    const code = codeAt(secret, t.clock.now());
    await reauth(session.bearerPass, { code }).expect(200);
    const reused = await reauth(session.bearerPass, { code });
    expect(reused.status).toBe(401);
    expect(reused.body).toEqual(refused('mfa_code_invalid', 'The code is wrong or was already used.'));
    const both = await reauth(session.bearerPass, { password: user.password, code: '123456' });
    expect(both.status).toBe(400);
    expect(both.body).toEqual(refused('invalid_request', 'Send exactly one of `password`, `code`, `recoveryCode` and `webauthn`.'));
    expect(signedInAt).toBeLessThan(t.clock.now());
  });

  it('refuses the BearerPass of a session that was logged out (JTS-401-04) and one without CSRF header', async () => {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${session.stateProof}`).expect(200);
    const res = await reauth(session.bearerPass, { password: user.password });
    expect(res.status).toBe(401);
    expect((res.body as { error_code: string }).error_code).toBe('JTS-401-04');
    const noCsrf = await request(t.app).post('/jts/reauth').set(bearer(session.bearerPass)).send({ password: user.password });
    expect(noCsrf.status).toBe(403);
  });

  it('a step-up racing renewals never forks the session: one rotation per StateProof, and the chain stays the one it was', async () => {
    const user = await createUser(t);
    let creds: Credentials = await login(t.app, user.email, user.password, UA);
    for (let round = 0; round < 5; round++) {
      t.clock.advance(20_000);
      const [stepped, first, second] = await Promise.all([reauth(creds.bearerPass, { password: user.password }), renew(t.app, creds.stateProof), renew(t.app, creds.stateProof)]);
      expect(stepped.status).toBe(200);
      expect([first.status, second.status]).toEqual([200, 200]);
      // Both renewals answered the same rotation (the grace window), whatever the step-up did meanwhile.
      expect(stateProofFrom(first)).toBe(stateProofFrom(second));
      expect((first.body as { bearerPass: string }).bearerPass).toBe((second.body as { bearerPass: string }).bearerPass);
      creds = { bearerPass: (first.body as { bearerPass: string }).bearerPass, stateProof: stateProofFrom(first) ?? '' };
    }
    // The next renewal claims the last step-up (a renewal that raced it may have under-claimed; never over).
    const next = await renewOk(t.app, creds.stateProof);
    expect(claimsOf(next.bearerPass).auth_time).toBe(seconds(t.clock.now()));
    const listed = await request(t.app).get('/jts/sessions').set(bearer(next.bearerPass)).expect(200);
    expect((listed.body as { sessions: unknown[] }).sessions).toHaveLength(1);
  });
});

describe('POST /jts/reauth across instances (real Redis)', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('another instance that remembers the session re-reads it at its next renewal: its BearerPass claims the step-up', async () => {
    const shared = { store: 'redis' as const, stateProofSecret: randomBytes(32), env: { REDIS_KEY_PREFIX: `reauth-${randomBytes(4).toString('hex')}:` } };
    const [a, b] = [await buildTestApp(shared), await buildTestApp(shared)];
    apps.push(a, b);
    const start = Date.now() - HOUR;
    a.clock.set(start);
    b.clock.set(start);
    const user = await createUser(a);
    let creds = await login(a.app, user.email, user.password, UA);
    // b renews once from the store, then (an hour later) from what it remembers.
    creds = await renewOk(b.app, creds.stateProof);
    a.clock.advance(HOUR);
    b.clock.advance(HOUR);
    creds = await renewOk(b.app, creds.stateProof);
    expect(claimsOf(creds.bearerPass).auth_time).toBe(seconds(start));
    const stepped = await request(a.app).post('/jts/reauth').set(CSRF).set({ ...UA, Authorization: `Bearer ${creds.bearerPass}` }).send({ password: user.password });
    expect(stepped.status).toBe(200);
    const renewed = await renewOk(b.app, creds.stateProof);
    expect(claimsOf(renewed.bearerPass).auth_time).toBe(seconds(a.clock.now()));
  });
});

describe('POST /jts/reauth with a token issued to a service (real PostgreSQL and Redis)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses a token issued to a service: over HTTP by its audience or its missing session, and in the use case by its kind (reauth_needs_session)', async () => {
    const frontend = await addClient(t, 'frontend', 'https://frontend.example.com', []);
    const orders = await addClient(t, 'orders', 'https://orders.example.com', ['read:orders']);
    const user = await createUser(t, { permissions: ['read:profile', 'read:orders'] });
    const { bearerPass } = await login(t.app, user.email, user.password, UA);
    const exchanged = await tokenRequest(t, { grant_type: EXCHANGE, subject_token: bearerPass, subject_token_type: ACCESS_TOKEN, audience: 'https://orders.example.com' }, basic('frontend', frontend));
    expect(exchanged.status).toBe(200);
    const token = (exchanged.body as { access_token: string }).access_token;
    const reauth = (presented: string) => request(t.app).post('/jts/reauth').set(CSRF).set({ ...UA, Authorization: `Bearer ${presented}` }).send({ password: user.password });
    // This server's own audience is never an exchange target, so its authentication refuses first.
    expect((await reauth(token)).body).toMatchObject({ error_code: 'JTS-403-01' });
    // The use case does not rely on that: the exchanged token names the user's live session.
    const claims = claimsOf(token);
    expect(claims.aid).toBe(claimsOf(bearerPass).aid);
    await expect(t.authServer.reauthenticate(claims, { password: user.password }, { userAgent: UA['User-Agent'] })).rejects.toMatchObject({ code: 'reauth_needs_session', status: 403 });
    expect(t.audits).toContainEqual({ event: 'reauth.failed', prn: user.id, reason: 'service_token' });

    const cc = await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', orders));
    expect(cc.status).toBe(200);
    const refusedClient = await reauth((cc.body as { access_token: string }).access_token);
    expect(refusedClient.status).toBe(403);
    expect((refusedClient.body as { error_code: string }).error_code).toBe('JTS-403-01');
  });
});

describe('POST /jts/reauth and the rate limits (Redis counters)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'loopback', RATE_LIMIT_LOGIN_ACCOUNT: '3/15m', RATE_LIMIT_PASSWORD: '100/15m' } });
  });
  afterEach(async () => {
    await t.close();
  });

  it('counts wrong credentials per account, from any address; a right one then meets 429 too', async () => {
    const user = await createUser(t);
    const { bearerPass } = await login(t.app, user.email, user.password, { 'X-Forwarded-For': '198.51.100.1' });
    const reauth = (body: object, ip: string) => request(t.app).post('/jts/reauth').set(CSRF).set('X-Forwarded-For', ip).set('Authorization', `Bearer ${bearerPass}`).send(body);
    expect((await reauth({ password: 'wrong password 1' }, '203.0.113.1')).status).toBe(401);
    expect((await reauth({ code: '000000' }, '203.0.113.2')).status).toBe(401);
    expect((await reauth({ password: 'wrong password 2' }, '203.0.113.3')).status).toBe(401);
    const throttled = await reauth({ password: user.password }, '203.0.113.4');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.ratelimit).toContain('"password-account"; r=0;');
    expect(t.audits.filter((a) => a.event === 'reauth.failed')).toHaveLength(3);
  });
});
