import request from 'supertest';
import { KNOWN_DEVICE_COOKIE, KNOWN_DEVICE_HEADER } from '../../src/http/middleware/known-device';
import { buildTestApp, createUser, type StoreKind, type TestApp } from '../support/test-app';
import { CSRF, login, renew, stateProofFrom } from '../support/http';
import { PrivateRedis } from '../support/redis-server';

const limits = (overrides: Record<string, string> = {}) => ({
  RATE_LIMIT_ENABLED: 'true',
  // X-Forwarded-For from the loopback test client is trusted, so each test picks its client IP.
  TRUST_PROXY: 'loopback',
  ...overrides,
});

function from(ip: string) {
  return { 'X-Forwarded-For': ip };
}

function loginFrom(t: TestApp, ip: string, email: string, password: string, cookie?: string) {
  const req = request(t.app).post('/jts/login').set(CSRF).set(from(ip));
  return (cookie === undefined ? req : req.set('Cookie', cookie)).send({ email, password });
}

function knownDeviceCookie(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith(`${KNOWN_DEVICE_COOKIE}=`))?.split(';')[0];
}

function expect429(res: request.Response, limiter: string): void {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({ error: 'rate_limited', message: expect.any(String), action: 'retry', retry_after: expect.any(Number), timestamp: expect.any(Number) });
  const retryAfter = (res.body as { retry_after: number }).retry_after;
  expect(retryAfter).toBeGreaterThan(0);
  expect(res.headers['retry-after']).toBe(String(retryAfter));
  expect(res.headers.ratelimit).toContain(`"${limiter}"; r=0;`);
  expect(res.headers['ratelimit-policy']).toContain(`"${limiter}"; q=`);
}

describe.each<StoreKind>(['memory', 'redis'])('rate limits (%s counters)', (store) => {
  const apps: TestApp[] = [];
  async function app(env: Record<string, string>): Promise<TestApp> {
    const t = await buildTestApp({ store, env: limits(env) });
    apps.push(t);
    return t;
  }
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
  });

  describe('login per IP', () => {
    it('answers 429 with the JSON error, retry_after and draft-8 RateLimit headers past the failures allowed', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_IP: '3/1m', RATE_LIMIT_LOGIN_ACCOUNT: '100/1m' });
      const user = await createUser(t);
      for (let i = 0; i < 3; i++) {
        const failed = await loginFrom(t, '203.0.113.1', user.email, 'wrong password');
        expect(failed.status).toBe(401);
        expect(failed.headers.ratelimit).toContain(`"login-ip"; r=${2 - i};`);
      }
      const res = await loginFrom(t, '203.0.113.1', user.email, user.password);
      expect429(res, 'login-ip');
      expect(t.audits).toContainEqual({ event: 'rate_limited', limiter: 'login-ip' });
    });

    // Issue 14 (5): an office behind one NAT address, or a test suite, keeps signing in.
    it('lets 60 correct logins from one address in a minute all succeed with the default limits', async () => {
      const t = await app({});
      const user = await createUser(t);
      for (let i = 0; i < 60; i++) expect((await loginFrom(t, '203.0.113.60', user.email, user.password)).status).toBe(200);
    });

    it('still puts a ceiling on every attempt from one address, successful or not', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_IP_ATTEMPTS: '3/1m' });
      const user = await createUser(t);
      for (let i = 0; i < 3; i++) expect((await loginFrom(t, '203.0.113.61', user.email, user.password)).status).toBe(200);
      expect429(await loginFrom(t, '203.0.113.61', user.email, user.password), 'login-ip-attempts');
    });

    it('counts each client address on its own', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_IP: '2/1m' });
      const user = await createUser(t);
      await loginFrom(t, '203.0.113.2', user.email, 'wrong password');
      await loginFrom(t, '203.0.113.2', user.email, 'wrong password');
      expect((await loginFrom(t, '203.0.113.2', user.email, user.password)).status).toBe(429);
      expect((await loginFrom(t, '203.0.113.3', user.email, user.password)).status).toBe(200);
    });

    // Issue 14 (3): one client, one counter, however its address is spelled.
    it('counts an IPv4 client as one, whether its address arrives plain or IPv4-mapped, and keeps mapped clients apart', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_IP: '2/1m' });
      const user = await createUser(t);
      await loginFrom(t, '::ffff:203.0.113.9', user.email, 'wrong password');
      await loginFrom(t, '::FFFF:cb00:7109', user.email, 'wrong password');
      expect((await loginFrom(t, '203.0.113.9', user.email, user.password)).status).toBe(429);
      expect((await loginFrom(t, '::ffff:198.51.100.1', user.email, user.password)).status).toBe(200);
    });

    it('counts an IPv6 client by its /56, in any spelling', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_IP: '2/1m' });
      const user = await createUser(t);
      await loginFrom(t, '2001:DB8:0:0:0:0:0:1', user.email, 'wrong password');
      await loginFrom(t, '2001:db8:0:ff::2', user.email, 'wrong password');
      expect((await loginFrom(t, '2001:db8::3', user.email, user.password)).status).toBe(429);
      expect((await loginFrom(t, '2001:db8:0:100::1', user.email, user.password)).status).toBe(200);
    });
  });

  // Issue 14 (2): a stolen BearerPass must not turn the password change into a password oracle.
  describe('password change per account', () => {
    it('counts wrong current passwords against the account from any address, like failed logins', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '3/15m', RATE_LIMIT_PASSWORD: '100/15m' });
      const user = await createUser(t);
      const { bearerPass } = await login(t.app, user.email, user.password);
      const change = (ip: string, currentPassword: string) =>
        request(t.app).post('/jts/password').set(CSRF).set(from(ip)).set('Authorization', `Bearer ${bearerPass}`).send({ currentPassword, newPassword: 'a brand new password' });
      for (let i = 0; i < 3; i++) expect((await change(`198.51.100.${10 + i}`, `guess-${i}`)).status).toBe(401);
      expect429(await change('198.51.100.50', user.password), 'password-account');
      // The right guess did not get through: the old password still signs in.
      expect((await loginFrom(t, '198.51.100.51', user.email, user.password)).status).toBe(200);
    });
  });

  describe('login per account', () => {
    it('counts failures from different IPs against the same account, then throttles every unknown client', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '3/15m' });
      const user = await createUser(t);
      expect((await loginFrom(t, '198.51.100.1', user.email, 'wrong password')).status).toBe(401);
      expect((await loginFrom(t, '198.51.100.2', user.email, 'wrong password')).status).toBe(401);
      // The email is normalised: case and spaces do not make another account.
      expect((await loginFrom(t, '198.51.100.1', `  ${user.email.toUpperCase()} `, 'wrong password')).status).toBe(401);
      const res = await loginFrom(t, '198.51.100.3', user.email, user.password);
      expect429(res, 'login-account');
      expect(t.audits).toContainEqual({ event: 'rate_limited', limiter: 'login-account' });
      // Another account from the same addresses is not affected.
      const other = await createUser(t);
      expect((await loginFrom(t, '198.51.100.1', other.email, other.password)).status).toBe(200);
    });

    it('cannot be dodged by padding the email beyond its length limit', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '2/15m' });
      const user = await createUser(t);
      const padded = `${user.email}${' '.repeat(300)}`;
      expect((await loginFrom(t, '198.51.100.20', padded, 'wrong password')).status).toBe(401);
      expect((await loginFrom(t, '198.51.100.21', padded, 'wrong password')).status).toBe(401);
      expect429(await loginFrom(t, '198.51.100.22', padded, user.password), 'login-account');
    });

    it('does not count successful logins', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '2/15m' });
      const user = await createUser(t);
      for (let i = 0; i < 5; i++) expect((await loginFrom(t, `192.0.2.${i}`, user.email, user.password)).status).toBe(200);
      expect((await loginFrom(t, '192.0.2.9', user.email, 'wrong password')).status).toBe(401);
      expect((await loginFrom(t, '192.0.2.9', user.email, user.password)).status).toBe(200);
    });

    it('does not count a malformed body as a guess', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '1/15m' });
      const user = await createUser(t);
      for (let i = 0; i < 3; i++) expect((await loginFrom(t, '192.0.2.20', user.email, 'x'.repeat(100) + '\u0000')).status).toBe(400);
      expect((await loginFrom(t, '192.0.2.20', user.email, user.password)).status).toBe(200);
    });

    it("never throttles the owner's known browser because of someone else's failures", async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '3/15m' });
      const user = await createUser(t);
      const first = await loginFrom(t, '198.51.100.10', user.email, user.password);
      const device = knownDeviceCookie(first);
      expect(device).toBeDefined();
      expect(([] as string[]).concat(first.headers['set-cookie'] ?? []).find((c) => c.startsWith(KNOWN_DEVICE_COOKIE))).toMatch(/; Path=\/jts\/login; .*HttpOnly; SameSite=Strict/);
      for (let i = 0; i < 5; i++) await loginFrom(t, `198.51.100.${20 + i}`, user.email, 'wrong password');
      expect((await loginFrom(t, '198.51.100.30', user.email, user.password)).status).toBe(429);
      const owner = await loginFrom(t, '198.51.100.10', user.email, user.password, device);
      expect(owner.status).toBe(200);
      expect(stateProofFrom(owner)).toBeDefined();
    });

    it("never throttles the owner's native app, which gets and sends the known-device value as a header", async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '3/15m' });
      const user = await createUser(t);
      const nativeLogin = (ip: string, password: string, known?: string) => {
        const req = request(t.app).post('/jts/login').set(CSRF).set(from(ip)).set('X-JTS-Device-ID', 'phone-1');
        return (known === undefined ? req : req.set(KNOWN_DEVICE_HEADER, known)).send({ email: user.email, password });
      };
      const first = await nativeLogin('198.51.100.60', user.password);
      expect(first.status).toBe(200);
      const known = first.headers[KNOWN_DEVICE_HEADER.toLowerCase()];
      expect(known).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      // A native client gets no cookie it would not keep.
      expect(knownDeviceCookie(first)).toBeUndefined();
      for (let i = 0; i < 5; i++) await loginFrom(t, `198.51.100.${70 + i}`, user.email, 'wrong password');
      expect((await nativeLogin('198.51.100.61', user.password)).status).toBe(429);
      expect((await nativeLogin('198.51.100.61', user.password, known)).status).toBe(200);
      // The header is checked like the cookie: a forged or truncated value is an unknown client.
      expect((await nativeLogin('198.51.100.61', user.password, `${'A'.repeat(22)}.${'B'.repeat(43)}`)).status).toBe(429);
      expect((await nativeLogin('198.51.100.61', user.password, known?.slice(0, -1))).status).toBe(429);
    });

    it('gives a known browser its own failure counter, not a bypass', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '2/15m' });
      const user = await createUser(t);
      const device = knownDeviceCookie(await loginFrom(t, '198.51.100.40', user.email, user.password));
      await loginFrom(t, '198.51.100.40', user.email, 'wrong password', device);
      await loginFrom(t, '198.51.100.40', user.email, 'wrong password', device);
      expect((await loginFrom(t, '198.51.100.40', user.email, user.password, device)).status).toBe(429);
    });

    it('ignores a device cookie made for another account or forged', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_ACCOUNT: '1/15m' });
      const owner = await createUser(t);
      const victim = await createUser(t);
      const ownerDevice = knownDeviceCookie(await loginFrom(t, '198.51.100.50', owner.email, owner.password));
      await loginFrom(t, '198.51.100.51', victim.email, 'wrong password');
      expect((await loginFrom(t, '198.51.100.50', victim.email, victim.password, ownerDevice)).status).toBe(429);
      const forged = `${KNOWN_DEVICE_COOKIE}=${'A'.repeat(22)}.${'B'.repeat(43)}`;
      expect((await loginFrom(t, '198.51.100.50', victim.email, victim.password, forged)).status).toBe(429);
    });
  });

  it('limits register per IP', async () => {
    const t = await app({ RATE_LIMIT_REGISTER: '2/1h' });
    const register = (ip: string, n: number) =>
      request(t.app).post('/jts/register').set(CSRF).set(from(ip)).send({ email: `r${n}-${Math.random()}@example.com`, password: 'long enough pass', name: 'R' });
    expect((await register('203.0.113.50', 1)).status).toBe(201);
    expect((await register('203.0.113.50', 2)).status).toBe(201);
    expect429(await register('203.0.113.50', 3), 'register-ip');
    expect((await register('203.0.113.51', 4)).status).toBe(201);
  });

  it('limits renew per IP', async () => {
    const t = await app({ RATE_LIMIT_RENEW: '2/1m' });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    const renewFrom = (ip: string) => renew(t.app, creds.stateProof).set(from(ip));
    await renewFrom('203.0.113.60');
    await renewFrom('203.0.113.60');
    expect429(await renewFrom('203.0.113.60'), 'renew-ip');
  });

  it('limits password change per IP', async () => {
    const t = await app({ RATE_LIMIT_PASSWORD: '2/15m' });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    const change = () =>
      request(t.app).post('/jts/password').set(CSRF).set(from('203.0.113.70')).set('Authorization', `Bearer ${creds.bearerPass}`).send({ currentPassword: 'wrong one', newPassword: 'another long pass' });
    expect((await change()).status).toBe(401);
    expect((await change()).status).toBe(401);
    expect429(await change(), 'password-ip');
  });

  it('can be turned off', async () => {
    const t = await app({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_LOGIN_IP: '1/1m' });
    const user = await createUser(t);
    for (let i = 0; i < 3; i++) expect((await loginFrom(t, '203.0.113.80', user.email, user.password)).status).toBe(200);
  });

  if (store === 'redis') {
    it('keeps its counters under the configured Redis key prefix', async () => {
      const t = await app({ RATE_LIMIT_LOGIN_IP: '5/1m' });
      await loginFrom(t, '203.0.113.90', 'nobody@example.com', 'wrong password');
      const [, keys] = await t.redis!.scan('0', 'MATCH', `${t.config.redis.keyPrefix}rl:*`, 'COUNT', 10_000);
      expect(keys.sort()).toEqual([
        expect.stringMatching(new RegExp(`^${t.config.redis.keyPrefix}rl:login-account:[A-Za-z0-9_-]{32}$`)),
        `${t.config.redis.keyPrefix}rl:login-ip-attempts:203.0.113.90`,
        `${t.config.redis.keyPrefix}rl:login-ip:203.0.113.90`,
      ]);
      // The account key is a hash: no email in Redis key names.
      expect(keys.join(' ')).not.toContain('nobody');
    });

    it('shares counters between two instances on one Redis', async () => {
      const a = await app({ RATE_LIMIT_LOGIN_IP: '2/1m', REDIS_KEY_PREFIX: 'shared-rl-test:' });
      const b = await app({ RATE_LIMIT_LOGIN_IP: '2/1m', REDIS_KEY_PREFIX: 'shared-rl-test:' });
      const ip = `203.0.113.${100 + Math.floor(Math.random() * 100)}`;
      await loginFrom(a, ip, 'nobody@example.com', 'wrong password');
      await loginFrom(b, ip, 'nobody@example.com', 'wrong password');
      expect((await loginFrom(a, ip, 'nobody@example.com', 'wrong password')).status).toBe(429);
      await a.redis!.del(`shared-rl-test:rl:login-ip:${ip}`);
    });
  }
});

describe('rate limits when Redis is down', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('let the request through to the store, which fails closed with 503; counting resumes when Redis is back', async () => {
    // Every attempt counts under this limit (successful logins do not count against RATE_LIMIT_LOGIN_IP).
    const t = await buildTestApp({ store: 'redis', redisUrl: server.url, env: limits({ RATE_LIMIT_LOGIN_IP_ATTEMPTS: '2/1m' }) });
    const user = await createUser(t);
    await server.stop();
    const res = await loginFrom(t, '203.0.113.200', user.email, user.password);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'service_unavailable', retry_after: expect.any(Number) });
    expect(t.audits).toContainEqual({ event: 'store.unavailable', operation: 'rate_limit:login-ip-attempts' });
    expect(t.logLines.some((line) => line.includes('"level":40') && line.includes('login-ip'))).toBe(true);

    await server.start();
    await new Promise<void>((resolve) => {
      if (t.redis!.status === 'ready') resolve();
      else t.redis!.once('ready', () => { resolve(); });
    });
    // The fresh Redis is empty, but accounts do not live there: the user signs in, and the limiter counts again.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await loginFrom(t, '203.0.113.201', user.email, user.password)).status);
    expect(statuses).toEqual([200, 200, 429]);
    await t.close();
  });
});
