import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/load';
import { envSchema } from '../src/config/schema';

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
    const production = { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' };

    it('turns on Secure cookies and turns off demo users by default', () => {
      const config = loadConfig(production);
      expect(config.jts.cookieSecure).toBe(true);
      expect(config.jts.demoUsers).toBe(false);
    });

    it.each([
      ['the memory store', { REDIS_URL: '' }, /REDIS_URL/],
      ['cookies without Secure', { JTS_COOKIE_SECURE: 'false' }, /JTS_COOKIE_SECURE/],
      ['bcrypt below 12', { BCRYPT_ROUNDS: '10' }, /BCRYPT_ROUNDS/],
      ['demo users', { JTS_DEMO_USERS: 'true' }, /JTS_DEMO_USERS/],
      ['wildcard CORS', { CORS_ORIGINS: '*' }, /CORS_ORIGINS/],
      ['trusting every proxy', { TRUST_PROXY: 'true' }, /TRUST_PROXY/],
    ])('refuses %s', (_name, overrides, message) => {
      expect(() => loadConfig({ ...production, ...overrides })).toThrow(message);
    });
  });

  it('documents every variable in .env.example, and nothing else', () => {
    const example = readFileSync(join(__dirname, '..', '.env.example'), 'utf8');
    const documented = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    const known = Object.keys(envSchema.shape);
    expect([...new Set(documented)].sort()).toEqual([...known].sort());
  });
});
