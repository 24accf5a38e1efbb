import { generateKeyPairSync } from 'node:crypto';
import { isCanonicalBase64url } from '../../src/jts/base64url';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { createBearerPassVerifier } from '../../src/jts/bearer-pass/verify';
import { ManualClock } from '../../src/jts/clock';
import { KeyRing } from '../../src/jts/key-ring';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every spelling Node's lenient decoder reads as the same bytes as `segment`: its last character with other spare bits. */
function otherSpellings(segment: string): string[] {
  const spare = segment.length % 4 === 2 ? 0x0f : segment.length % 4 === 3 ? 0x03 : 0;
  const last = ALPHABET.indexOf(segment.charAt(segment.length - 1));
  const spellings: string[] = [];
  for (let bits = 1; bits <= spare; bits++) spellings.push(segment.slice(0, -1) + ALPHABET.charAt((last & ~spare) | bits));
  return spellings;
}

describe('isCanonicalBase64url', () => {
  it('accepts exactly what Buffer writes, for every length of input', () => {
    for (let n = 1; n <= 66; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      const text = bytes.toString('base64url');
      expect(isCanonicalBase64url(text)).toBe(true);
      for (const other of otherSpellings(text)) {
        expect(Buffer.from(other, 'base64url').equals(bytes)).toBe(true);
        expect(isCanonicalBase64url(other)).toBe(false);
      }
    }
  });

  it.each(['', 'A', 'AAAAA', 'AA==', 'AB+/', 'AB CD', 'ÀÀ', 'AA.A'])('refuses %j', (text) => {
    expect(isCanonicalBase64url(text)).toBe(false);
  });
});

describe('a BearerPass has one spelling', () => {
  it('refuses every other spelling of each segment of a valid token', async () => {
    const clock = new ManualClock(Date.now());
    const keyRing = await KeyRing.from([{ alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }]);
    const mint = createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: 300, issuer: 'https://auth.example', audience: 'https://auth.example' });
    const verify = createBearerPassVerifier({ keyFor: (kid) => keyRing.get(kid), clock, audience: 'https://auth.example', issuer: 'https://auth.example', cacheSize: 0 });
    const { token } = mint({ prn: 'p'.repeat(22), aid: 'a'.repeat(22), perm: ['read:profile'] });
    expect(verify(token).ok).toBe(true);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const variants = [
      ...otherSpellings(header).map((h) => ({ token: `${h}.${payload}.${signature}`, code: 'JTS-400-01' })),
      ...otherSpellings(payload).map((p) => ({ token: `${header}.${p}.${signature}`, code: 'JTS-400-01' })),
      ...otherSpellings(signature).map((s) => ({ token: `${header}.${payload}.${s}`, code: 'JTS-401-02' })),
    ];
    // ES256's 64-byte signature is 86 characters: 15 other spellings of its last one.
    expect(otherSpellings(signature)).toHaveLength(15);
    for (const variant of variants) {
      const result = verify(variant.token);
      expect(result.ok ? 'accepted' : result.error.code).toBe(variant.code);
    }
  });
});
