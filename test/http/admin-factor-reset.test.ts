import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import request from 'supertest';
import { CSRF, login, type Credentials } from '../support/http';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const ORIGIN = 'http://localhost:3000';
const UA = { 'User-Agent': 'factor-reset-test/1.0' };

/** DELETE /admin/users/:id/factors: the way back in for an account whose only factor is lost. */
describe('an administrator resets a user’s second factors (Redis sessions, PostgreSQL accounts)', () => {
  let t: TestApp;
  let adminCreds: Credentials;

  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { JTS_EMAIL_VERIFICATION: 'off' } });
    const admin = await createUser(t, { permissions: ['read:profile', 'admin:users'] });
    adminCreds = await login(t.app, admin.email, admin.password);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, bearerPass?: string) => request(t.app).post(path).set(CSRF).set(UA).set(bearerPass === undefined ? {} : { Authorization: `Bearer ${bearerPass}` }).send(body);
  const reset = (id: string, creds: Credentials) => request(t.app).delete(`/admin/users/${id}/factors`).set(CSRF).set('Authorization', `Bearer ${creds.bearerPass}`);

  it('removes a lost passkey so that the password signs in again; audited; needs admin:users', async () => {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    const device = new SoftAuthenticator(ORIGIN);
    const options = (await post('/jts/passkeys/register/options', {}, session.bearerPass)).body as PublicKeyCredentialCreationOptionsJSON;
    expect((await post('/jts/passkeys/register/verify', { credential: device.create(options) }, session.bearerPass)).status).toBe(201);
    // The device is lost: the password alone no longer signs in.
    const stuck = await post('/jts/login', { email: user.email, password: user.password });
    expect(stuck.status).toBe(401);
    expect(stuck.body).toMatchObject({ error: 'mfa_required', methods: ['webauthn'] });

    const notAdmin = await reset(user.id, session);
    expect(notAdmin.status).toBe(403);
    const done = await reset(user.id, adminCreds);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ success: true, removed: { totp: false, passkeys: 1 } });
    expect((await post('/jts/login', { email: user.email, password: user.password })).status).toBe(200);
    expect(t.audits).toContainEqual(expect.objectContaining({ event: 'admin.action', action: 'factors.reset', target: user.id, outcome: 'ok' }));
    expect(t.audits).toContainEqual(expect.objectContaining({ event: 'passkey.removed', prn: user.id }));

    const again = await reset(user.id, adminCreds);
    expect(again.body).toEqual({ success: true, removed: { totp: false, passkeys: 0 } });
    expect((await reset('no-such-user', adminCreds)).status).toBe(404);
  });
});
