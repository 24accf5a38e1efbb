import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import type { BearerPassClaims } from '../../src/jts/bearer-pass/claims';
import { CSRF, login, renewOk, stateProofFrom } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const STEP = 30_000;
const UA = { 'User-Agent': 'mfa-policy-test/1.0' };
const claimsOf = (bearerPass: string) => JSON.parse(Buffer.from(bearerPass.split('.')[1] ?? '', 'base64url').toString('utf8')) as BearerPassClaims;
const codeAt = (secret: string, at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });

describe('JTS_MFA_REQUIRED_FOR: permissions held only after a second factor (real Redis)', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  async function start(env: Record<string, string>, renewFactsCapacity?: number) {
    t = await buildTestApp({ store: 'redis', env, ...(renewFactsCapacity === undefined ? {} : { renewFactsCapacity }) });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  }
  const post = (path: string, body: object, headers: Record<string, string> = UA) => request(t.app).post(path).set(CSRF).set(headers).send(body);
  const bearer = (bearerPass: string) => ({ ...UA, Authorization: `Bearer ${bearerPass}` });
  const admin = (bearerPass: string) => request(t.app).get('/api/admin').set(bearer(bearerPass));

  /** An administrator with a confirmed authenticator; the clock is past the confirmation's step. */
  async function adminWithTotp() {
    const user = await createUser(t, { emailVerified: true, permissions: ['read:profile', 'admin:access'] });
    const session = await login(t.app, user.email, user.password, UA);
    const started = await post('/jts/mfa/totp', {}, bearer(session.bearerPass));
    expect(started.status).toBe(201);
    const { secret } = started.body as { secret: string };
    await post('/jts/mfa/totp/confirm', { code: codeAt(secret, t.clock.now()) }, bearer(session.bearerPass)).expect(200);
    t.clock.advance(STEP);
    return { user, secret, passwordSession: session };
  }

  it.each([
    ['remembered renewal facts', undefined],
    ['renewal facts read from the store', 0],
  ])('a password-only BearerPass lacks admin:access (/api/admin 403); after TOTP it has it, through renewals (%s)', async (_name, capacity) => {
    await start({ JTS_MFA_REQUIRED_FOR: 'admin:access' }, capacity);
    const { user, secret, passwordSession } = await adminWithTotp();

    // The session opened before enrolment: amr ['pwd'], so no admin:access, in this BearerPass and its renewals.
    expect(claimsOf(passwordSession.bearerPass)).toMatchObject({ amr: ['pwd'], perm: ['read:profile'] });
    const refused = await admin(passwordSession.bearerPass);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'permission_denied', error_code: 'JTS-403-02', message: 'Missing permission: admin:access.', action: 'none', timestamp: expect.any(Number) as number });
    const renewedPassword = await renewOk(t.app, passwordSession.stateProof);
    expect(claimsOf(renewedPassword.bearerPass).perm).toEqual(['read:profile']);
    expect((await admin(renewedPassword.bearerPass)).status).toBe(403);

    // Signed in with password and code: amr holds mfa, the permission is there, and renewals keep it.
    const first = await post('/jts/login', { email: user.email, password: user.password });
    expect(first.status).toBe(401);
    const done = await post('/jts/mfa/verify', { mfa_ticket: (first.body as { mfa_ticket: string }).mfa_ticket, code: codeAt(secret, t.clock.now()) });
    expect(done.status).toBe(200);
    const bearerPass = (done.body as { bearerPass: string }).bearerPass;
    expect(claimsOf(bearerPass)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], perm: ['read:profile', 'admin:access'] });
    await admin(bearerPass).expect(200);
    let stateProof = stateProofFrom(done) ?? '';
    for (let i = 0; i < 2; i += 1) {
      t.clock.advance(60_000);
      const renewed = await renewOk(t.app, stateProof);
      expect(claimsOf(renewed.bearerPass)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], perm: ['read:profile', 'admin:access'] });
      await admin(renewed.bearerPass).expect(200);
      stateProof = renewed.stateProof;
    }
  });

  it('a recovery code is a second factor too: its sign-in carries the gated permission', async () => {
    await start({ JTS_MFA_REQUIRED_FOR: 'admin:access' });
    const user = await createUser(t, { emailVerified: true, permissions: ['admin:access'] });
    const session = await login(t.app, user.email, user.password, UA);
    const { secret } = (await post('/jts/mfa/totp', {}, bearer(session.bearerPass))).body as { secret: string };
    const confirmed = await post('/jts/mfa/totp/confirm', { code: codeAt(secret, t.clock.now()) }, bearer(session.bearerPass));
    const [recoveryCode = ''] = (confirmed.body as { recoveryCodes: string[] }).recoveryCodes;
    const first = await post('/jts/login', { email: user.email, password: user.password });
    const done = await post('/jts/mfa/verify', { mfa_ticket: (first.body as { mfa_ticket: string }).mfa_ticket, recoveryCode });
    expect(done.status).toBe(200);
    const claims = claimsOf((done.body as { bearerPass: string }).bearerPass);
    expect(claims.amr).toContain('mfa');
    expect(claims.perm).toEqual(['admin:access']);
  });

  it('without JTS_MFA_REQUIRED_FOR a password-only sign-in keeps every permission', async () => {
    await start({});
    const user = await createUser(t, { emailVerified: true, permissions: ['read:profile', 'admin:access'] });
    const session = await login(t.app, user.email, user.password, UA);
    expect(claimsOf(session.bearerPass)).toMatchObject({ amr: ['pwd'], perm: ['read:profile', 'admin:access'] });
    await admin(session.bearerPass).expect(200);
  });

  it('reads a comma list with spaces, gating each permission named and no other', async () => {
    await start({ JTS_MFA_REQUIRED_FOR: ' admin:access , admin:users ' });
    expect(t.config.mfa.requiredFor).toEqual(['admin:access', 'admin:users']);
    const user = await createUser(t, { emailVerified: true, permissions: ['read:profile', 'admin:users', 'admin:access', 'orders:write'] });
    const session = await login(t.app, user.email, user.password, UA);
    expect(claimsOf(session.bearerPass).perm).toEqual(['read:profile', 'orders:write']);
  });
});
