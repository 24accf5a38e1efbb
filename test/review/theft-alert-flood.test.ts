import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { login, renew, renewOk } from '../support/http';
import { kindOf, SmtpSink } from '../support/smtp-sink';

const THIEF = { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'X-Forwarded-For': '198.51.100.23' };

/**
 * Review of issue 21: a theft alert is mailed once per session a replay ends — but whoever holds the
 * password can open a session, renew it, and replay its own first StateProof, as often as the login
 * limits allow: one alert mail to the owner each time, without bound.
 */
describe('review: token theft alert mails are bounded per account (real SMTP, Redis)', () => {
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

  it('mails at most 5 theft alerts per account and hour; every replay is still listed as ended', async () => {
    t = await buildTestApp({ store: 'redis', env: { ...sink.mailEnv, TRUST_PROXY: 'loopback', PUBLIC_URL: 'https://app.example.com', JTS_EMAIL_VERIFICATION: 'off' } });
    const user = await createUser(t);
    for (let i = 0; i < 8; i++) {
      const signedIn = await login(t.app, user.email, user.password, THIEF);
      await renewOk(t.app, signedIn.stateProof);
      t.clock.advance(11_000);
      expect((await renew(t.app, signedIn.stateProof).set(THIEF)).status).toBe(401);
    }
    await t.email.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const alerts = sink.received.filter((mail) => mail.envelope.to.includes(user.email) && kindOf(mail) === 'token-theft');
    expect(alerts).toHaveLength(5);
    expect(t.audits.filter((e) => e.event === 'theft_alert.suppressed')).toHaveLength(3);
    expect(t.audits.filter((e) => e.event === 'replay.detected')).toHaveLength(8);
  });
});
