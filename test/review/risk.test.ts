import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, knownDeviceOf } from '../support/http';
import { notMeTokenOf, SmtpSink } from '../support/smtp-sink';

const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

interface From {
  ip: string;
  ua: string;
  device?: string | undefined;
}

/** Without the `timestamp` (it differs by the millisecond). */
const shape = (res: request.Response) => ({ status: res.status, body: { ...(res.body as object), timestamp: 0 } });

describe('review: risk step-up (real SMTP, PostgreSQL, Redis)', () => {
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
      // The per-account limit is raised so that only the step-up is looked at here.
      env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example', TRUST_PROXY: '1', JTS_SIGN_IN_NOTICES: 'on', JTS_RISK_FAILED_SIGN_INS: '3/15m', RATE_LIMIT_LOGIN_ACCOUNT: '100/15m', JTS_EMAIL_VERIFICATION: 'off' },
    });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, from?: From) => {
    const req = request(t.app).post(path).set(CSRF);
    if (from) req.set('X-Forwarded-For', from.ip).set('User-Agent', from.ua);
    if (from?.device) req.set('Cookie', from.device);
    return req.send(body);
  };
  const signIn = (email: string, password: string, from: From) => post('/jts/login', { email, password }, from);

  it('answers an existing address (right or wrong password) and a missing one identically, before and after the threshold', async () => {
    const user = await createUser(t);
    const stranger = { ip: '198.51.100.77', ua: FIREFOX_WINDOWS };
    const missing = `nobody-${user.id}@example.com`;
    for (let i = 0; i < 3; i++) {
      const wrong = await signIn(user.email, 'wrong password', stranger);
      const none = await signIn(missing, 'wrong password', stranger);
      expect(shape(wrong)).toEqual(shape(none));
      expect((wrong.body as { error: string }).error).toBe('invalid_credentials');
    }
    const right = await signIn(user.email, user.password, stranger);
    const wrong = await signIn(user.email, 'wrong password', stranger);
    const none = await signIn(missing, 'wrong password', stranger);
    expect((right.body as { error: string }).error).toBe('email_code_required');
    expect(shape(right)).toEqual(shape(wrong));
    expect(shape(right)).toEqual(shape(none));
    expect(right.headers['set-cookie']).toBeUndefined();
  });

  it('counts case and whitespace variants of one address together', async () => {
    const user = await createUser(t);
    const stranger = { ip: '198.51.100.77', ua: FIREFOX_WINDOWS };
    const [local, domain] = user.email.split('@') as [string, string];
    for (const variant of [user.email.toUpperCase(), ` ${user.email} `, `${local}@${domain.toUpperCase()}`]) await signIn(variant, 'wrong password', stranger);
    expect(((await signIn(user.email, user.password, stranger)).body as { error: string }).error).toBe('email_code_required');
  });

  it('refuses a forged known-device cookie as unknown', async () => {
    const user = await createUser(t);
    for (let i = 0; i < 3; i++) await signIn(user.email, 'wrong password', { ip: '198.51.100.77', ua: FIREFOX_WINDOWS });
    const forged = `jts_known_device=${'A'.repeat(22)}.${'B'.repeat(43)}`;
    const res = await signIn(user.email, user.password, { ip: '198.51.100.77', ua: FIREFOX_WINDOWS, device: forged });
    expect((res.body as { error: string }).error).toBe('email_code_required');
  });

  // With notices on, a reported device's cookie is no longer "known" for the step-up — yet its
  // failures were not counted, so its holder guessed the owner's new password with no step-up.
  it('counts the failures of a device whose sign-in was reported as "not me"', async () => {
    const user = await createUser(t);
    const mail = sink.next(user.email, 'new-sign-in');
    const intruder = { ip: '198.51.100.77', ua: FIREFOX_WINDOWS, device: knownDeviceOf(await signIn(user.email, user.password, { ip: '198.51.100.77', ua: FIREFOX_WINDOWS })) };
    expect(intruder.device).toBeDefined();
    const { resetToken } = (await post('/jts/not-me', { token: notMeTokenOf(await mail) })).body as { resetToken: string };
    await post('/jts/password/reset', { token: resetToken, newPassword: 'owner’s new password' }).expect(200);
    for (let i = 0; i < 3; i++) expect((await signIn(user.email, `guess ${i}`, intruder)).status).toBe(401);
    const res = await signIn(user.email, 'owner’s new password', intruder);
    expect(res.status).toBe(401);
    expect((res.body as { error: string }).error).toBe('email_code_required');
  });

  it('still neither counts nor asks the owner\'s recorded device', async () => {
    const user = await createUser(t);
    const owner = { ip: '203.0.113.10', ua: CHROME_MAC, device: knownDeviceOf(await signIn(user.email, user.password, { ip: '203.0.113.10', ua: CHROME_MAC })) };
    for (let i = 0; i < 5; i++) expect((await signIn(user.email, `typo ${i}`, owner)).status).toBe(401);
    expect((await signIn(user.email, user.password, { ip: '198.51.100.77', ua: FIREFOX_WINDOWS })).status).toBe(200);
    expect((await signIn(user.email, user.password, owner)).status).toBe(200);
  });
});
