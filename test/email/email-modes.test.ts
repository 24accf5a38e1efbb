import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login } from '../support/http';
import { SmtpSink, tokenOf } from '../support/smtp-sink';

const refused = (error: string, message: string) => ({ error, message, action: 'none', timestamp: expect.any(Number) as number });

describe('email settings and limits', () => {
  let sink: SmtpSink;
  let t: TestApp | undefined;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  describe('JTS_EMAIL_VERIFICATION=required', () => {
    it('refuses a password sign-in of an unverified account with 403 email_unverified and mails a fresh link; after verifying it signs in', async () => {
      t = await buildTestApp({ accounts: 'pglite', env: { SMTP_URL: sink.url, JTS_EMAIL_VERIFICATION: 'required' } });
      const user = await createUser(t);
      const mail = sink.next(user.email);
      const res = await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(refused('email_unverified', 'Verify your email address first: a new link is on its way.'));
      expect(res.headers['set-cookie']).toBeUndefined();
      // With no session to show, the registrant shows the password: it is kept.
      const verified = await request(t.app).post('/jts/email/verify').set(CSRF).send({ token: tokenOf(await mail, 'verify'), password: user.password });
      expect(verified.body).toEqual({ success: true, emailVerified: true, passwordReset: 'not_required' });
      await login(t.app, user.email, user.password);
    });

    it('verifying without the password voids it (pre-hijacking); a wrong one is 401 and leaves the link usable', async () => {
      t = await buildTestApp({ accounts: 'pglite', env: { SMTP_URL: sink.url, JTS_EMAIL_VERIFICATION: 'required' } });
      const mail = sink.next('squatted@example.com');
      await request(t.app).post('/jts/register').set(CSRF).send({ email: 'squatted@example.com', password: 'squatter password', name: 'Squatted' }).expect(403);
      const token = tokenOf(await mail, 'verify');
      const wrong = await request(t.app).post('/jts/email/verify').set(CSRF).send({ token, password: 'a guess at it' });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual(refused('invalid_credentials', 'Email or password is incorrect.'));
      const res = await request(t.app).post('/jts/email/verify').set(CSRF).send({ token });
      expect(res.body).toEqual({ success: true, emailVerified: true, passwordReset: 'required' });
      expect((await request(t.app).post('/jts/login').set(CSRF).send({ email: 'squatted@example.com', password: 'squatter password' })).status).toBe(401);
    });

    it('creates the account at registration but opens no session until the address is verified', async () => {
      t = await buildTestApp({ accounts: 'pglite', env: { SMTP_URL: sink.url, JTS_EMAIL_VERIFICATION: 'required' } });
      const mail = sink.next('fresh@example.com');
      const res = await request(t.app).post('/jts/register').set(CSRF).send({ email: 'fresh@example.com', password: 'correct horse battery', name: 'Fresh' });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'email_unverified' });
      await request(t.app).post('/jts/email/verify').set(CSRF).send({ token: tokenOf(await mail, 'verify'), password: 'correct horse battery' }).expect(200);
      await login(t.app, 'fresh@example.com', 'correct horse battery');
    });

    it('still does not tell a wrong password apart from an unverified account', async () => {
      t = await buildTestApp({ accounts: 'pglite', env: { SMTP_URL: sink.url, JTS_EMAIL_VERIFICATION: 'required' } });
      const user = await createUser(t);
      const res = await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: 'wrong password' });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'invalid_credentials' });
    });
  });

  it('JTS_EMAIL_VERIFICATION=off mails nothing at registration', async () => {
    t = await buildTestApp({ env: { SMTP_URL: sink.url, JTS_EMAIL_VERIFICATION: 'off' } });
    await request(t.app).post('/jts/register').set(CSRF).send({ email: 'quiet@example.com', password: 'correct horse battery', name: 'Quiet' }).expect(201);
    await t.email.idle();
    expect(sink.received.filter((m) => m.envelope.to.includes('quiet@example.com'))).toEqual([]);
  });

  it('throttles a mail bomb against one address across the sending routes (429) while other addresses still get mail', async () => {
    t = await buildTestApp({ env: { SMTP_URL: sink.url, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAIL_ACCOUNT: '3/15m', RATE_LIMIT_MAIL_IP: '100/15m' } });
    const target = 'victim@example.com';
    const statuses: number[] = [];
    for (const path of ['/jts/password/forgot', '/jts/login/code', '/jts/password/forgot', '/jts/login/code']) {
      statuses.push((await request(t.app).post(path).set(CSRF).send({ email: ` ${target.toUpperCase()} ` })).status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    const other = await request(t.app).post('/jts/password/forgot').set(CSRF).send({ email: 'someone.else@example.com' });
    expect(other.status).toBe(202);
  });

  it('throttles the mail routes per client IP', async () => {
    t = await buildTestApp({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAIL_IP: '2/15m' } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(t.app).post('/jts/login/code').set(CSRF).send({ email: `u${i}@example.com` })).status);
    expect(statuses).toEqual([202, 202, 429]);
  });

  it('counts wrong codes against the account like wrong passwords', async () => {
    t = await buildTestApp({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_ACCOUNT: '2/15m', RATE_LIMIT_LOGIN_IP: '100/1m' } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(t.app).post('/jts/login/code/verify').set(CSRF).send({ email: 'target@example.com', code: '000000' })).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('counts wrong codes per account over a long window too, from every address and device (review M2)', async () => {
    t = await buildTestApp({ env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'loopback', RATE_LIMIT_LOGIN_ACCOUNT: '100/15m', RATE_LIMIT_LOGIN_IP: '100/1m', RATE_LIMIT_CODE_ACCOUNT: '3/24h' } });
    const app = t.app;
    const guess = (email: string, ip: string) => request(app).post('/jts/login/code/verify').set(CSRF).set('X-Forwarded-For', ip).send({ email, code: '000000' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await guess('target@example.com', `203.0.113.${10 + i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const refused = await guess('target@example.com', '198.51.100.7');
    expect(refused.status).toBe(429);
    expect(refused.headers.ratelimit).toContain('"code-account"; r=0;');
    expect((await guess('someone.else@example.com', '198.51.100.7')).status).toBe(401);
  });

  describe('the development outbox', () => {
    it('lists mails at /dev/outbox without SMTP_URL (embedded PGlite, memory sessions: the npm start default)', async () => {
      t = await buildTestApp({ accounts: 'pglite' });
      const user = await createUser(t, { name: 'Dev' });
      await request(t.app).post('/jts/password/forgot').set(CSRF).send({ email: user.email }).expect(202);
      await t.email.idle();
      const res = await request(t.app).get('/dev/outbox');
      expect(res.status).toBe(200);
      const mails = (res.body as { mails: { to: string; subject: string; text: string; sentAt: string }[] }).mails;
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({ to: user.email, subject: 'Reset your password — JTS Auth', sentAt: new Date(t.clock.now()).toISOString() });
      const token = /#reset=([A-Za-z0-9_-]{43})/.exec(mails[0]!.text)?.[1] ?? '';
      await request(t.app).post('/jts/password/reset').set(CSRF).send({ token, newPassword: 'reset from the outbox' }).expect(200);
    });

    it('is 404 in production', async () => {
      t = await buildTestApp({ store: 'redis', env: { NODE_ENV: 'production', BCRYPT_ROUNDS: '12' } });
      const res = await request(t.app).get('/dev/outbox');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'not_found' });
    });
  });
});
