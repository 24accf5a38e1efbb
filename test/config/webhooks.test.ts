import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config/load';
import { nominalDelaysMs, retryDelayMs } from '../../src/accounts/outbox-queue';
import { DEFAULT_RETRY_SCHEDULE } from '../../src/webhooks/schedule';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('webhook settings', () => {
  it('are off without JTS_WEBHOOK_URLS, and read with their defaults when set', () => {
    expect(loadConfig({}).webhooks).toBeUndefined();
    expect(loadConfig({ JTS_WEBHOOK_URLS: 'https://hooks.example.com/jts, http://127.0.0.1:9000/x', JTS_WEBHOOK_SECRET: SECRET }).webhooks).toEqual({
      endpoints: ['https://hooks.example.com/jts', 'http://127.0.0.1:9000/x'],
      secret: SECRET,
      timeoutMs: 10_000,
      retry: DEFAULT_RETRY_SCHEDULE,
      pollMs: 1000,
    });
  });

  it.each([
    ['no secret', { JTS_WEBHOOK_URLS: 'https://hooks.example.com' }, /^JTS_WEBHOOK_SECRET="": webhooks are signed; .*new-secret/],
    ['a secret of 5 bytes', { JTS_WEBHOOK_URLS: 'https://hooks.example.com', JTS_WEBHOOK_SECRET: 'whsec_c2hvcnQ=' }, /^JTS_WEBHOOK_SECRET=<redacted>: expected whsec_ followed by 24 to 64 random bytes/],
    ['a secret without whsec_', { JTS_WEBHOOK_URLS: 'https://hooks.example.com', JTS_WEBHOOK_SECRET: SECRET.slice(6) }, /^JTS_WEBHOOK_SECRET=<redacted>/],
    ['plain http beyond loopback', { JTS_WEBHOOK_URLS: 'http://hooks.internal/jts', JTS_WEBHOOK_SECRET: SECRET }, /^JTS_WEBHOOK_URLS="http:\/\/hooks.internal\/jts": plain http is refused except on loopback.*JTS_WEBHOOK_ALLOW_HTTP=true/],
    ['an ftp URL', { JTS_WEBHOOK_URLS: 'ftp://hooks.example.com', JTS_WEBHOOK_SECRET: SECRET }, /^JTS_WEBHOOK_URLS="ftp:\/\/hooks.example.com\/": expected an https:\/\/ URL/],
    ['credentials in the URL', { JTS_WEBHOOK_URLS: 'https://user:pw@hooks.example.com/?token=t0k', JTS_WEBHOOK_SECRET: SECRET }, /^JTS_WEBHOOK_URLS="https:\/\/hooks.example.com\/": credentials in the URL are refused/],
    ['a URL listed twice', { JTS_WEBHOOK_URLS: 'https://a.example.com,https://a.example.com', JTS_WEBHOOK_SECRET: SECRET }, /listed twice/],
    ['an in-memory PGlite', { JTS_WEBHOOK_URLS: 'https://a.example.com', JTS_WEBHOOK_SECRET: SECRET, DATA_DIR: 'memory://' }, /^JTS_WEBHOOK_URLS: webhooks need a database that survives a restart.*DATABASE_URL/],
  ])('refuses %s with a line that names the variable and the fix', (_label, env, message) => {
    const problems = problemsOf(env);
    expect(problems).toEqual([expect.stringMatching(message)]);
    // Never the secret, nor a URL's password or query token.
    expect(problems.join('\n')).not.toContain(SECRET.slice(6, 20));
    expect(problems.join('\n')).not.toMatch(/pw@|t0k/);
  });

  it('accepts plain http beyond loopback only with JTS_WEBHOOK_ALLOW_HTTP=true', () => {
    expect(loadConfig({ JTS_WEBHOOK_URLS: 'http://hooks.internal/jts', JTS_WEBHOOK_SECRET: SECRET, JTS_WEBHOOK_ALLOW_HTTP: 'true' }).webhooks?.endpoints).toEqual(['http://hooks.internal/jts']);
    expect(loadConfig({ JTS_WEBHOOK_URLS: 'http://localhost:8080/h,http://[::1]:8080/h', JTS_WEBHOOK_SECRET: SECRET }).webhooks?.endpoints).toHaveLength(2);
  });
});

describe('webhook retry schedule', () => {
  it('by default doubles from 5 s to at most an hour over 12 attempts: a receiver down for an hour still gets every event', () => {
    const delays = nominalDelaysMs(DEFAULT_RETRY_SCHEDULE);
    expect(delays).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000, 3_600_000]);
    const total = delays.reduce((sum, d) => sum + d, 0);
    expect(total).toBe(8_715_000); // 2 h 25 min 15 s
    expect(total * 0.8).toBeGreaterThan(3_600_000); // even with every jitter at its lowest
  });

  it('jitters each wait by ±20 % and gives up after the last attempt', () => {
    expect(retryDelayMs(1, DEFAULT_RETRY_SCHEDULE, () => 0)).toBe(4000);
    expect(retryDelayMs(1, DEFAULT_RETRY_SCHEDULE, () => 0.999_999)).toBe(6000);
    expect(retryDelayMs(11, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBe(3_600_000);
    expect(retryDelayMs(12, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBeUndefined();
  });
});
