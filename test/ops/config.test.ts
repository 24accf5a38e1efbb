import { loadConfig } from '../../src/config/load';

describe('operations configuration', () => {
  it('has deliberate defaults', () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({
      enabled: true,
      loginIp: { limit: 20, windowMs: 60_000 },
      loginAccount: { limit: 5, windowMs: 900_000 },
      register: { limit: 10, windowMs: 3_600_000 },
      renew: { limit: 120, windowMs: 60_000 },
      password: { limit: 10, windowMs: 900_000 },
    });
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
