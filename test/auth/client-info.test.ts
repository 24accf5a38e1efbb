import { canonicalIp, describeDevice, maskIp } from '../../src/auth/client-info';

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
    // Issue 14 (3): host bits and other spellings used to reach the session list.
    ['2a00:1450::200e', '2a00:1450::/48'],
    ['2001:db8::a:b:c:d', '2001:db8::/48'],
    ['::FFFF:203.0.113.9', '203.0.113.x'],
    ['::ffff:cb00:7109', '203.0.113.x'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::/48'],
    ['2001:0db8:0001:0002::1', '2001:db8:1::/48'],
    ['fe80::1%eth0', 'fe80::/48'],
    ['::1', '::/48'],
    ['0203.0.113.9', 'unknown'],
    [undefined, 'unknown'],
    ['not an ip', 'unknown'],
  ])('masks %s as %s', (ip, expected) => {
    expect(maskIp(ip)).toBe(expected);
  });
});

describe('canonicalIp', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', 'fe80::1'],
  ])('writes %s as %s', (ip, expected) => {
    expect(canonicalIp(ip)).toBe(expected);
  });

  it.each([undefined, '', 'localhost', '1.2.3', '1.2.3.4.5', '2001:db8::g'])('has no spelling for %j', (ip) => {
    expect(canonicalIp(ip)).toBeUndefined();
  });
});
