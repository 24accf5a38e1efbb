import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { KNOWN_DEVICE_COOKIE } from '../../src/http/middleware/known-device';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login } from '../support/http';

const STEP = 30_000;

/** Wrong second-factor codes are failed sign-ins for the login limits; a right password that meets `mfa_required` is not. */
describe('second factor and the sign-in rate limits (Redis counters)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({
      store: 'redis',
      env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'loopback', RATE_LIMIT_LOGIN_ACCOUNT: '3/15m', RATE_LIMIT_LOGIN_IP: '100/1m' },
    });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, ip: string) => request(t.app).post(path).set(CSRF).set('X-Forwarded-For', ip).send(body);
  const codeAt = (secret: string, at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at });

  async function enrolled() {
    const user = await createUser(t, { emailVerified: true });
    const { bearerPass } = await login(t.app, user.email, user.password, { 'X-Forwarded-For': '198.51.100.1' });
    const auth = { Authorization: `Bearer ${bearerPass}` };
    const { secret } = (await request(t.app).post('/jts/mfa/totp').set(CSRF).set(auth).expect(201)).body as { secret: string };
    await request(t.app).post('/jts/mfa/totp/confirm').set(CSRF).set(auth).send({ code: codeAt(secret, t.clock.now()) }).expect(200);
    t.clock.advance(STEP);
    return { user, secret };
  }

  it('does not count mfa_required as a failed login', async () => {
    const { user } = await enrolled();
    // Twice the account's limit of failures, and never a 429.
    for (let i = 0; i < 6; i++) expect((await post('/jts/login', { email: user.email, password: user.password }, '203.0.113.7')).body).toMatchObject({ error: 'mfa_required' });
  });

  it("counts wrong codes against the ticket's account, from any address: the account's password logins are throttled too", async () => {
    const { user, secret } = await enrolled();
    const ticketFrom = async (ip: string) => ((await post('/jts/login', { email: user.email, password: user.password }, ip)).body as { mfa_ticket: string }).mfa_ticket;
    const ips = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4'];
    // One after another: the limiter counts a login while it runs, so four at once would exceed
    // three; and each ticket used before the next is issued, which voids it (one live per account).
    let ticket = '';
    for (const ip of ips.slice(0, 3)) {
      ticket = await ticketFrom(ip);
      expect((await post('/jts/mfa/verify', { mfa_ticket: ticket, recoveryCode: 'AAAA-AAAA-AAAA-AAAA' }, ip)).status).toBe(401);
    }
    // The last ticket is still live (one wrong code of five), but its account is out of tries.
    const throttled = await post('/jts/mfa/verify', { mfa_ticket: ticket, code: codeAt(secret, t.clock.now()) }, '203.0.113.4');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.ratelimit).toContain('"login-account"; r=0;');
    expect((await post('/jts/login', { email: user.email, password: user.password }, '203.0.113.5')).status).toBe(429);
  });

  it('remembers the browser as a known device after a sign-in completed with the second factor, as after a login', async () => {
    const { user, secret } = await enrolled();
    const first = await post('/jts/login', { email: user.email, password: user.password }, '203.0.113.9');
    expect(([] as string[]).concat(first.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${KNOWN_DEVICE_COOKIE}=`))).toBe(false);
    const done = await post('/jts/mfa/verify', { mfa_ticket: (first.body as { mfa_ticket: string }).mfa_ticket, code: codeAt(secret, t.clock.now()) }, '203.0.113.9');
    expect(done.status).toBe(200);
    expect(([] as string[]).concat(done.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${KNOWN_DEVICE_COOKIE}=`))).toBe(true);
  });
});
