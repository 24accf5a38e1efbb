import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, knownDeviceOf, login, renew, stateProofFrom } from '../support/http';
import { codeOf, kindOf, notMeTokenOf, SmtpSink, type ReceivedMail } from '../support/smtp-sink';
import { pollAll, revocationsOf, subscriberClient } from '../events/support';

const DAY = 86_400_000;
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';
const HOME = '203.0.113.10';
const ELSEWHERE = '198.51.100.77';

/** The error body of a refused request, exactly. */
const refused = (error: string, message: string) => ({ error, message, action: 'none', timestamp: expect.any(Number) as number });

/** Where a request comes from: address (TRUST_PROXY=1 reads X-Forwarded-For), browser, and a known-device cookie. */
interface From {
  ip: string;
  ua: string;
  device?: string | undefined;
}

describe('new sign-in notices, "this wasn\'t me" and the risk step-up (real SMTP, PostgreSQL, Redis)', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let thresholds: string[];

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    thresholds = [];
    t = await buildTestApp({
      store: 'redis',
      accounts: 'postgres',
      env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example', TRUST_PROXY: '1', JTS_SIGN_IN_NOTICES: 'on', JTS_RISK_FAILED_SIGN_INS: '3/15m' },
      onFailureThreshold: (prn) => thresholds.push(prn),
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

  /** Every new-sign-in mail to `to` so far, once the background work is done. */
  async function noticesTo(to: string): Promise<ReceivedMail[]> {
    await t.email.idle();
    // A last look after the SMTP round trip of anything sent just now.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return sink.received.filter((mail) => mail.envelope.to.includes(to) && kindOf(mail) === 'new-sign-in');
  }

  describe('the notice', () => {
    it('mails nothing for the first sign-in after registration, nor for the device that registered', async () => {
      const email = `reg${Date.now()}@example.com`;
      const from = { ip: HOME, ua: CHROME_MAC };
      expect((await post('/jts/register', { email, password: 'correct horse battery', name: 'Reg' }, from)).status).toBe(201);
      await t.email.idle();
      const first = await signIn(email, 'correct horse battery', from);
      expect(first.status).toBe(200);
      await t.email.idle();
      // Now with the known-device cookie the first login set: still the same device.
      expect((await signIn(email, 'correct horse battery', { ...from, device: knownDeviceOf(first) })).status).toBe(200);
      expect(await noticesTo(email)).toEqual([]);
    });

    it('mails the device, the masked network, the time in UTC and a "this wasn\'t me" link for a new device; no full address', async () => {
      const user = await createUser(t, { name: 'Ada' });
      await signIn(user.email, user.password, { ip: HOME, ua: CHROME_MAC });
      expect((await sink.next(user.email, 'new-sign-in')).parsed.text).toContain('Device: Chrome on macOS');
      const mail = sink.next(user.email, 'new-sign-in');
      expect((await signIn(user.email, user.password, { ip: ELSEWHERE, ua: FIREFOX_WINDOWS })).status).toBe(200);
      const notice = await mail;
      const at = new Date(t.clock.now()).toISOString();
      expect(notice.parsed.subject).toBe('New sign-in to your account — JTS Auth');
      expect(notice.parsed.text).toContain('Device: Firefox on Windows');
      expect(notice.parsed.text).toContain('Network: 198.51.100.x');
      expect(notice.parsed.text).toContain(`Time: ${at.slice(0, 10)} ${at.slice(11, 16)} UTC`);
      expect(notice.parsed.text).toMatch(/https:\/\/app\.example\/#not-me=[A-Za-z0-9_-]{43}\n/);
      expect(notice.parsed.html).toContain('href="https://app.example/#not-me=');
      expect(notice.raw).not.toContain(ELSEWHERE);
      expect(notice.raw).not.toContain('Gecko');
      expect(t.audits).toContainEqual({ event: 'sign_in.new_device', prn: user.id });
    });

    it('masks an IPv6 network to its /48', async () => {
      const user = await createUser(t);
      const mail = sink.next(user.email, 'new-sign-in');
      await signIn(user.email, user.password, { ip: '2001:db8:abcd:12::1', ua: CHROME_MAC });
      const notice = await mail;
      expect(notice.parsed.text).toContain('Network: 2001:db8:abcd::/48');
      expect(notice.raw).not.toContain('2001:db8:abcd:12');
    });

    it('mails nothing for a known device, even from another network; but a cookie-less browser elsewhere is new', async () => {
      const user = await createUser(t);
      const first = await signIn(user.email, user.password, { ip: HOME, ua: CHROME_MAC });
      await sink.next(user.email, 'new-sign-in');
      const device = knownDeviceOf(first);
      expect(device).toBeDefined();
      // The second sign-in records the cookie's device (the first one's response only set it).
      expect((await signIn(user.email, user.password, { ip: HOME, ua: CHROME_MAC, device })).status).toBe(200);
      expect((await signIn(user.email, user.password, { ip: ELSEWHERE, ua: CHROME_MAC, device })).status).toBe(200);
      expect(await noticesTo(user.email)).toEqual([]);
      expect((await signIn(user.email, user.password, { ip: ELSEWHERE, ua: FIREFOX_WINDOWS })).status).toBe(200);
      expect(await noticesTo(user.email)).toHaveLength(1);
    });

    it('counts a device as new again after the window (90 days)', async () => {
      const user = await createUser(t);
      const from = { ip: HOME, ua: CHROME_MAC };
      await signIn(user.email, user.password, from);
      await sink.next(user.email, 'new-sign-in');
      t.clock.advance(89 * DAY);
      await signIn(user.email, user.password, from);
      expect(await noticesTo(user.email)).toEqual([]);
      t.clock.advance(91 * DAY);
      await signIn(user.email, user.password, from);
      expect(await noticesTo(user.email)).toHaveLength(1);
    });

    it('notices the emailed-code sign-in from a new device too', async () => {
      const user = await createUser(t);
      const codeMail = sink.next(user.email);
      expect((await post('/jts/login/code', { email: user.email }, { ip: ELSEWHERE, ua: FIREFOX_WINDOWS })).status).toBe(202);
      const code = codeOf(await codeMail);
      const notice = sink.next(user.email, 'new-sign-in');
      expect((await post('/jts/login/code/verify', { email: user.email, code }, { ip: ELSEWHERE, ua: FIREFOX_WINDOWS })).status).toBe(200);
      expect((await notice).parsed.text).toContain('Network: 198.51.100.x');
    });

    it('never fails or delays a sign-in when the notice cannot be recorded', async () => {
      const user = await createUser(t);
      await t.database?.db.schema.dropTable('sign_in_devices').cascade().execute();
      const res = await signIn(user.email, user.password, { ip: HOME, ua: CHROME_MAC });
      expect(res.status).toBe(200);
      await t.email.idle();
      expect(t.logLines.join('')).toMatch(/email work failed in the background/);
      expect(await noticesTo(user.email)).toEqual([]);
    });
  });

  describe('"this wasn\'t me"', () => {
    async function noticeToken(user: { email: string; password: string }): Promise<{ token: string; sessions: string[] }> {
      const mail = sink.next(user.email, 'new-sign-in');
      const a = await signIn(user.email, user.password, { ip: ELSEWHERE, ua: FIREFOX_WINDOWS });
      const token = notMeTokenOf(await mail);
      const b = await login(t.app, user.email, user.password);
      return { token, sessions: [stateProofFrom(a) ?? '', b.stateProof] };
    }

    it('ends every session (published as revocations), voids the password and answers a reset token', async () => {
      const user = await createUser(t);
      const auth = await subscriberClient(t);
      const { token, sessions } = await noticeToken(user);
      const before = await pollAll(t, auth);

      const res = await post('/jts/not-me', { token });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ success: true, revokedSessions: 2, resetToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string, expiresIn: 1800 });
      for (const stateProof of sessions) expect((await renew(t.app, stateProof)).status).toBe(401);
      const published = await revocationsOf(t, (await pollAll(t, auth)).slice(before.length), user.id);
      expect(published.map((event) => event.aid).sort()).toEqual(sessions.map((sp) => sp.split('.')[2]).sort());
      // The stolen password no longer signs in; the reset token sets the owner's new one.
      expect((await post('/jts/login', { email: user.email, password: user.password })).status).toBe(401);
      const { resetToken } = res.body as { resetToken: string };
      expect((await post('/jts/password/reset', { token: resetToken, newPassword: 'the owner’s new password' })).status).toBe(200);
      await login(t.app, user.email, 'the owner’s new password');
      expect(t.audits).toContainEqual({ event: 'sign_in.reported', prn: user.id, revoked: 2 });
      expect(t.audits).toContainEqual({ event: 'challenge.consumed', purpose: 'not-me', prn: user.id });
    });

    it('works once: the second use is token_used', async () => {
      const user = await createUser(t);
      const { token } = await noticeToken(user);
      expect((await post('/jts/not-me', { token })).status).toBe(200);
      const again = await post('/jts/not-me', { token });
      expect(again.status).toBe(400);
      expect(again.body).toEqual(refused('token_used', 'This link was already used or replaced by a newer one; ask for a new one.'));
    });

    it('expires after JTS_NOT_ME_TOKEN_LIFETIME (7 days): token_expired, and no session ends', async () => {
      const user = await createUser(t);
      const { token, sessions } = await noticeToken(user);
      t.clock.advance(7 * DAY + 1000);
      const res = await post('/jts/not-me', { token });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(refused('token_expired', 'This link has expired; ask for a new one.'));
      expect((await renew(t.app, sessions[1] ?? '')).status).not.toBe(401);
    });

    it('still works after whoever signed in changed the password they stole', async () => {
      const user = await createUser(t);
      const { token, sessions } = await noticeToken(user);
      const thief = await login(t.app, user.email, user.password);
      const change = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${thief.bearerPass}`).send({ currentPassword: user.password, newPassword: 'the thief’s password' });
      expect(change.status).toBe(200);
      const res = await post('/jts/not-me', { token });
      expect(res.status).toBe(200);
      expect((await renew(t.app, thief.stateProof)).status).toBe(401);
      expect((await post('/jts/login', { email: user.email, password: 'the thief’s password' })).status).toBe(401);
      expect(sessions).toHaveLength(2);
    });

    // Peer bug (bitwarden/web#386): after "sign out everywhere", a device that was already noticed
    // signs in again silently. Here the intruder's device is forgotten with the report.
    it('forgets the intruder\'s device: its next sign-in (with a password stolen again) is noticed again', async () => {
      const user = await createUser(t);
      const intruder = { ip: ELSEWHERE, ua: FIREFOX_WINDOWS };
      const mail = sink.next(user.email, 'new-sign-in');
      const first = await signIn(user.email, user.password, intruder);
      const token = notMeTokenOf(await mail);
      const cookie = knownDeviceOf(first);
      // The intruder signs in again from the same browser: known now, so no second notice.
      expect((await signIn(user.email, user.password, { ...intruder, device: cookie })).status).toBe(200);
      expect(await noticesTo(user.email)).toEqual([]);
      const { resetToken } = (await post('/jts/not-me', { token })).body as { resetToken: string };
      expect((await post('/jts/password/reset', { token: resetToken, newPassword: 'owner’s new password' })).status).toBe(200);
      const again = sink.next(user.email, 'new-sign-in');
      expect((await signIn(user.email, 'owner’s new password', { ...intruder, device: cookie })).status).toBe(200);
      expect((await again).parsed.text).toContain('Network: 198.51.100.x');
    });

    // Peer review finding (QuackbackIO/quackback#525): the notice's recovery action changed the
    // password but kept the other sessions. Here the session of the browser following the link ends too.
    it('ends the session of the browser that follows the link as well (no session survives)', async () => {
      const user = await createUser(t);
      const mail = sink.next(user.email, 'new-sign-in');
      const intruder = await signIn(user.email, user.password, { ip: ELSEWHERE, ua: FIREFOX_WINDOWS });
      const token = notMeTokenOf(await mail);
      const owner = await login(t.app, user.email, user.password);
      const res = await request(t.app).post('/jts/not-me').set(CSRF).set('Cookie', `jts_state_proof=${owner.stateProof}`).send({ token });
      expect(res.status).toBe(200);
      expect((await renew(t.app, owner.stateProof)).status).toBe(401);
      expect((await renew(t.app, stateProofFrom(intruder) ?? '')).status).toBe(401);
    });

    // Peer pattern (blockmatic/basilic#176 needed an allow-listed origin for its revoke links): the
    // link's origin is PUBLIC_URL, whatever Host or X-Forwarded-Host the sign-in came with; and a GET
    // of the endpoint (a scanner following a link) does nothing.
    it('builds the link from PUBLIC_URL, never from the request\'s Host; GET changes nothing', async () => {
      const user = await createUser(t);
      const mail = sink.next(user.email, 'new-sign-in');
      const res = await request(t.app)
        .post('/jts/login')
        .set(CSRF)
        .set('Host', 'evil.example')
        .set('X-Forwarded-Host', 'evil.example')
        .set('X-Forwarded-For', ELSEWHERE)
        .send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
      const notice = await mail;
      expect(notice.raw).not.toContain('evil.example');
      const token = notMeTokenOf(notice);
      expect((await request(t.app).get(`/jts/not-me?token=${token}`)).status).toBe(405);
      expect((await post('/jts/not-me', { token })).status).toBe(200);
    });

    it('refuses a tampered, unknown or missing token with the documented errors', async () => {
      const bad = await post('/jts/not-me', { token: 'x'.repeat(43) });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual(refused('token_invalid', 'This link is not valid; ask for a new one.'));
      const short = await post('/jts/not-me', { token: 'abc' });
      expect(short.status).toBe(400);
      const none = await post('/jts/not-me', {});
      expect(none.status).toBe(400);
      expect((none.body as { error: string }).error).toBe('invalid_request');
      const noCsrf = await request(t.app).post('/jts/not-me').send({ token: 'x'.repeat(43) });
      expect(noCsrf.status).toBe(403);
    });

    it('a reset link is not a not-me token, nor the other way round', async () => {
      const user = await createUser(t);
      const { token } = await noticeToken(user);
      const reset = await post('/jts/password/reset', { token, newPassword: 'some new password' });
      expect(reset.status).toBe(400);
      expect((reset.body as { error: string }).error).toBe('token_invalid');
    });
  });

  describe('risk-based step-up', () => {
    it('after 3 failures from unknown devices, an unknown device needs an emailed code (right or wrong password alike); the hook is called once', async () => {
      const user = await createUser(t);
      const stranger = { ip: ELSEWHERE, ua: FIREFOX_WINDOWS };
      for (let i = 0; i < 3; i++) {
        const res = await signIn(user.email, 'wrong password', stranger);
        expect(res.status).toBe(401);
        expect((res.body as { error: string }).error).toBe('invalid_credentials');
      }
      expect(thresholds).toEqual([user.id]);
      for (const password of [user.password, 'wrong password']) {
        const res = await signIn(user.email, password, stranger);
        expect(res.status).toBe(401);
        expect(res.body).toEqual(refused('email_code_required', 'For your safety, sign in from this device with a code sent to your email.'));
        expect(knownDeviceOf(res)).toBeUndefined();
      }
      expect(thresholds).toEqual([user.id]);
      expect(t.audits).toContainEqual({ event: 'risk.step_up', prn: user.id });
      // The emailed code still signs the owner in from the new device.
      const codeMail = sink.next(user.email);
      await post('/jts/login/code', { email: user.email }, stranger);
      expect((await post('/jts/login/code/verify', { email: user.email, code: codeOf(await codeMail) }, stranger)).status).toBe(200);
    });

    it('with the rate limits on, a stranger\'s wrong passwords never shut the owner\'s emailed-code way in from a new device (tryout: 429 on the code)', async () => {
      await t.close();
      t = await buildTestApp({
        store: 'redis',
        accounts: 'postgres',
        env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example', TRUST_PROXY: '1', JTS_SIGN_IN_NOTICES: 'on', JTS_RISK_FAILED_SIGN_INS: '3/15m', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_ACCOUNT: '5/15m' },
      });
      const user = await createUser(t);
      const stranger = { ip: ELSEWHERE, ua: FIREFOX_WINDOWS };
      // 3 wrong passwords, then step-up answers: the per-account password budget (5) is spent.
      const answers: number[] = [];
      for (let i = 0; i < 7; i++) answers.push((await signIn(user.email, 'wrong password', stranger)).status);
      expect(answers.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(answers.slice(5)).toEqual([429, 429]);
      // The owner, on a new device elsewhere, signs in with an emailed code.
      const owner = { ip: HOME, ua: CHROME_MAC };
      const codeMail = sink.next(user.email);
      expect((await post('/jts/login/code', { email: user.email }, owner)).status).toBe(202);
      const res = await post('/jts/login/code/verify', { email: user.email, code: codeOf(await codeMail) }, owner);
      expect(res.status).toBe(200);
      expect(knownDeviceOf(res)).toBeDefined();
    });

    it('leaves the owner\'s known device alone: neither counted nor asked', async () => {
      const user = await createUser(t);
      const owner = { ip: HOME, ua: CHROME_MAC, device: knownDeviceOf(await signIn(user.email, user.password, { ip: HOME, ua: CHROME_MAC })) };
      for (let i = 0; i < 3; i++) await signIn(user.email, 'wrong password', { ip: ELSEWHERE, ua: FIREFOX_WINDOWS });
      for (let i = 0; i < 3; i++) expect((await signIn(user.email, 'owner typo', owner)).status).toBe(401);
      expect((await signIn(user.email, user.password, owner)).status).toBe(200);
      // A cookie of another account does not count as known.
      const other = await createUser(t);
      const otherDevice = knownDeviceOf(await signIn(other.email, other.password, { ip: HOME, ua: CHROME_MAC }));
      expect(((await signIn(user.email, user.password, { ip: HOME, ua: CHROME_MAC, device: otherDevice })).body as { error: string }).error).toBe('email_code_required');
    });

    it('no longer trusts the cookie of a device whose sign-in was reported as "not me"', async () => {
      const user = await createUser(t);
      const mail = sink.next(user.email, 'new-sign-in');
      const intruder = { ip: ELSEWHERE, ua: FIREFOX_WINDOWS, device: knownDeviceOf(await signIn(user.email, user.password, { ip: ELSEWHERE, ua: FIREFOX_WINDOWS })) };
      const { resetToken } = (await post('/jts/not-me', { token: notMeTokenOf(await mail) })).body as { resetToken: string };
      await post('/jts/password/reset', { token: resetToken, newPassword: 'owner’s new password' });
      for (let i = 0; i < 3; i++) await signIn(user.email, 'guess', { ip: HOME, ua: CHROME_MAC });
      const res = await signIn(user.email, 'owner’s new password', intruder);
      expect(res.status).toBe(401);
      expect((res.body as { error: string }).error).toBe('email_code_required');
    });

    it('answers an address without an account the same way (no account oracle), and calls no hook', async () => {
      const stranger = { ip: ELSEWHERE, ua: FIREFOX_WINDOWS };
      for (let i = 0; i < 3; i++) await signIn('nobody@example.com', 'guess', stranger);
      expect(((await signIn('nobody@example.com', 'guess', stranger)).body as { error: string }).error).toBe('email_code_required');
      expect(thresholds).toEqual([]);
    });

    it('counts over the window only: after it, the password alone works again', async () => {
      const user = await createUser(t);
      const stranger = { ip: ELSEWHERE, ua: FIREFOX_WINDOWS };
      for (let i = 0; i < 3; i++) await signIn(user.email, 'wrong password', stranger);
      expect((await signIn(user.email, user.password, stranger)).status).toBe(401);
      // The counter lives in Redis with a TTL of the window: expire it as time would.
      await t.redis?.flushdb();
      expect((await signIn(user.email, user.password, stranger)).status).toBe(200);
    });
  });
});
