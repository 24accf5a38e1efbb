import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import type { BearerPassClaims } from '../../src/jts/bearer-pass/claims';
import { CSRF, login, stateProofFrom } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const STEP = 30_000;
const UA = { 'User-Agent': 'mfa-required-test/1.0' };
const codeAt = (secret: string, at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });
const claimsOf = (bearerPass: string) => JSON.parse(Buffer.from(bearerPass.split('.')[1] ?? '', 'base64url').toString('utf8')) as BearerPassClaims;
const refused = (error: string, message: string, action = 'none') => ({ error, message, action, timestamp: expect.any(Number) as number });

/** The admin API requires a second factor of an account (issue 18, policy), on the SQL stores accounts live in. */
describe.each(['pglite', 'postgres'] as const)('an account required to have a second factor (%s accounts, real Redis)', (accounts) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, headers: Record<string, string> = UA) => request(t.app).post(path).set(CSRF).set(headers).send(body);

  async function requiredByAdmin() {
    const admin = await createUser(t, { permissions: ['read:profile', 'admin:users'] });
    const { bearerPass } = await login(t.app, admin.email, admin.password, UA);
    const user = await createUser(t, { emailVerified: true });
    const patched = await request(t.app).patch(`/admin/users/${user.id}`).set(CSRF).set('Authorization', `Bearer ${bearerPass}`).send({ mfaRequired: true });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ user: { id: user.id, mfaRequired: true } });
    const shown = await request(t.app).get(`/admin/users/${user.id}`).set('Authorization', `Bearer ${bearerPass}`).expect(200);
    expect(shown.body).toMatchObject({ user: { mfaRequired: true } });
    expect(t.audits).toContainEqual(expect.objectContaining({ event: 'admin.action', action: 'user.update', target: user.id, outcome: 'ok', fields: ['mfaRequired'] }));
    return user;
  }

  it('a password sign-in without a factor answers mfa_enrollment_required (no session); the ticket enrols TOTP and its confirmation signs in with the recovery codes', async () => {
    const user = await requiredByAdmin();
    const first = await post('/jts/login', { email: user.email, password: user.password });
    expect(first.status).toBe(401);
    expect(stateProofFrom(first)).toBeUndefined();
    expect(first.body).toEqual({
      ...refused('mfa_enrollment_required', 'This account must set up a second factor to sign in.', 'mfa_enroll'),
      mfa_ticket: expect.any(String) as string,
      methods: ['totp'],
      expires_in: 300,
    });
    expect(t.audits).toContainEqual({ event: 'mfa.enrolment.required', prn: user.id, firstFactor: 'pwd' });
    const ticket = (first.body as { mfa_ticket: string }).mfa_ticket;

    // The ticket does not complete a sign-in by itself: /mfa/verify refuses it.
    const verify = await post('/jts/mfa/verify', { mfa_ticket: ticket, code: '123456' });
    expect(verify.body).toEqual(refused('mfa_ticket_invalid', 'This sign-in can no longer be completed; sign in again.', 'reauth'));

    const started = await post('/jts/mfa/totp', { mfa_ticket: ticket });
    expect(started.status).toBe(201);
    const { secret } = started.body as { secret: string };
    const wrong = await post('/jts/mfa/totp/confirm', { mfa_ticket: ticket, code: codeAt(secret, t.clock.now() - 10 * STEP) });
    expect(wrong.body).toEqual(refused('mfa_code_invalid', 'The code is wrong or was already used.'));
    // Another client cannot use the ticket.
    const stolen = await post('/jts/mfa/totp/confirm', { mfa_ticket: ticket, code: codeAt(secret, t.clock.now()) }, { 'User-Agent': 'thief/1.0' });
    expect(stolen.status).toBe(401);

    const done = await post('/jts/mfa/totp/confirm', { mfa_ticket: ticket, code: codeAt(secret, t.clock.now()) });
    expect(done.status).toBe(200);
    expect(stateProofFrom(done)).toBeDefined();
    const body = done.body as { bearerPass: string; recoveryCodes: string[]; tokenType: string };
    expect(body.tokenType).toBe('Bearer');
    expect(body.recoveryCodes).toHaveLength(10);
    expect(claimsOf(body.bearerPass)).toMatchObject({ prn: user.id, amr: ['pwd', 'otp', 'mfa'] });
    // Used: the ticket neither confirms again nor enrols again.
    expect((await post('/jts/mfa/totp/confirm', { mfa_ticket: ticket, code: codeAt(secret, t.clock.now() + STEP) })).status).toBe(401);

    // From now on the usual second step.
    t.clock.advance(STEP);
    const next = await post('/jts/login', { email: user.email, password: user.password });
    expect(next.body).toMatchObject({ error: 'mfa_required', action: 'mfa' });
    await post('/jts/mfa/verify', { mfa_ticket: (next.body as { mfa_ticket: string }).mfa_ticket, recoveryCode: body.recoveryCodes[0] }).expect(200);
  });

  it('without a BearerPass or a ticket, enrolling is still JTS-401-03; with a BearerPass it works as before', async () => {
    const res = await post('/jts/mfa/totp', {});
    expect(res.status).toBe(401);
    expect((res.body as { error_code: string }).error_code).toBe('JTS-401-03');
    const confirm = await post('/jts/mfa/totp/confirm', { code: '123456' });
    expect((confirm.body as { error_code: string }).error_code).toBe('JTS-401-03');
  });

  it('lifting the requirement lets a factorless account sign in with its password alone again', async () => {
    const user = await requiredByAdmin();
    await t.users.update(user.id, { mfaRequired: false }, t.clock.now());
    await login(t.app, user.email, user.password, UA);
  });
});
