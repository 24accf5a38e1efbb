import { deviceAccepted, hashDeviceId } from '../../src/auth/device-binding';

describe('hashDeviceId', () => {
  it('is SHA-256 in base64url, the form stored in live sessions and in `dfp`', () => {
    // SHA-256("abc") from FIPS 180-2, re-encoded: a change here orphans every bound session.
    expect(hashDeviceId('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('is undefined when no device id was sent', () => {
    expect(hashDeviceId(undefined)).toBeUndefined();
  });
});

describe('deviceAccepted', () => {
  const bound = hashDeviceId('device-1');

  it('lets a session bound at login renew from its own device only', () => {
    expect(deviceAccepted(bound, 'device-1')).toBe(true);
    expect(deviceAccepted(bound, 'device-2')).toBe(false);
  });

  it('refuses a bound session renewed with no device id at all', () => {
    expect(deviceAccepted(bound, undefined)).toBe(false);
  });

  it('lets an unbound session renew from anywhere, with or without a device id', () => {
    expect(deviceAccepted(undefined, undefined)).toBe(true);
    expect(deviceAccepted(undefined, 'device-2')).toBe(true);
  });
});
