import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login } from '../support/http';
import { SmtpSink } from '../support/smtp-sink';

/**
 * Review: POST /jts/account/email mails the address in the body (a confirmation link, or an
 * "email-change-taken" notice when it has an account). Only the per-IP and per-account budgets
 * guarded it, so a handful of throwaway accounts could bomb one inbox, each within its own budget.
 * The new address must draw on the same per-address budget as forgot-password and sign-in codes.
 */
describe('address change: the per-address mail budget (real Redis, PGlite, SMTP)', () => {
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

  it('throttles change requests naming one address across accounts, sharing the budget of the other mail routes', async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'pglite', env: { ...sink.mailEnv, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAIL_ACCOUNT: '3/15m', RATE_LIMIT_MAIL_IP: '100/15m', RATE_LIMIT_LOGIN_IP: '100/1m' } });
    const victim = `victim-${Math.random().toString(36).slice(2, 10)}@example.com`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A fresh account each time: its own per-account (mail-resend) budget is never the one spent.
      const user = await createUser(t, { emailVerified: true });
      const session = await login(t.app, user.email, user.password);
      const res = await request(t.app).post('/jts/account/email').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).send({ newEmail: ` ${victim.toUpperCase()} ` });
      statuses.push(res.status);
    }
    // The fourth mail to the same inbox, asked for by address on another route.
    statuses.push((await request(t.app).post('/jts/password/forgot').set(CSRF).send({ email: victim })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    // Another address still goes through.
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password);
    const other = await request(t.app).post('/jts/account/email').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).send({ newEmail: `other-${Math.random().toString(36).slice(2, 10)}@example.com` });
    expect(other.status).toBe(202);
  });
});
