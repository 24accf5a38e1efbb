import { Secret, TOTP } from 'otpauth';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import request from 'supertest';
import { CSRF, login } from '../support/http';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const STEP = 30_000;
const ORIGIN = 'http://localhost:3000';
const OWNER = { 'User-Agent': 'owner-browser/1.0' };
const THIEF = { 'User-Agent': 'thief/1.0' };
const codeAt = (secret: string, at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });

/**
 * Review finding: an `enrol` ticket (mfa_enrollment_required) is judged only at issue time. When the
 * account gains a passkey while the ticket is live, whoever holds only the password still enrols
 * an authenticator app of their own with the ticket and signs in with amr pwd,otp,mfa: the passkey,
 * now the account's second factor, is skipped, and the thief's TOTP stays on the account.
 */
describe.each(['pglite', 'postgres'] as const)('an enrolment ticket after the account gained a passkey (%s accounts, real Redis)', (accounts) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, headers: Record<string, string>) => request(t.app).post(path).set(CSRF).set(headers).send(body);

  it('the ticket issued before the passkey was added does not enrol a second authenticator nor open a session', async () => {
    const user = await createUser(t, { emailVerified: true });
    const owner = await login(t.app, user.email, user.password, OWNER);
    await t.users.update(user.id, { mfaRequired: true }, t.clock.now());

    const stopped = await post('/jts/login', { email: user.email, password: user.password }, THIEF);
    expect(stopped.body).toMatchObject({ error: 'mfa_enrollment_required' });
    const ticket = (stopped.body as { mfa_ticket: string }).mfa_ticket;

    const device = new SoftAuthenticator(ORIGIN);
    const bearer = { ...OWNER, Authorization: `Bearer ${owner.bearerPass}` };
    const options = (await post('/jts/passkeys/register/options', {}, bearer).expect(200)).body as PublicKeyCredentialCreationOptionsJSON;
    await post('/jts/passkeys/register/verify', { credential: device.create(options), name: 'Laptop' }, bearer).expect(201);

    const started = await post('/jts/mfa/totp', { mfa_ticket: ticket }, THIEF);
    const { secret } = started.body as { secret?: string };
    const confirmed = secret === undefined ? undefined : await post('/jts/mfa/totp/confirm', { mfa_ticket: ticket, code: codeAt(secret, t.clock.now()) }, THIEF);
    // The account has a second factor now: the enrolment ticket must be void (mfa_ticket_invalid).
    expect({ start: started.status, confirm: confirmed?.status, body: confirmed?.body as unknown }).toEqual({ start: 401, confirm: undefined, body: undefined });
  });
});
