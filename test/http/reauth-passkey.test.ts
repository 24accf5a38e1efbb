import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import request from 'supertest';
import { CSRF, login, renewOk, type Credentials } from '../support/http';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const ORIGIN = 'http://localhost:3000';
const UA = { 'User-Agent': 'reauth-passkey-test/1.0' };
const refused = (error: string, message: string, action = 'none') => ({ error, message, action, timestamp: expect.any(Number) as number });
const STALE = refused('passkey_challenge_invalid', 'This passkey request is unknown, used or expired; start again.');

function claimsOf(bearerPass: string): { amr?: string[]; auth_time?: number; aid: string } {
  return JSON.parse(Buffer.from(bearerPass.split('.')[1] ?? '', 'base64url').toString('utf8')) as { amr?: string[]; auth_time?: number; aid: string };
}

/** POST /jts/reauth with a passkey: options bound to the session, the assertion as `webauthn`. */
describe('a step-up with a passkey (Redis sessions, PGlite accounts)', () => {
  let t: TestApp;
  let device: SoftAuthenticator;

  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'pglite', env: { JTS_EMAIL_VERIFICATION: 'off' } });
    device = new SoftAuthenticator(ORIGIN);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, bearerPass?: string) => request(t.app).post(path).set(CSRF).set(UA).set(bearerPass === undefined ? {} : { Authorization: `Bearer ${bearerPass}` }).send(body);
  const options = async (session: Credentials) => {
    const res = await post('/jts/reauth/webauthn/options', {}, session.bearerPass);
    expect(res.status).toBe(200);
    return res.body as PublicKeyCredentialRequestOptionsJSON;
  };

  /** A user signed in with the password (fresh), holding one passkey on `device`. */
  async function withPasskey(): Promise<{ session: Credentials; user: Awaited<ReturnType<typeof createUser>> }> {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    const registration = (await post('/jts/passkeys/register/options', {}, session.bearerPass)).body as PublicKeyCredentialCreationOptionsJSON;
    expect((await post('/jts/passkeys/register/verify', { credential: device.create(registration) }, session.bearerPass)).status).toBe(201);
    return { session, user };
  }

  it('moves auth_time on the same session, claims the passkey on top of the password, and renewals keep it', async () => {
    const { session } = await withPasskey();
    const before = claimsOf(session.bearerPass);
    t.clock.advance(200_000);
    const res = await post('/jts/reauth', { webauthn: device.get(await options(session)) }, session.bearerPass);
    expect(res.status).toBe(200);
    const after = claimsOf((res.body as { bearerPass: string }).bearerPass);
    expect(after).toMatchObject({ aid: before.aid, amr: ['pwd', 'swk', 'user', 'mfa'], auth_time: Math.floor(t.clock.now() / 1000) });
    expect(after.auth_time).toBeGreaterThan(before.auth_time ?? Infinity);
    expect(res.headers['set-cookie']).toBeUndefined();
    const renewed = await renewOk(t.app, session.stateProof);
    expect(claimsOf(renewed.bearerPass)).toMatchObject({ amr: ['pwd', 'swk', 'user', 'mfa'], auth_time: after.auth_time });
    expect(t.audits).toContainEqual({ event: 'reauth.succeeded', prn: expect.any(String), aid: before.aid, method: 'webauthn', amr: ['pwd', 'swk', 'user', 'mfa'] });
  });

  it('refuses a challenge of another session or one used already, and has no options for an account without a passkey', async () => {
    const { session } = await withPasskey();
    // Another session of the same account: a passwordless sign-in.
    const signIn = await post('/jts/passkeys/login/verify', { credential: device.get((await post('/jts/passkeys/login/options', {})).body as PublicKeyCredentialRequestOptionsJSON) });
    expect(signIn.status).toBe(200);
    const foreign = await options({ bearerPass: (signIn.body as { bearerPass: string }).bearerPass, stateProof: '' });
    const crossed = await post('/jts/reauth', { webauthn: device.get(foreign) }, session.bearerPass);
    expect(crossed.status).toBe(400);
    expect(crossed.body).toEqual(STALE);
    const assertion = device.get(await options(session));
    expect((await post('/jts/reauth', { webauthn: assertion }, session.bearerPass)).status).toBe(200);
    const again = await post('/jts/reauth', { webauthn: assertion }, session.bearerPass);
    expect(again.status).toBe(400);
    expect(again.body).toEqual(STALE);
    expect(t.audits.filter((a) => a.event === 'reauth.failed').map((a) => (a as { reason: string }).reason)).toEqual(['wrong_code', 'wrong_code']);

    const plain = await createUser(t);
    const plainSession = await login(t.app, plain.email, plain.password, UA);
    const none = await post('/jts/reauth/webauthn/options', {}, plainSession.bearerPass);
    expect(none.status).toBe(404);
    expect(none.body).toEqual(refused('not_found', 'No such passkey.'));
  });
});
