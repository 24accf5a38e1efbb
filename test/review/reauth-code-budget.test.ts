import request from 'supertest';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

/**
 * Review finding: wrong 6-digit codes at POST /jts/reauth count only under the password limits
 * (password-account: RATE_LIMIT_LOGIN_ACCOUNT, 5/15m by default, ~480 a day), not under the long
 * per-account budget of 6-digit codes every sign-in path draws on (code-account,
 * RATE_LIMIT_CODE_ACCOUNT, 10/24h; review M2). Whoever holds a BearerPass of the account guesses its
 * TOTP codes ~48 times faster here than at /jts/mfa/verify, and a hit is an `mfa` step-up.
 */
describe('POST /jts/reauth with codes and the per-account code budget (Redis counters)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'loopback', RATE_LIMIT_LOGIN_ACCOUNT: '100/15m', RATE_LIMIT_PASSWORD: '100/15m', RATE_LIMIT_CODE_ACCOUNT: '2/24h' } });
  });
  afterEach(async () => {
    await t.close();
  });

  it('wrong codes draw on RATE_LIMIT_CODE_ACCOUNT: the third within the day is 429', async () => {
    const user = await createUser(t);
    const { bearerPass } = await login(t.app, user.email, user.password, { 'X-Forwarded-For': '198.51.100.1' });
    const reauth = (code: string, ip: string) => request(t.app).post('/jts/reauth').set(CSRF).set('X-Forwarded-For', ip).set('Authorization', `Bearer ${bearerPass}`).send({ code });
    const statuses = [];
    for (const [i, code] of ['000000', '111111', '222222'].entries()) statuses.push((await reauth(code, `203.0.113.${i + 1}`)).status);
    expect(statuses).toEqual([401, 401, 429]);
  });
});
