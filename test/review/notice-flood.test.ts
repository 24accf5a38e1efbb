import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF } from '../support/http';
import { kindOf, SmtpSink } from '../support/smtp-sink';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

/**
 * Review of issue 21: every sign-in from a device and network the account has not used mailed a
 * notice, with no bound. Whoever holds the password (or a flood of fresh devices) made the server
 * mail the owner as often as the login limits per IP allow, from as many IPs as they have, and left
 * a live "this wasn't me" row per mail for 7 days.
 */
describe('review: new sign-in notices are bounded per account (real SMTP, PostgreSQL, Redis)', () => {
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

  it('mails at most 5 new sign-in notices per account and hour, however many fresh devices sign in', async () => {
    const user = await createUser(t);
    for (let i = 0; i < 12; i++) {
      await request(t.app).post('/jts/login').set(CSRF).set('X-Forwarded-For', `198.51.${i}.77`).set('User-Agent', FIREFOX_WINDOWS).send({ email: user.email, password: user.password }).expect(200);
    }
    await t.email.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const notices = sink.received.filter((mail) => mail.envelope.to.includes(user.email) && kindOf(mail) === 'new-sign-in');
    expect(notices).toHaveLength(5);
    expect(t.audits.filter((e) => e.event === 'sign_in.new_device')).toHaveLength(5);
    expect(t.audits.filter((e) => e.event === 'sign_in.notice_suppressed')).toHaveLength(7);
  });
});
