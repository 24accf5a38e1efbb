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

  it('lets a session bound at login be used from its own device only, whichever way the StateProof came', () => {
    for (const stateProofVia of ['cookie', 'header'] as const) {
      expect(deviceAccepted(bound, { deviceId: 'device-1', stateProofVia })).toBe(true);
      expect(deviceAccepted(bound, { deviceId: 'device-2', stateProofVia })).toBe(false);
      expect(deviceAccepted(bound, { stateProofVia })).toBe(false);
    }
  });

  it('lets an unbound (browser) session be used through its cookie, with or without a device id', () => {
    expect(deviceAccepted(undefined, {})).toBe(true);
    expect(deviceAccepted(undefined, { stateProofVia: 'cookie' })).toBe(true);
    expect(deviceAccepted(undefined, { deviceId: 'device-2', stateProofVia: 'cookie' })).toBe(true);
  });

  it('refuses an unbound session’s StateProof copied into the X-JTS-StateProof header, with or without a device id', () => {
    expect(deviceAccepted(undefined, { stateProofVia: 'header' })).toBe(false);
    expect(deviceAccepted(undefined, { deviceId: 'device-2', stateProofVia: 'header' })).toBe(false);
  });
});
