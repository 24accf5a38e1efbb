import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import { algorithmSpec, cryptoKeyInput } from '../../src/jts/algorithms';
import { JTS_TYP } from '../../src/jts/bearer-pass/claims';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { createBearerPassVerifier, type VerifyResult } from '../../src/jts/bearer-pass/verify';
import { ManualClock } from '../../src/jts/clock';
import { JtsError } from '../../src/jts/errors';
import { KeyRing } from '../../src/jts/key-ring';
import { StateProofCodec } from '../../src/jts/state-proof';

/**
 * Property-based tests of the protocol core with fast-check: hostile input yields a typed
 * rejection, never an exception; a valid token with any one byte changed is refused. Fixed seed,
 * bounded runs: the same cases on every machine.
 */
const SEED = 20_260_101;
const RUNS = 2000;
const AUD = 'https://api.example.test';
const ISS = 'https://auth.example.test';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('protocol core under hostile input (fast-check)', () => {
  let ring: KeyRing;
  let clock: ManualClock;
  let verify: (token: unknown) => VerifyResult;
  let valid: string;
  let codec: StateProofCodec;
  let stateProof: string;

  beforeAll(async () => {
    ring = await KeyRing.from([{ alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }]);
    clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    verify = createBearerPassVerifier({ keyFor: (kid) => ring.get(kid), clock, audience: AUD, issuer: ISS, clockSkewSeconds: 5 });
    const mint = createBearerPassIssuer({ keyRing: ring, clock, lifetimeSeconds: 300, issuer: ISS, audience: AUD });
    valid = mint({ prn: 'user-1', aid: 'aid-1', perm: ['read:profile'], atm: 'pwd', ath: 1, spl: 'allow_all' }).token;
    codec = new StateProofCodec(randomBytes(32));
    stateProof = codec.issue({ prn: randomBytes(16).toString('base64url'), aid: randomBytes(16).toString('base64url'), generation: 42 });
  });

  const isTypedRejection = (result: VerifyResult) => !result.ok && result.error instanceof JtsError && /^JTS-4\d\d-0\d$/.test(result.error.code);
  const run = <Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns = RUNS) => {
    fc.assert(property, { seed: SEED, numRuns });
  };

  /** base64url of arbitrary bytes, JSON, or junk: what a token segment might be. */
  const segment = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
    fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value)).toString('base64url')),
    fc.string({ maxLength: 60 }),
  );

  describe('BearerPass verifier', () => {
    it('sanity: the valid token verifies', () => {
      expect(verify(valid).ok).toBe(true);
    });

    it('turns any byte string into a typed rejection, never an exception', () => {
      run(
        fc.property(fc.uint8Array({ maxLength: 10_000 }), (bytes) => {
          expect(isTypedRejection(verify(Buffer.from(bytes).toString('latin1')))).toBe(true);
          expect(isTypedRejection(verify(Buffer.from(bytes).toString('utf8')))).toBe(true);
        }),
      );
    });

    it('turns any string (any unicode, any length up to 10 000) into a typed rejection', () => {
      run(
        fc.property(fc.string({ unit: 'binary', maxLength: 10_000 }), (text) => {
          expect(isTypedRejection(verify(text))).toBe(true);
        }),
      );
    });

    it('turns any JavaScript value into a typed rejection', () => {
      run(
        fc.property(fc.anything(), (value) => {
          expect(isTypedRejection(verify(value))).toBe(true);
        }),
        500,
      );
    });

    it('turns three-part tokens of random segments into a typed rejection', () => {
      run(
        fc.property(segment, segment, segment, (h, p, s) => {
          expect(isTypedRejection(verify(`${h}.${p}.${s}`))).toBe(true);
        }),
      );
    });

    it('rejects a correct header over a random payload and signature', () => {
      const header = valid.split('.')[0]!;
      run(
        fc.property(segment, fc.uint8Array({ minLength: 64, maxLength: 64 }), (p, sig) => {
          const result = verify(`${header}.${p}.${Buffer.from(sig).toString('base64url')}`);
          expect(isTypedRejection(result)).toBe(true);
        }),
      );
    });

    it('never throws on any payload signed with the real key; accepts only well-typed claims', () => {
      const signer = ring.signer;
      const header = Buffer.from(JSON.stringify({ alg: signer.alg, typ: JTS_TYP, kid: signer.kid })).toString('base64url');
      const now = Math.floor(clock.now() / 1000);
      const claimValue = fc.oneof(fc.jsonValue(), fc.constant(now), fc.constant(now + 60), fc.constant(AUD), fc.constant([AUD]), fc.constant(ISS), fc.string());
      const payload = fc.oneof(
        fc.jsonValue(),
        fc.record({ prn: claimValue, aid: claimValue, tkn_id: claimValue, iat: claimValue, exp: claimValue, iss: claimValue, aud: claimValue, perm: claimValue, grc: claimValue }, { requiredKeys: [] }),
        fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prn', 'exp', 'iat', 'aud', 'toString'), claimValue),
      );
      run(
        fc.property(payload, (claims) => {
          const encoded = Buffer.from(JSON.stringify(claims)).toString('base64url');
          const signature = sign(algorithmSpec(signer.alg).hash, Buffer.from(`${header}.${encoded}`), cryptoKeyInput(signer.alg, signer.privateKey)).toString('base64url');
          const result = verify(`${header}.${encoded}.${signature}`);
          if (result.ok) {
            expect(typeof result.payload.prn).toBe('string');
            expect(typeof result.payload.aid).toBe('string');
            expect(typeof result.payload.exp).toBe('number');
            expect(result.payload.iss).toBe(ISS);
          } else {
            expect(isTypedRejection(result)).toBe(true);
          }
        }),
        1000,
      );
    });

    /**
     * Exhaustive: every position, every other byte value (0..255). Nothing verifies, not even a
     * change that decodes to the same bytes: base64url's unused trailing bits in the last character
     * of the signature (ES256: 64 bytes = 86 characters carrying 516 bits, so 4 spare bits and 15
     * other spellings of that character) are refused as non-canonical.
     */
    it('refuses every single-byte change of a valid token, same-bytes spellings of the signature included', () => {
      const [h, p, s] = valid.split('.') as [string, string, string];
      const signatureBytes = Buffer.from(s, 'base64url');
      const accepted: { index: number; value: number }[] = [];
      const untyped: number[] = [];
      let tried = 0;
      for (let index = 0; index < valid.length; index++) {
        for (let value = 0; value < 256; value++) {
          if (value === valid.charCodeAt(index)) continue;
          const mutated = valid.slice(0, index) + String.fromCharCode(value) + valid.slice(index + 1);
          tried++;
          const result = verify(mutated);
          if (result.ok) {
            accepted.push({ index, value });
            const [mh, mp, ms] = mutated.split('.') as [string, string, string];
            expect(`${mh}.${mp}`).toBe(`${h}.${p}`);
            expect(Buffer.from(ms, 'base64url').equals(signatureBytes)).toBe(true);
          } else if (!isTypedRejection(result)) {
            untyped.push(index);
          }
        }
      }
      expect(untyped).toEqual([]);
      expect(tried).toBe(valid.length * 255);
      // Not even the other spellings of the signature's last character (issue 14, item 7): a
      // token has one spelling, so a service blocking it by its text cannot be walked around.
      expect(s.length * 6 - signatureBytes.length * 8).toBeGreaterThan(0);
      expect(accepted).toEqual([]);
    });

    it('refuses random multi-byte corruption of a valid token with a typed rejection', () => {
      run(
        fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
          const chars = Array.from(valid);
          for (const [position, value] of edits) chars[position % chars.length] = String.fromCharCode(value);
          const mutated = chars.join('');
          const result = verify(mutated);
          if (mutated === valid) expect(result.ok).toBe(true);
          else expect(isTypedRejection(result)).toBe(true);
        }),
      );
    });
  });

  describe('StateProof codec', () => {
    it('sanity: the issued StateProof parses', () => {
      expect(codec.parse(stateProof)).toMatchObject({ generation: 42 });
    });

    it('returns undefined for any byte string, any string and any value, never throwing', () => {
      run(
        fc.property(fc.uint8Array({ maxLength: 1000 }), fc.string({ unit: 'binary', maxLength: 1000 }), fc.anything(), (bytes, text, value) => {
          expect(codec.parse(Buffer.from(bytes).toString('latin1'))).toBeUndefined();
          expect(codec.parse(text)).toBeUndefined();
          expect(codec.parse(value)).toBeUndefined();
        }),
      );
    });

    it('returns undefined for well-formed StateProofs with a forged mac', () => {
      const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
      run(
        fc.property(id, id, fc.integer({ min: 1, max: 999_999_999_999_999 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (prn, aid, generation, mac) => {
          expect(codec.parse(`sp1.${prn}.${aid}.${generation}.${Buffer.from(mac).toString('base64url')}`)).toBeUndefined();
        }),
      );
    });

    /** Exhaustive, and with no exception at all: only the canonical spelling of the mac is accepted. */
    it('refuses every single-byte change of a valid StateProof, including same-bytes spellings of the mac', () => {
      const accepted: string[] = [];
      let tried = 0;
      for (let index = 0; index < stateProof.length; index++) {
        for (let value = 0; value < 256; value++) {
          if (value === stateProof.charCodeAt(index)) continue;
          tried++;
          const mutated = stateProof.slice(0, index) + String.fromCharCode(value) + stateProof.slice(index + 1);
          if (codec.parse(mutated) !== undefined) accepted.push(mutated);
        }
      }
      expect(accepted).toEqual([]);
      expect(tried).toBe(stateProof.length * 255);
      // The mac's last character does have spare bits: those spellings decode to the same bytes.
      const mac = stateProof.split('.').pop()!;
      const sameBytes = Array.from(B64URL).filter((c) => c !== mac.at(-1) && Buffer.from(mac.slice(0, -1) + c, 'base64url').equals(Buffer.from(mac, 'base64url')));
      expect(sameBytes).toHaveLength(3);
    });

    it('refuses a sealed grace answer opened under another StateProof or with any byte changed', () => {
      const parts = codec.parse(stateProof)!;
      const sealed = codec.seal(parts, valid);
      expect(codec.open(parts, sealed)).toBe(valid);
      run(
        fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.string({ unit: 'binary', maxLength: 400 }), (position, value, junk) => {
          const index = position % sealed.length;
          const mutated = sealed.slice(0, index) + String.fromCharCode(value) + sealed.slice(index + 1);
          const decodedSame = Buffer.from(mutated, 'base64url').equals(Buffer.from(sealed, 'base64url'));
          expect(codec.open(parts, mutated) === valid).toBe(decodedSame);
          expect(codec.open({ ...parts, generation: parts.generation + 1 }, sealed)).toBeUndefined();
          expect(() => codec.open(parts, junk)).not.toThrow();
        }),
        500,
      );
    });
  });
});
