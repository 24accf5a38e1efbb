import { generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { createBearerPassVerifier, type BearerPassVerifierOptions, type VerifyResult } from '../../src/jts/bearer-pass/verify';
import { ManualClock } from '../../src/jts/clock';
import { KeyRing, type RingKey } from '../../src/jts/key-ring';

/**
 * The verifier remembers accepted tokens so that a repeat skips decoding and the signature check.
 * These tests pin down that a remembered token is still refused exactly when a fresh verifier
 * would refuse it: time checks run on every call, and the key must still be the one in the ring.
 */

// Counts signature checks: a remembered token must not reach node:crypto.verify again.
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, verify: jest.fn(actual.verify) };
});
const verifySpy = jest.mocked(cryptoVerify);

const ISS = 'https://auth.example.test';
const AUD = 'https://api.example.test';
const SKEW = 5;
const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const LIFETIME = 300;

let ring: KeyRing;
let otherRing: KeyRing;
let clock: ManualClock;

beforeAll(async () => {
  ring = await KeyRing.from([{ alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }]);
  otherRing = await KeyRing.from([{ alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }]);
});

beforeEach(() => {
  clock = new ManualClock(START);
});

beforeEach(() => {
  verifySpy.mockClear();
});

function mint(keyRing: KeyRing = ring, subject: { prn: string; aid: string; perm?: string[] } = { prn: 'user-1', aid: 'session-1', perm: ['read:profile'] }): string {
  return createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: LIFETIME, issuer: ISS, audience: AUD })(subject).token;
}

function verifier(options: Partial<BearerPassVerifierOptions> = {}) {
  return createBearerPassVerifier({ keyFor: (kid) => ring.get(kid), clock, audience: AUD, issuer: ISS, clockSkewSeconds: SKEW, ...options });
}

/** What a brand-new verifier (nothing remembered) says at the same moment. */
function fresh(token: string, options: Partial<BearerPassVerifierOptions> = {}): VerifyResult {
  return verifier({ ...options, cacheSize: 0 })(token);
}

const code = (result: VerifyResult) => (result.ok ? 'accepted' : result.error.code);

describe('remembered BearerPasses', () => {
  test('a repeat is answered without a second signature check, with the same result', () => {
    const verify = verifier();
    const token = mint();
    const first = verify(token);
    const second = verify(token);
    expect(first.ok && second.ok).toBe(true);
    expect(second).toEqual(first);
    expect(verifySpy).toHaveBeenCalledTimes(1);
  });

  test('with cacheSize 0 every call checks the signature', () => {
    const verify = verifier({ cacheSize: 0 });
    const token = mint();
    verify(token);
    verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(2);
  });

  test('a remembered token is refused once it expires, exactly when a fresh verifier refuses it', () => {
    const verify = verifier();
    const token = mint();
    expect(code(verify(token))).toBe('accepted');
    clock.advance((LIFETIME + SKEW) * 1000);
    expect(code(verify(token))).toBe('accepted');
    expect(code(fresh(token))).toBe('accepted');
    clock.advance(1000);
    expect(code(verify(token))).toBe('JTS-401-01');
    expect(code(fresh(token))).toBe('JTS-401-01');
    // And stays refused (it was forgotten, and a full check refuses it too).
    expect(code(verify(token))).toBe('JTS-401-01');
  });

  test('a remembered token is refused as issued in the future when the clock goes back', () => {
    const verify = verifier();
    const token = mint();
    expect(code(verify(token))).toBe('accepted');
    clock.advance(-(SKEW + 1) * 1000);
    expect(code(verify(token))).toBe('JTS-400-02');
    expect(code(fresh(token))).toBe('JTS-400-02');
  });

  test('a remembered token is refused once its key leaves the ring', () => {
    let keys: KeyRing | undefined = ring;
    const verify = verifier({ keyFor: (kid) => keys?.get(kid) });
    const token = mint();
    expect(code(verify(token))).toBe('accepted');
    keys = undefined;
    expect(code(verify(token))).toBe('JTS-401-02');
    keys = ring;
    expect(code(verify(token))).toBe('accepted');
  });

  test('a remembered token is checked afresh when its kid now names another key object', () => {
    const token = mint();
    const original = ring.signer;
    let current: RingKey = original;
    const verify = verifier({ keyFor: (kid) => (kid === original.kid ? current : undefined) });
    expect(code(verify(token))).toBe('accepted');
    // Same kid, another public key (a forged JWKS entry, a re-keyed ring): the signature no longer holds.
    current = { ...otherRing.signer, kid: original.kid };
    expect(code(verify(token))).toBe('JTS-401-02');
    expect(verifySpy).toHaveBeenCalledTimes(2);
  });

  test('a token that differs by one character is never taken for a remembered one', () => {
    const verify = verifier();
    const token = mint();
    expect(code(verify(token))).toBe('accepted');
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    for (const variant of [`${flipped(h, 3)}.${p}.${s}`, `${h}.${flipped(p, 10)}.${s}`, `${h}.${p}.${flipped(s, 20)}`, `${token}.`, ` ${token}`, token.slice(0, -1)]) {
      expect(code(verify(variant))).toBe(code(fresh(variant)));
      expect(code(verify(variant))).not.toBe('accepted');
    }
  });

  test('refused tokens are not remembered: each refusal runs the full check', () => {
    const verify = verifier();
    const foreign = mint(otherRing);
    const tampered = `${mint().slice(0, -4)}AAAA`;
    for (let i = 0; i < 3; i++) {
      expect(code(verify(foreign))).toBe('JTS-401-02');
      expect(code(verify(tampered))).toBe('JTS-401-02');
    }
    // The foreign token's kid is unknown (no signature check); the tampered one is checked every time.
    expect(verifySpy).toHaveBeenCalledTimes(3);
  });

  test('a token refused for its audience or issuer is refused on every call', () => {
    const verify = verifier({ audience: 'https://elsewhere.example.test' });
    const token = mint();
    expect(code(verify(token))).toBe('JTS-403-01');
    expect(code(verify(token))).toBe('JTS-403-01');
    const other = verifier({ issuer: 'https://other-issuer.example.test' });
    expect(code(other(token))).toBe('JTS-401-02');
    expect(code(other(token))).toBe('JTS-401-02');
  });

  test('the result shared between calls is frozen, so no request can change what the next one sees', () => {
    const verify = verifier();
    const token = mint();
    const result = verify(token);
    if (!result.ok) throw new Error('expected acceptance');
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.payload)).toBe(true);
    expect(Object.isFrozen(result.payload.perm)).toBe(true);
    expect(Object.isFrozen(result.header)).toBe(true);
    expect(() => {
      (result.payload.perm as string[]).push('admin:access');
    }).toThrow(TypeError);
    const again = verify(token);
    expect(again.ok && again.payload.perm).toEqual(['read:profile']);
  });

  test('the cache holds at most cacheSize tokens, oldest out, and forgotten tokens are still accepted', () => {
    const verify = verifier({ cacheSize: 2 });
    const tokens = ['a', 'b', 'c'].map((aid) => mint(ring, { prn: 'user-1', aid }));
    for (const token of tokens) expect(code(verify(token))).toBe('accepted');
    expect(verifySpy).toHaveBeenCalledTimes(3);
    expect(code(verify(tokens[2]!))).toBe('accepted');
    expect(code(verify(tokens[1]!))).toBe('accepted');
    expect(verifySpy).toHaveBeenCalledTimes(3);
    expect(code(verify(tokens[0]!))).toBe('accepted');
    expect(verifySpy).toHaveBeenCalledTimes(4);
  });
});
