import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, renew } from '../support/http';
import { notMeTokenOf, SmtpSink, tokenOf } from '../support/smtp-sink';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

/**
 * Review of issue 21: a "this wasn't me" token outlives a password change (by design: a thief must
 * not disarm it), but its answer used to carry a reset token — so an old notice mail became a way
 * to set the password even after the owner had reset it, which a reset link never is.
 */
describe('review: "this wasn\'t me" after the owner changed the password (real SMTP, PostgreSQL, Redis)', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    t = await buildTestApp({
      store: 'redis',
      accounts: 'postgres',
      env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example', TRUST_PROXY: '1', JTS_SIGN_IN_NOTICES: 'on', JTS_EMAIL_VERIFICATION: 'off' },
    });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object) => request(t.app).post(path).set(CSRF).send(body);

  async function noticeToken(user: { email: string; password: string }): Promise<string> {
    const mail = sink.next(user.email, 'new-sign-in');
    await request(t.app).post('/jts/login').set(CSRF).set('X-Forwarded-For', '198.51.100.77').set('User-Agent', FIREFOX_WINDOWS).send({ email: user.email, password: user.password }).expect(200);
    return notMeTokenOf(await mail);
  }

  it('an old notice link used after the owner reset the password ends the sessions but hands out no reset token', async () => {
    const user = await createUser(t);
    // A notice the owner got (and someone who read the mailbox kept).
    const stale = await noticeToken(user);

    // The owner resets the password through "forgot password".
    const resetMail = sink.next(user.email);
    await post('/jts/password/forgot', { email: user.email }).expect(202);
    const resetToken = tokenOf(await resetMail, 'reset');
    await post('/jts/password/reset', { token: resetToken, newPassword: 'the owner’s new password' }).expect(200);
    const owner = await login(t.app, user.email, 'the owner’s new password');

    const res = await post('/jts/not-me', { token: stale });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, revokedSessions: 1 });
    expect((res.body as { resetToken?: string }).resetToken).toBeUndefined();
    // The kill switch still works: the session ended and the password is void…
    expect((await renew(t.app, owner.stateProof)).status).toBe(401);
    expect((await post('/jts/login', { email: user.email, password: 'the owner’s new password' })).status).toBe(401);
    // …and the owner gets back in through "forgot password", which needs the mailbox now.
    const again = sink.next(user.email);
    await post('/jts/password/forgot', { email: user.email }).expect(202);
    await post('/jts/password/reset', { token: tokenOf(await again, 'reset'), newPassword: 'another new password' }).expect(200);
    await login(t.app, user.email, 'another new password');
  });

  it('a fresh notice link (no password change since) still answers a reset token', async () => {
    const user = await createUser(t);
    const token = await noticeToken(user);
    const res = await post('/jts/not-me', { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, resetToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string });
  });
});
