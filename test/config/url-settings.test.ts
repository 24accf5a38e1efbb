import { ConfigError, loadConfig } from '../../src/config/load';
import { REDACTED, SECRET_VARIABLES, redactUrlCredentials, shownValue } from '../../src/config/redact';

/** The config error for `env`; fails the test when the configuration is accepted. */
function problemOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`accepted: ${JSON.stringify(Object.keys(env))}`);
}

describe('URL settings accept only their scheme (issue 14, item 8)', () => {
  it('refuses REDIS_URL=http://:secret@127.0.0.1:6740 without echoing the password', () => {
    const message = problemOf({ REDIS_URL: 'http://:secret@127.0.0.1:6740' });
    expect(message).toContain('REDIS_URL="http://:***@127.0.0.1:6740": expected redis://[user:password@]host:port[/db], or rediss:// for TLS');
    expect(message).not.toContain('secret');
  });

  it.each(['https://user:hunter2-pw@redis.example:6379', 'tcp://:hunter2-pw@10.0.0.1:6379', 'unix:///tmp/redis.sock', '/tmp/redis.sock', '127.0.0.1:6379', 'localhost:6379', 'redis', 'redis//:hunter2-pw@host:6379'])(
    'refuses REDIS_URL=%s, naming the variable, never the password',
    (url) => {
      const message = problemOf({ REDIS_URL: url });
      expect(message).toMatch(/REDIS_URL=.*: expected redis:\/\//);
      expect(message).not.toContain('hunter2-pw');
    },
  );

  it.each(['redis://127.0.0.1:6379', 'redis://:p%40ss@cache:6379/2', 'rediss://default:token@cache.example.com:6380', 'REDIS://cache:6379'])('accepts REDIS_URL=%s', (url) => {
    expect(loadConfig({ REDIS_URL: url }).redis.url).toBe(url);
  });

  it.each([
    ['JTS_AUDIENCE', 'ftp://auth.example.com'],
    ['JTS_AUDIENCE', 'javascript:alert(1)'],
    ['JTS_AUDIENCE', 'localhost:3000'],
    ['JTS_AUDIENCE', 'auth.example.com'],
    ['JTS_ISSUER', 'ws://auth.example.com'],
    ['JTS_ISSUER', 'mailto:ops@example.com'],
    ['JTS_ISSUER', 'file:///etc/passwd'],
    ['JTS_ISSUER', 'not a url'],
  ])('refuses %s=%s: an issuer or audience is an http(s) URL', (name, value) => {
    expect(problemOf({ [name]: value })).toContain(`${name}=${JSON.stringify(value)}: expected an http:// or https:// URL`);
  });

  it('shows an issuer or audience URL with credentials without its password', () => {
    const audience = problemOf({ JTS_AUDIENCE: 'ftp://deploy:hunter2-pw@auth.example.com' });
    expect(audience).toContain('JTS_AUDIENCE="ftp://deploy:***@auth.example.com"');
    const origins = problemOf({ CORS_ORIGINS: 'https://user:hunter2-pw@app.example.com' });
    expect(origins).toContain('CORS_ORIGINS="https://user:***@app.example.com"');
    expect(audience + origins).not.toContain('hunter2-pw');
  });

  it.each(['https://auth.example.com', 'http://localhost:4000', 'https://auth.example.com/tenant-a'])('accepts the issuer and audience %s', (url) => {
    const config = loadConfig({ JTS_AUDIENCE: url, JTS_ISSUER: url });
    expect(config.jts).toMatchObject({ audience: url, issuer: url });
  });
});

describe('config errors name a secret variable, never its value', () => {
  it('refuses a short METRICS_TOKEN without echoing it', () => {
    const message = problemOf({ METRICS_TOKEN: 'tok-shh-123' });
    expect(message).toContain(`METRICS_TOKEN=${REDACTED}: expected at least 16 characters`);
    expect(message).not.toContain('tok-shh-123');
  });

  it('keeps a key=value connection string with a password out of a config error whole', () => {
    expect(shownValue('DATABASE_URL', 'host=db user=jts password=hunter2')).toBe(REDACTED);
    expect(() => loadConfig({ DATABASE_URL: 'host=db password=hunter2' })).toThrow(/DATABASE_URL=<redacted>/);
  });

  it('shows every secret variable as <redacted>, an unset one as empty', () => {
    expect([...SECRET_VARIABLES].sort()).toEqual(['JTS_STATE_PROOF_SECRET', 'JTS_WEBHOOK_SECRET', 'METRICS_TOKEN', 'REDIS_PASSWORD']);
    for (const name of SECRET_VARIABLES) {
      expect(shownValue(name, 'the-secret-value')).toBe(REDACTED);
      expect(shownValue(name, undefined)).toBe('""');
    }
    expect(shownValue('REDIS_URL', 'redis://:pw@h:6379')).toBe('"redis://:***@h:6379"');
    expect(shownValue('PORT', 'abc')).toBe('"abc"');
  });

  it('lists the other problems with the secret still hidden', () => {
    const message = problemOf({ METRICS_TOKEN: 'tok-shh-123', REDIS_URL: 'http://:secret@127.0.0.1:6740', PORT: 'x' });
    expect(message.split('\n')).toHaveLength(4);
    expect(message).not.toMatch(/tok-shh-123|secret@/);
  });
});

describe('redactUrlCredentials', () => {
  it.each([
    ['connect ENOENT //:secret@127.0.0.1:6740', 'connect ENOENT //:***@127.0.0.1:6740'],
    ['redis://default:secret@cache:6379/0', 'redis://default:***@cache:6379/0'],
    ['rediss://:s%40cret@cache:6380 and http://u:secret@x/y', 'rediss://:***@cache:6380 and http://u:***@x/y'],
    ['redis://user@cache:6379', 'redis://user@cache:6379'],
    ['no URL at all: secret', 'no URL at all: secret'],
  ])('hides the password in %s', (text, shown) => {
    expect(redactUrlCredentials(text)).toBe(shown);
  });
});
