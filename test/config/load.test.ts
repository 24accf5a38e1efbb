import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load';
import { envSchema } from '../../src/config/schema';

describe('configuration', () => {
  it('starts from documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      jts: {
        algorithm: 'ES256',
        audience: 'http://localhost:3000',
        issuer: 'http://localhost:3000',
        bearerPassLifetimeSeconds: 300,
        stateProofLifetimeSeconds: 604800,
        rotationGraceSeconds: 10,
        privateKeyPath: './keys/signing-key.pem',
        publicKeyPath: './keys/signing-key.pub.pem',
        replayRevoke: 'session',
        sessionPolicy: { kind: 'allow_all' },
        revocationCheck: 'strict',
        cookieSecure: false,
        demoUsers: true,
      },
      bcryptRounds: 12,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['JTS_ALGORITHM', 'HS256'],
    ['JTS_BEARER_PASS_LIFETIME', '-5'],
    ['JTS_AUDIENCE', 'not a url'],
    ['JTS_SESSION_POLICY', 'max:zero'],
    ['JTS_ROTATION_GRACE', '3'],
    ['JTS_PREVIOUS_PUBLIC_KEYS', 'old.pem'],
    ['BCRYPT_ROUNDS', '8'],
  ])('refuses %s=%s with a message naming the variable and the value', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', JTS_ALGORITHM: 'none' })).toThrow(/PORT="x"[\s\S]*JTS_ALGORITHM="none"/);
  });

  it('parses session policies and previous keys', () => {
    const config = loadConfig({ JTS_SESSION_POLICY: 'max:3', JTS_PREVIOUS_PUBLIC_KEYS: 'ES256:./a.pem, RS256:./b.pem' });
    expect(config.jts.sessionPolicy).toEqual({ kind: 'max', max: 3 });
    expect(config.jts.previousPublicKeys).toEqual([{ alg: 'ES256', path: './a.pem' }, { alg: 'RS256', path: './b.pem' }]);
  });

  it('allows a zero grace window and cheap bcrypt only in tests', () => {
    expect(loadConfig({ NODE_ENV: 'test', JTS_ROTATION_GRACE: '0', BCRYPT_ROUNDS: '4' }).jts.rotationGraceSeconds).toBe(0);
    expect(() => loadConfig({ JTS_ROTATION_GRACE: '0' })).toThrow(/JTS_ROTATION_GRACE/);
  });

  describe('in production', () => {
    const production = { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://jts@127.0.0.1:5432/jts', SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Auth <no-reply@example.com>' };

    it('turns on Secure cookies and turns off demo users by default', () => {
      const config = loadConfig(production);
      expect(config.jts.cookieSecure).toBe(true);
      expect(config.jts.demoUsers).toBe(false);
    });

    it.each([
      ['the memory store', { REDIS_URL: '' }, /REDIS_URL/],
      ['the embedded PGlite database', { DATABASE_URL: '' }, /DATABASE_URL="": production needs PostgreSQL/],
      ['a DATABASE_URL that is not postgres://', { DATABASE_URL: 'mysql://x@y/z' }, /DATABASE_URL="mysql:\/\/x@y\/z": expected a postgres/],
      ['cookies without Secure', { JTS_COOKIE_SECURE: 'false' }, /JTS_COOKIE_SECURE/],
      ['bcrypt below 12', { BCRYPT_ROUNDS: '10' }, /BCRYPT_ROUNDS/],
      ['demo users', { JTS_DEMO_USERS: 'true' }, /JTS_DEMO_USERS/],
      ['wildcard CORS', { CORS_ORIGINS: '*' }, /CORS_ORIGINS/],
      ['trusting every proxy', { TRUST_PROXY: 'true' }, /TRUST_PROXY/],
      ['no SMTP server (mail would stay in the development outbox)', { SMTP_URL: '' }, /SMTP_URL="": production needs an SMTP server/],
      ['no mail sender', { MAIL_FROM: '' }, /MAIL_FROM="": production mails need a sender/],
      ['an SMTP_URL that is not smtp://', { SMTP_URL: 'http://mail.example' }, /SMTP_URL="http:\/\/mail.example": expected smtp:/],
      ['a MAIL_FROM with a line break (header injection)', { MAIL_FROM: 'a@example.com\r\nBcc: x@example.com' }, /MAIL_FROM=.*expected one line/],
    ])('refuses %s', (_name, overrides, message) => {
      expect(() => loadConfig({ ...production, ...overrides })).toThrow(message);
    });
  });

  it('loads .env.example as a copied .env would set it, and an empty value of any variable means unset', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const set: Record<string, string> = Object.fromEntries([...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    expect(() => loadConfig(set)).not.toThrow();
    const blank = Object.fromEntries(Object.keys(envSchema.shape).map((name) => [name, '']));
    expect(loadConfig(blank)).toEqual(loadConfig({}));
  });

  it('documents every variable in .env.example, and nothing else', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    const known = Object.keys(envSchema.shape);
    expect([...new Set(documented)].sort()).toEqual([...known].sort());
  });
});


describe('operations configuration', () => {
  it('has deliberate defaults', () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({
      enabled: true,
      loginIp: { limit: 20, windowMs: 60_000 },
      loginIpAttempts: { limit: 120, windowMs: 60_000 },
      loginAccount: { limit: 5, windowMs: 900_000 },
      register: { limit: 10, windowMs: 3_600_000 },
      renew: { limit: 120, windowMs: 60_000 },
      password: { limit: 10, windowMs: 900_000 },
      tokenExchange: { limit: 10, windowMs: 900_000 },
      introspect: { limit: 1200, windowMs: 60_000 },
      mailIp: { limit: 10, windowMs: 900_000 },
      mailAccount: { limit: 3, windowMs: 900_000 },
      codeAccount: { limit: 10, windowMs: 86_400_000 },
    });
    expect(config.email).toEqual({
      verification: 'optional',
      resetTokenLifetimeSeconds: 1800,
      verifyTokenLifetimeSeconds: 86_400,
      loginCodeLifetimeSeconds: 600,
      publicUrl: 'http://localhost:3000',
      smtpUrl: undefined,
      from: 'JTS Auth <no-reply@localhost>',
      productName: 'JTS Auth',
    });
    expect(config.jts).toMatchObject({ clientTokenLifetimeSeconds: 3600, exchangeTokenLifetimeSeconds: 900, clientsRefreshSeconds: 30 });
    expect(config.http).toEqual({ requestTimeoutMs: 30_000, headersTimeoutMs: 15_000, keepAliveTimeoutMs: 61_000 });
    expect(config.shutdown).toEqual({ delayMs: 0, timeoutMs: 10_000 });
    expect(config.corsMaxAgeSeconds).toBe(600);
    expect(config.metricsToken).toBeUndefined();
  });

  it.each([
    ['30/10s', { limit: 30, windowMs: 10_000 }],
    ['5/15m', { limit: 5, windowMs: 900_000 }],
    ['100/2h', { limit: 100, windowMs: 7_200_000 }],
  ])('reads a rate limit written %s', (value, rule) => {
    expect(loadConfig({ RATE_LIMIT_LOGIN_IP: value }).rateLimits.loginIp).toEqual(rule);
  });

  it.each(['20', '20/min', '0/1m', '20/0m', '-1/1m', '20 / 1m', '20/1d'])('refuses the rate limit %j, naming the variable and the format', (value) => {
    expect(() => loadConfig({ RATE_LIMIT_LOGIN_ACCOUNT: value })).toThrow(/RATE_LIMIT_LOGIN_ACCOUNT=.*expected <count>\/<window>, e\.g\. 20\/1m/);
  });

  it('reads the timeouts in milliseconds', () => {
    const config = loadConfig({ SHUTDOWN_TIMEOUT: '2500', SHUTDOWN_DELAY: '5000', HTTP_REQUEST_TIMEOUT: '20000', HTTP_HEADERS_TIMEOUT: '10000', HTTP_KEEP_ALIVE_TIMEOUT: '5000' });
    expect(config.shutdown).toEqual({ delayMs: 5000, timeoutMs: 2500 });
    expect(config.http).toEqual({ requestTimeoutMs: 20_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5000 });
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT: '5000', HTTP_HEADERS_TIMEOUT: '10000' })).toThrow(/HTTP_HEADERS_TIMEOUT="10000": must not exceed HTTP_REQUEST_TIMEOUT/);
  });

  it.each([
    ['SHUTDOWN_TIMEOUT', 'soon'],
    ['SHUTDOWN_DELAY', '-1'],
    ['CORS_MAX_AGE', '1.5'],
    ['RATE_LIMIT_ENABLED', 'maybe'],
  ])('refuses %s=%j naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });
});
