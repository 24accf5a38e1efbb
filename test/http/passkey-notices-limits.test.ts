import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import request from 'supertest';
import { CSRF, login } from '../support/http';
import { SmtpSink } from '../support/smtp-sink';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const ORIGIN = 'http://localhost:3000';

describe('passkey notices (real SMTP) and sign-in limits (Redis counters)', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  afterEach(async () => {
    await t.close();
  });

  it('mails the account when a passkey is added and when it is removed', async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'pglite', env: { ...sink.mailEnv, JTS_EMAIL_VERIFICATION: 'off' } });
    const device = new SoftAuthenticator(ORIGIN);
    const user = await createUser(t);
    const { bearerPass } = await login(t.app, user.email, user.password);
    const auth = { Authorization: `Bearer ${bearerPass}` };
    const options = (await request(t.app).post('/jts/passkeys/register/options').set(CSRF).set(auth).expect(200)).body as PublicKeyCredentialCreationOptionsJSON;
    const added = sink.next(user.email, 'second-factor-changed');
    const { id } = (await request(t.app).post('/jts/passkeys/register/verify').set(CSRF).set(auth).send({ credential: device.create(options) }).expect(201)).body as { id: string };
    expect((await added).parsed.subject).toBe('Passkey added — JTS Auth');
    const loginOptions = (await request(t.app).post('/jts/passkeys/login/options').set(CSRF).expect(200)).body as PublicKeyCredentialRequestOptionsJSON;
    const signedIn = await request(t.app).post('/jts/passkeys/login/verify').set(CSRF).send({ credential: device.get(loginOptions) }).expect(200);
    const removed = sink.next(user.email, 'second-factor-changed');
    await request(t.app).delete(`/jts/passkeys/${id}`).set(CSRF).set({ Authorization: `Bearer ${(signedIn.body as { bearerPass: string }).bearerPass}` }).expect(200);
    const notice = await removed;
    expect(notice.parsed.subject).toBe('Passkey removed — JTS Auth');
    expect(notice.parsed.text).toContain('A passkey was removed from your account.');
  });

  it('adds a passkey only to a verified address, as an authenticator app (review R2)', async () => {
    t = await buildTestApp({ env: { JTS_EMAIL_VERIFICATION: 'optional' } });
    const user = await createUser(t, { emailVerified: false });
    const { bearerPass } = await login(t.app, user.email, user.password);
    const res = await request(t.app).post('/jts/passkeys/register/options').set(CSRF).set({ Authorization: `Bearer ${bearerPass}` });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'email_unverified', message: 'Verify your email address before adding a second factor.', action: 'none', timestamp: expect.any(Number) as number });
  });

  it('counts passkey options and answers toward the per-address sign-in limits', async () => {
    t = await buildTestApp({ store: 'redis', env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'loopback', RATE_LIMIT_LOGIN_IP_ATTEMPTS: '3/1m' } });
    const from = (ip: string) => ({ ...CSRF, 'X-Forwarded-For': ip });
    for (let i = 0; i < 3; i++) await request(t.app).post('/jts/passkeys/login/options').set(from('203.0.113.7')).expect(200);
    const throttled = await request(t.app).post('/jts/passkeys/login/options').set(from('203.0.113.7'));
    expect(throttled.status).toBe(429);
    expect((await request(t.app).post('/jts/passkeys/login/verify').set(from('203.0.113.7')).send({})).status).toBe(429);
    // Another address is not affected.
    await request(t.app).post('/jts/passkeys/login/options').set(from('203.0.113.8')).expect(200);
  });
});
