import request from 'supertest';
import { KNOWN_DEVICE_HEADER } from '../../src/http/middleware/known-device';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, knownDeviceOf } from '../support/http';
import { codeOf, kindOf, notMeTokenOf, SmtpSink } from '../support/smtp-sink';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

/** Who sends a request: an address (X-Forwarded-For, TRUST_PROXY=1) and what it shows of a known device. */
interface From {
  ip: string;
  cookie?: string | undefined;
  header?: string | undefined;
}

/**
 * The lockout the per-account budgets allowed (Keycloak GHSA-cq42-vhv7-xr7p is the same pattern):
 * a stranger who knows the address spends the account's daily budget of codes and wrong codes,
 * and the owner cannot sign in with an emailed code for a day. Known devices of the account have
 * budgets of their own; the mails reaching the owner stay bounded.
 */
describe('review: a stranger cannot spend the owner’s emailed-code budgets (real SMTP, Redis)', () => {
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
      env: {
        ...sink.mailEnv,
        PUBLIC_URL: 'https://app.example',
        TRUST_PROXY: '1',
        RATE_LIMIT_ENABLED: 'true',
        JTS_EMAIL_VERIFICATION: 'off',
        JTS_RISK_FAILED_SIGN_INS: '3/15m',
        // The per-IP limits are raised (the stranger rotates addresses anyway); the per-account
        // ones are the defaults: 3 mails per 15 minutes, 10 wrong codes per day.
        RATE_LIMIT_LOGIN_IP: '1000/1m',
        RATE_LIMIT_MAIL_IP: '1000/15m',
        RATE_LIMIT_MAIL_ACCOUNT: '3/15m',
        RATE_LIMIT_CODE_ACCOUNT: '10/24h',
      },
    });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, from: From) => {
    const req = request(t.app).post(path).set(CSRF).set('X-Forwarded-For', from.ip).set('User-Agent', FIREFOX_WINDOWS);
    if (from.cookie !== undefined) req.set('Cookie', from.cookie);
    if (from.header !== undefined) req.set(KNOWN_DEVICE_HEADER, from.header);
    return req.send(body);
  };
  const stranger = (i: number): From => ({ ip: `203.0.113.${i % 250}` });
  /** Sign-in code mails the sink holds for `to` (after the background work and the SMTP hop). */
  const codeMails = async (to: string) => {
    await t.email.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    return sink.received.filter((mail) => mail.envelope.to.includes(to) && kindOf(mail) === 'sign-in-code');
  };
  const takeCodeMails = (to: string) => {
    for (let i = sink.received.length - 1; i >= 0; i--) {
      const mail = sink.received[i];
      if (mail?.envelope.to.includes(to) === true && kindOf(mail) === 'sign-in-code') sink.received.splice(i, 1);
    }
  };

  /**
   * The stranger: wrong passwords until the password route answers 429 (the risk step-up is on from
   * the third), every code mail the unknown clients may ask for, and wrong codes until 429.
   */
  async function exhaustUnknownBudgets(email: string): Promise<{ passwords: number[]; mails: number[]; codes: number[] }> {
    const passwords: number[] = [];
    for (let i = 0; i < 6; i++) passwords.push((await post('/jts/login', { email, password: `wrong ${i}` }, stranger(i))).status);
    const mails: number[] = [];
    for (let i = 0; i < 4; i++) mails.push((await post('/jts/login/code', { email }, stranger(10 + i))).status);
    const codes: number[] = [];
    // The short window (RATE_LIMIT_LOGIN_ACCOUNT's rule, 5/15m) trips first here; the long one
    // (10/24h) takes a stranger two such windows, and has a test of its own below.
    for (let i = 0; i < 12; i++) {
      const res = await post('/jts/login/code/verify', { email, code: String(100000 + i) }, stranger(20 + i));
      codes.push(res.status);
    }
    return { passwords, mails, codes };
  }

  it('after a stranger spends the unknown clients’ budgets, the owner’s known browser still gets a code and signs in with it; the stranger still gets 429', async () => {
    const owner = await createUser(t);
    const home: From = { ip: '198.51.100.10' };
    const first = await post('/jts/login', { email: owner.email, password: owner.password }, home);
    expect(first.status).toBe(200);
    home.cookie = knownDeviceOf(first);
    expect(home.cookie).toBeDefined();

    const spent = await exhaustUnknownBudgets(owner.email);
    expect(spent.passwords).toEqual([401, 401, 401, 401, 401, 429]);
    expect(spent.mails).toEqual([202, 202, 202, 429]);
    expect(spent.codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(spent.codes.slice(5)).toEqual(Array(7).fill(429));
    expect(await codeMails(owner.email)).toHaveLength(3);
    takeCodeMails(owner.email);
    // The password route was never the hole: its per-account counter is per known device already.
    expect((await post('/jts/login', { email: owner.email, password: owner.password }, home)).status).toBe(200);

    // Had the owner forgotten the password: the known browser asks for a code, mistypes it once, then signs in.
    expect((await post('/jts/login/code', { email: owner.email }, home)).status).toBe(202);
    const code = codeOf(await sink.next(owner.email));
    const typo = await post('/jts/login/code/verify', { email: owner.email, code: code === '000000' ? '000001' : '000000' }, home);
    expect(typo.status).toBe(401);
    const signedIn = await post('/jts/login/code/verify', { email: owner.email, code }, home);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({ bearerPass: expect.any(String) as string });

    // The owner's success neither resets nor refills what the stranger spent (Keycloak #49960).
    const mail = await post('/jts/login/code', { email: owner.email }, stranger(100));
    expect(mail.status).toBe(429);
    expect(mail.body).toMatchObject({ error: 'rate_limited', retry_after: expect.any(Number) as number });
    const guess = await post('/jts/login/code/verify', { email: owner.email, code: '123456' }, stranger(101));
    expect(guess.status).toBe(429);
    expect(guess.body).toMatchObject({ error: 'rate_limited', retry_after: expect.any(Number) as number });
    expect(t.audits.filter((e) => e.event === 'rate_limited').map((e) => (e as { limiter: string }).limiter)).toEqual(
      expect.arrayContaining(['login-account', 'mail-account', 'code-login-account']),
    );
    // The owner's one mail was taken above: the refused requests mailed nothing.
    expect(await codeMails(owner.email)).toHaveLength(0);
  });

  it('spends the long wrong-code budget per known device: a stranger’s ten wrong codes leave the owner’s app its own ten', async () => {
    // Only the long window is looked at here.
    await t.close();
    t = await buildTestApp({
      store: 'redis',
      env: { ...sink.mailEnv, TRUST_PROXY: '1', RATE_LIMIT_ENABLED: 'true', JTS_EMAIL_VERIFICATION: 'off', RATE_LIMIT_LOGIN_IP: '1000/1m', RATE_LIMIT_LOGIN_ACCOUNT: '1000/15m', RATE_LIMIT_CODE_ACCOUNT: '10/24h' },
    });
    const owner = await createUser(t);
    // A native app: it gets the known-device value in a response header and sends it back.
    const app: From = { ip: '198.51.100.20' };
    const first = await request(t.app).post('/jts/login').set(CSRF).set('X-Forwarded-For', app.ip).set('X-JTS-Device-ID', 'owner-phone-0001').send({ email: owner.email, password: owner.password });
    expect(first.status).toBe(200);
    app.header = first.headers[KNOWN_DEVICE_HEADER.toLowerCase()];
    expect(app.header).toBeDefined();

    const guesses: number[] = [];
    for (let i = 0; i < 11; i++) guesses.push((await post('/jts/login/code/verify', { email: owner.email, code: String(200000 + i) }, stranger(i))).status);
    expect(guesses).toEqual([...Array(10).fill(401), 429]);

    expect((await post('/jts/login/code', { email: owner.email }, app)).status).toBe(202);
    const code = codeOf(await sink.next(owner.email));
    const signedIn = await post('/jts/login/code/verify', { email: owner.email, code }, app);
    expect(signedIn.status).toBe(200);

    const refused = await post('/jts/login/code/verify', { email: owner.email, code: '123456' }, stranger(50));
    expect(refused.status).toBe(429);
    expect(refused.headers.ratelimit).toContain('"code-account"; r=0;');
  });

  it('bounds the wrong codes one account takes a day however many known-device values guess: 10 unknown, 20 known together (review M2)', async () => {
    await t.close();
    t = await buildTestApp({
      store: 'redis',
      env: { ...sink.mailEnv, TRUST_PROXY: '1', RATE_LIMIT_ENABLED: 'true', JTS_EMAIL_VERIFICATION: 'off', RATE_LIMIT_LOGIN_IP: '1000/1m', RATE_LIMIT_LOGIN_ACCOUNT: '1000/15m', RATE_LIMIT_CODE_ACCOUNT: '10/24h' },
    });
    const owner = await createUser(t);
    const holders: From[] = [];
    for (let i = 0; i < 3; i++) {
      const from: From = { ip: `198.51.100.${60 + i}` };
      from.cookie = knownDeviceOf(await post('/jts/login', { email: owner.email, password: owner.password }, from));
      holders.push(from);
    }
    const guessAll = async (from: From) => {
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await post('/jts/login/code/verify', { email: owner.email, code: String(300000 + i) }, from)).status);
      return statuses.filter((status) => status === 401).length;
    };
    const wrong = [await guessAll(stranger(1))];
    for (const from of holders) wrong.push(await guessAll(from));
    expect(wrong).toEqual([10, 10, 10, 0]);
    const refused = await post('/jts/login/code/verify', { email: owner.email, code: '123456' }, holders[2] ?? stranger(2));
    expect(refused.status).toBe(429);
    expect(refused.headers.ratelimit).toContain('"code-account-known"; r=0;');
  });

  it('bounds the code mails reaching the owner however many known-device values ask: 3 for unknown clients, 6 for the known devices together', async () => {
    const owner = await createUser(t);
    const browsers: From[] = [];
    for (let i = 0; i < 3; i++) {
      const from: From = { ip: `198.51.100.${30 + i}` };
      from.cookie = knownDeviceOf(await post('/jts/login', { email: owner.email, password: owner.password }, from));
      expect(from.cookie).toBeDefined();
      browsers.push(from);
    }
    const ask = async (from: From) => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await post('/jts/login/code', { email: owner.email }, from)).status);
      return statuses;
    };
    const statuses = [await ask(stranger(1))];
    for (const from of browsers) statuses.push(await ask(from));
    // Unknown clients share the rule's 3; each known device has 3 of its own, the known devices
    // together twice the rule: the third browser finds that spent.
    expect(statuses).toEqual([
      [202, 202, 202, 429],
      [202, 202, 202, 429],
      [202, 202, 202, 429],
      [429, 429, 429, 429],
    ]);
    expect(await codeMails(owner.email)).toHaveLength(9);
    const limiters = t.audits.filter((e) => e.event === 'rate_limited').map((e) => (e as { limiter: string }).limiter);
    expect(new Set(limiters)).toEqual(new Set(['mail-account', 'mail-account-known']));
  });

  it('gives no budget of its own to a known-device value "this wasn’t me" forgot: the reported intruder draws on the unknown clients’ budget', async () => {
    await t.close();
    t = await buildTestApp({
      store: 'redis',
      accounts: 'postgres',
      env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example', TRUST_PROXY: '1', RATE_LIMIT_ENABLED: 'true', JTS_SIGN_IN_NOTICES: 'on', JTS_EMAIL_VERIFICATION: 'off', RATE_LIMIT_MAIL_IP: '1000/15m', RATE_LIMIT_MAIL_ACCOUNT: '3/15m' },
    });
    const owner = await createUser(t);
    const home: From = { ip: '198.51.100.40' };
    home.cookie = knownDeviceOf(await post('/jts/login', { email: owner.email, password: owner.password }, home));
    // An intruder who had the password signs in, keeps the known-device cookie, and is reported.
    const intruder: From = { ip: '203.0.113.66' };
    const notice = sink.next(owner.email, 'new-sign-in');
    intruder.cookie = knownDeviceOf(await post('/jts/login', { email: owner.email, password: owner.password }, intruder));
    expect(intruder.cookie).toBeDefined();
    const reported = await post('/jts/not-me', { token: notMeTokenOf(await notice) }, home);
    expect(reported.status).toBe(200);

    const asked: number[] = [];
    for (let i = 0; i < 4; i++) asked.push((await post('/jts/login/code', { email: owner.email }, intruder)).status);
    expect(asked).toEqual([202, 202, 202, 429]);
    // The same budget as any stranger's.
    expect((await post('/jts/login/code', { email: owner.email }, stranger(7))).status).toBe(429);
    expect(await codeMails(owner.email)).toHaveLength(3);
    takeCodeMails(owner.email);

    // The owner sets a new password with the reset token, signs in at home again (the device is
    // recorded anew), and that browser has its own budget once more.
    const { resetToken } = reported.body as { resetToken: string };
    expect((await post('/jts/password/reset', { token: resetToken, newPassword: 'the owner’s new password' }, home)).status).toBe(200);
    const again = await post('/jts/login', { email: owner.email, password: 'the owner’s new password' }, home);
    expect(again.status).toBe(200);
    home.cookie = knownDeviceOf(again) ?? home.cookie;
    await t.email.idle();
    expect((await post('/jts/login/code', { email: owner.email }, home)).status).toBe(202);
    expect(codeOf(await sink.next(owner.email))).toMatch(/^\d{6}$/);
  });
});
