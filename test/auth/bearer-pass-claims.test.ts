import request from 'supertest';
import { seconds } from '../../src/jts/clock';
import { redisKeys } from '../../src/sessions/redis-keys';
import { buildTestApp, createUser, type StoreKind, type TestApp } from '../support/test-app';
import { CSRF, login, profile, renew, renewOk, stateProofFrom } from '../support/http';
import { codeOf, SmtpSink } from '../support/smtp-sink';

/** The claims of a BearerPass, as any service reads them (the signature is checked elsewhere). */
function claimsOf(bearerPass: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(bearerPass.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The sign-in claims of issues 17/18: how and when the user signed in, and the address's state. */
const signInClaims = (bearerPass: string) => {
  const { amr, auth_time, email_verified, atm, ath } = claimsOf(bearerPass);
  return { amr, auth_time, email_verified, atm, ath };
};

describe.each<StoreKind>(['memory', 'redis'])('BearerPass sign-in claims (%s store)', (store) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store });
  });
  afterEach(async () => {
    await t.close();
  });

  it('carries amr pwd, auth_time of the sign-in and email_verified, identical after 3 renewals as the clock moves', async () => {
    const user = await createUser(t);
    const signedInAt = seconds(t.clock.now());
    let credentials = await login(t.app, user.email, user.password);
    const first = signInClaims(credentials.bearerPass);
    expect(first).toEqual({ amr: ['pwd'], auth_time: signedInAt, email_verified: false, atm: 'pwd', ath: signedInAt });
    for (let i = 0; i < 3; i++) {
      t.clock.advance(120_000);
      credentials = await renewOk(t.app, credentials.stateProof);
      expect(signInClaims(credentials.bearerPass)).toEqual(first);
      expect(claimsOf(credentials.bearerPass).iat).toBe(seconds(t.clock.now()));
    }
  });

  it('shows a verification made while the session lives at its next renewal', async () => {
    const user = await createUser(t);
    let credentials = await login(t.app, user.email, user.password);
    credentials = await renewOk(t.app, credentials.stateProof);
    expect(claimsOf(credentials.bearerPass).email_verified).toBe(false);
    // What POST /jts/email/verify does once the link checks out.
    await t.users.update(user.id, { emailVerified: true }, t.clock.now());
    credentials = await renewOk(t.app, credentials.stateProof);
    expect(signInClaims(credentials.bearerPass)).toMatchObject({ amr: ['pwd'], email_verified: true });
    credentials = await renewOk(t.app, credentials.stateProof);
    expect(claimsOf(credentials.bearerPass).email_verified).toBe(true);
  });

  // Review F2: a sign-in with the old password that raced a password change and slipped past its
  // revokeAll calls. Simulated by moving the mirror to the next epoch without revoking anything.
  it('refuses renewal and verification of a session signed in under an older credential epoch', async () => {
    const user = await createUser(t);
    const credentials = await login(t.app, user.email, user.password);
    expect((await profile(t.app, credentials.bearerPass)).status).toBe(200);
    await t.sessions.putUser(user.id, { disabled: false, permissions: ['read:profile'], credentialEpoch: 1, version: 2, emailVerified: false });
    const verified = await profile(t.app, credentials.bearerPass);
    expect(verified.status).toBe(401);
    expect(verified.body).toMatchObject({ error: 'session_terminated', error_code: 'JTS-401-04', action: 'reauth' });
    const renewed = await renew(t.app, credentials.stateProof);
    expect(renewed.status).toBe(401);
    expect(renewed.body).toMatchObject({ error_code: 'JTS-401-04', message: 'The password changed after this session signed in.' });
    expect(t.audits).toContainEqual({ event: 'renew.rejected', reason: 'credentials_changed', prn: user.id, aid: expect.any(String) as string });
    // The refusal deleted the session: it is simply gone now.
    expect((await renew(t.app, credentials.stateProof)).body).toMatchObject({ error_code: 'JTS-401-04', message: 'The session has ended.' });
    expect((await profile(t.app, credentials.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-04' });
  });

  it('refuses such a session on the path that reads the store too (no remembered renewal facts)', async () => {
    const cold = await buildTestApp({ store, renewFactsCapacity: 0 });
    try {
      const user = await createUser(cold);
      const credentials = await login(cold.app, user.email, user.password);
      await cold.sessions.putUser(user.id, { disabled: false, permissions: ['read:profile'], credentialEpoch: 1, version: 2, emailVerified: false });
      expect((await renew(cold.app, credentials.stateProof)).body).toMatchObject({ error_code: 'JTS-401-04', message: 'The password changed after this session signed in.' });
    } finally {
      await cold.close();
    }
  });

  it('keeps the session that changed the password renewing, under the new epoch, and ends the others', async () => {
    const user = await createUser(t);
    const current = await login(t.app, user.email, user.password);
    const other = await login(t.app, user.email, user.password);
    const res = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${current.bearerPass}`).send({ currentPassword: user.password, newPassword: 'a brand new password' });
    expect(res.body).toEqual({ success: true, revokedSessions: 1 });
    const renewed = await renewOk(t.app, current.stateProof);
    expect(signInClaims(renewed.bearerPass)).toMatchObject({ amr: ['pwd'] });
    await renewOk(t.app, renewed.stateProof);
    expect((await renew(t.app, other.stateProof)).status).toBe(401);
  });
});

describe('BearerPass sign-in claims of a session stored by the previous build (redis)', () => {
  let t: TestApp;
  beforeEach(async () => {
    // No remembered renewal facts: as after the deploy that replaced the previous build's process.
    t = await buildTestApp({ store: 'redis', renewFactsCapacity: 0 });
  });
  afterEach(async () => {
    await t.close();
  });

  it('renews without amr (no guess), with auth_time from the sign-in, and is not refused by a later epoch', async () => {
    const user = await createUser(t);
    const signedInAt = seconds(t.clock.now());
    const credentials = await login(t.app, user.email, user.password);
    // The previous create-2.lua wrote every field but am and ep: removing them leaves exactly its hash.
    const keys = redisKeys(t.config.redis.keyPrefix);
    const aid = String(claimsOf(credentials.bearerPass).aid);
    await t.redis!.hdel(keys.session(user.id, aid), 'am', 'ep');
    // Its mirror had no ev either; and the user's epoch has moved on since (an earlier password change).
    await t.redis!.hdel(keys.userMirror(user.id), 'ev');
    await t.redis!.hset(keys.userMirror(user.id), 'epoch', '3');
    t.clock.advance(60_000);
    const renewed = await renewOk(t.app, credentials.stateProof);
    const claims = signInClaims(renewed.bearerPass);
    expect(claims).toEqual({ amr: undefined, auth_time: signedInAt, email_verified: false, atm: 'pwd', ath: signedInAt });
    expect((await profile(t.app, renewed.bearerPass)).status).toBe(200);
  });
});

describe('BearerPass sign-in claims after a sign-in by emailed code (redis, real SMTP)', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example' } });
  });
  afterEach(async () => {
    await t.close();
  });

  async function signInByCode(email: string) {
    const mail = sink.next(email);
    await request(t.app).post('/jts/login/code').set(CSRF).send({ email }).expect(202);
    const code = codeOf(await mail);
    const res = await request(t.app).post('/jts/login/code/verify').set(CSRF).send({ email, code });
    expect(res.status).toBe(200);
    return { bearerPass: (res.body as { bearerPass: string }).bearerPass, stateProof: stateProofFrom(res) ?? '' };
  }

  it('says otp, and the address the code proved as verified, before and after renewals', async () => {
    const user = await createUser(t, { emailVerified: true });
    const signedInAt = seconds(t.clock.now());
    const signedIn = await signInByCode(user.email);
    expect(signInClaims(signedIn.bearerPass)).toEqual({ amr: ['otp'], auth_time: signedInAt, email_verified: true, atm: 'pwd', ath: signedInAt });
    let { stateProof } = signedIn;
    for (let i = 0; i < 3; i++) {
      t.clock.advance(60_000);
      const renewed = await renewOk(t.app, stateProof);
      expect(signInClaims(renewed.bearerPass)).toEqual({ amr: ['otp'], auth_time: signedInAt, email_verified: true, atm: 'pwd', ath: signedInAt });
      stateProof = renewed.stateProof;
    }
  });

  it('opens the session of an unverified account’s first code sign-in under the epoch that sign-in moved to, so it renews', async () => {
    // The first mailbox proof replaces the unproven password (an epoch bump) before the session opens.
    const user = await createUser(t);
    const signedIn = await signInByCode(user.email);
    expect(signInClaims(signedIn.bearerPass)).toMatchObject({ amr: ['otp'], email_verified: true });
    const renewed = await renewOk(t.app, signedIn.stateProof);
    expect(signInClaims(renewed.bearerPass)).toMatchObject({ amr: ['otp'], email_verified: true });
    expect((await profile(t.app, renewed.bearerPass)).status).toBe(200);
  });
});
