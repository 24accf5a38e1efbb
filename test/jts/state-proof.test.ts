import { randomBytes } from 'node:crypto';
import { randomId, StateProofCodec, type StateProofParts } from '../../src/jts/state-proof';

const secret = randomBytes(32);
const codec = new StateProofCodec(secret);
const parts: StateProofParts = { prn: 'user_1-A', aid: 'Session-9_z', generation: 7 };

/** Replaces segment `index` (0 = prefix … 4 = mac) of a StateProof. */
function withSegment(stateProof: string, index: number, value: string): string {
  const segments = stateProof.split('.');
  segments[index] = value;
  return segments.join('.');
}

/** Another base64url character than `char`. */
const otherChar = (char: string): string => (char === 'A' ? 'B' : 'A');

describe('StateProofCodec issue and parse', () => {
  test('a StateProof parses back to the parts it was issued for', () => {
    const stateProof = codec.issue(parts);
    expect(stateProof.startsWith('sp1.user_1-A.Session-9_z.7.')).toBe(true);
    expect(codec.parse(stateProof)).toEqual(parts);
  });

  test('random ids and the largest generation round-trip', () => {
    const big = { prn: randomId(), aid: randomId(), generation: 999_999_999_999_999 };
    expect(codec.parse(codec.issue(big))).toEqual(big);
    const longIds = { prn: 'p'.repeat(64), aid: 'a'.repeat(64), generation: 1 };
    expect(codec.parse(codec.issue(longIds))).toEqual(longIds);
  });

  test('another codec with the same secret parses it (every instance of the server agrees)', () => {
    expect(new StateProofCodec(Buffer.from(secret)).parse(codec.issue(parts))).toEqual(parts);
  });

  test('a codec with a different secret does not', () => {
    expect(new StateProofCodec(randomBytes(32)).parse(codec.issue(parts))).toBeUndefined();
  });

  test.each([
    ['the prefix', 0, 'sp2'],
    ['the prn', 1, 'user_2-A'],
    ['the aid', 2, 'Session-9_y'],
    ['the generation (up)', 3, '8'],
    ['the generation (down)', 3, '6'],
  ])('changing %s makes it unparseable', (_name, index, value) => {
    expect(codec.parse(withSegment(codec.issue(parts), index, value))).toBeUndefined();
  });

  test('changing any of the mac characters that carry all 6 bits makes it unparseable', () => {
    const stateProof = codec.issue(parts);
    const mac = stateProof.split('.')[4]!;
    expect(mac).toHaveLength(43);
    // The 43rd character carries only 4 significant bits; it is covered by the test below.
    for (let i = 0; i < 42; i += 1) {
      const tampered = `${mac.slice(0, i)}${otherChar(mac[i]!)}${mac.slice(i + 1)}`;
      expect(codec.parse(withSegment(stateProof, 4, tampered))).toBeUndefined();
    }
  });

  test('a mac whose last character differs in its significant bits is unparseable', () => {
    const stateProof = codec.issue(parts);
    const mac = stateProof.split('.')[4]!;
    const last = mac[42]!;
    // base64url alphabet index; flipping bit 2 changes a significant bit of the last byte.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flipped = alphabet[alphabet.indexOf(last) ^ 0b100]!;
    expect(codec.parse(withSegment(stateProof, 4, `${mac.slice(0, 42)}${flipped}`))).toBeUndefined();
  });

  test('the mac of another session cannot be moved onto this one', () => {
    const mine = codec.issue(parts);
    const theirs = codec.issue({ ...parts, aid: 'other-session' });
    expect(codec.parse(withSegment(mine, 4, theirs.split('.')[4]!))).toBeUndefined();
  });

  test.each<[string, () => unknown]>([
    ['an empty string', () => ''],
    ['only the prefix', () => 'sp1'],
    ['a missing mac', () => 'sp1.user.aid.1'],
    ['an extra segment', () => `${codec.issue(parts)}.x`],
    ['a leading space', () => ` ${codec.issue(parts)}`],
    ['a trailing newline', () => `${codec.issue(parts)}\n`],
    ['generation 0', () => codec.issue({ ...parts, generation: 0 })],
    ['a generation with a leading zero', () => withSegment(codec.issue(parts), 3, '07')],
    ['a negative generation', () => withSegment(codec.issue(parts), 3, '-7')],
    ['a 16-digit generation', () => codec.issue({ ...parts, generation: 1_000_000_000_000_000 })],
    ['a prn of 65 characters', () => codec.issue({ ...parts, prn: 'p'.repeat(65) })],
    ['a prn with a dot', () => codec.issue({ ...parts, prn: 'a.b' })],
    ['an empty aid', () => codec.issue({ ...parts, aid: '' })],
    ['a mac of 42 characters', () => codec.issue(parts).slice(0, -1)],
    ['a mac of 44 characters', () => `${codec.issue(parts)}A`],
    ['a mac in standard base64', () => withSegment(codec.issue(parts), 4, `${'+/'.repeat(21)}A`)],
    ['300 characters', () => 's'.repeat(300)],
    ['undefined', () => undefined],
    ['null', () => null],
    ['a number', () => 42],
    ['an object', () => ({ ...parts })],
    ['an array', () => [codec.issue(parts)]],
    ['a Buffer of a valid StateProof', () => Buffer.from(codec.issue(parts))],
  ])('%s is not a StateProof', (_name, value) => {
    expect(codec.parse(value())).toBeUndefined();
  });

  test('a secret shorter than 32 bytes is refused; 32 bytes are enough', () => {
    expect(() => new StateProofCodec(randomBytes(31))).toThrow();
    expect(() => new StateProofCodec(Buffer.alloc(0))).toThrow();
    expect(() => new StateProofCodec(randomBytes(32))).not.toThrow();
  });

  test('random ids are 128-bit base64url and distinct', () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });
});

describe('StateProofCodec seal and open', () => {
  const bearerPass = 'eyJhbGciOiJFUzI1NiJ9.eyJwcm4iOiJ1c2VyIn0.c2lnbmF0dXJl';

  test('a sealed value opens with the same parts', () => {
    expect(codec.open(parts, codec.seal(parts, bearerPass))).toBe(bearerPass);
  });

  test('a sealed value does not contain the plaintext, nor any part of it in base64url', () => {
    const sealed = codec.seal(parts, bearerPass);
    expect(sealed).not.toContain(bearerPass);
    for (const piece of bearerPass.split('.')) expect(sealed).not.toContain(piece);
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('eyJ');
    expect(sealed).not.toContain(Buffer.from(bearerPass).toString('base64url').slice(0, 16));
  });

  test('sealing the same value twice gives two different sealed values', () => {
    expect(codec.seal(parts, bearerPass)).not.toBe(codec.seal(parts, bearerPass));
  });

  test.each<[string, StateProofParts]>([
    ['another generation', { ...parts, generation: 8 }],
    ['another aid', { ...parts, aid: 'other' }],
    ['another prn', { ...parts, prn: 'other' }],
  ])('a sealed value does not open for %s', (_name, other) => {
    expect(codec.open(other, codec.seal(parts, bearerPass))).toBeUndefined();
  });

  test('a sealed value does not open with another secret', () => {
    expect(new StateProofCodec(randomBytes(32)).open(parts, codec.seal(parts, bearerPass))).toBeUndefined();
  });

  test('a sealed value with any byte changed does not open', () => {
    const raw = Buffer.from(codec.seal(parts, bearerPass), 'base64url');
    for (const index of [0, 11, 12, 27, 28, raw.length - 1]) {
      const tampered = Buffer.from(raw);
      tampered[index] = tampered[index]! ^ 1;
      expect(codec.open(parts, tampered.toString('base64url'))).toBeUndefined();
    }
  });

  test('short, truncated or garbage sealed values do not open, and do not throw', () => {
    const sealed = codec.seal(parts, bearerPass);
    for (const value of ['', 'AAAA', sealed.slice(0, 20), sealed.slice(0, -4), '!!!not base64!!!', 'A'.repeat(1000)]) {
      expect(codec.open(parts, value)).toBeUndefined();
    }
  });
});
