import { describeDevice, maskIp } from '../../src/auth/client-info';

describe('describeDevice', () => {
  it.each([
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1', 'Safari on iOS'],
    ['curl/8.5.0', 'curl'],
    [undefined, 'Unknown client'],
    ['', 'Unknown client'],
  ])('describes %s as %s', (ua, expected) => {
    expect(describeDevice(ua)).toBe(expected);
  });

  it('does linear work on a hostile User-Agent (no catastrophic backtracking)', () => {
    const start = process.hrtime.bigint();
    describeDevice(`Version/${'1'.repeat(100_000)}`);
    // Backtracking on this input took ~260 ms per call before the fix; linear work takes microseconds.
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(50);
  });
});

describe('maskIp', () => {
  it.each([
    ['203.0.113.57', '203.0.113.x'],
    ['::ffff:198.51.100.7', '198.51.100.x'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::/48'],
    [undefined, 'unknown'],
    ['not an ip', 'unknown'],
  ])('masks %s as %s', (ip, expected) => {
    expect(maskIp(ip)).toBe(expected);
  });
});
