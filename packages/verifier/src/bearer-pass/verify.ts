import { verify as verifySignature } from 'node:crypto';
import { algorithmSpec, cryptoKeyInput, isJtsAlgorithm } from '../algorithms.js';
import { isCanonicalBase64url } from '../base64url.js';
import type { Clock } from '../clock.js';
import { seconds } from '../clock.js';
import { JtsError, type JtsCode } from '../errors.js';
import type { VerificationKey } from '../keys.js';
import { effectiveGrace, findBadClaim, JTS_TYP, type BearerPassClaims, type BearerPassHeader } from './claims.js';
import { decodeSegment } from './decode.js';

export interface BearerPassVerifierOptions {
  /** Finds a verification key by `kid`; undefined means the kid is unknown (a forged or foreign token). */
  keyFor: (kid: string) => VerificationKey | undefined;
  clock: Clock;
  /** When set, `aud` must contain it. */
  audience?: string;
  /** When set, `iss` must equal it. */
  issuer?: string;
  /** Allowance for clocks that disagree a little. */
  clockSkewSeconds?: number;
  /**
   * How many accepted tokens to remember (default 10,000; 0 turns this off). A remembered token
   * skips decoding and the signature check — pure functions of its exact bytes, its key and the
   * options above — but every call still re-runs the time checks and requires `keyFor` to return
   * the very key that verified it. Only accepted tokens are remembered: anything else pays the
   * full price every time. Oldest first out.
   */
  cacheSize?: number;
}

export type VerifyResult =
  | { ok: true; header: BearerPassHeader; payload: BearerPassClaims; key: VerificationKey }
  | { ok: false; error: JtsError };

export type BearerPassVerifier = (token: unknown) => VerifyResult;

/** Far above any real BearerPass; refuses absurd inputs before any decoding. */
const MAX_TOKEN_LENGTH = 8192;
/** JTS.md: never honoured. `crit` names extensions we do not understand, so its presence is a refusal (RFC 7515 §4.1.11). */
const REFUSED_HEADERS = ['crit'];
const DEFAULT_SKEW_SECONDS = 5;
/** ~1 KB each (the token string and its frozen claims): about 10 MB at most. */
const DEFAULT_CACHE_SIZE = 10_000;

type Accepted = Extract<VerifyResult, { ok: true }>;

const fail = (code: JtsCode, message?: string): VerifyResult => ({ ok: false, error: new JtsError(code, message === undefined ? {} : { message }) });

/**
 * Verifies a compact BearerPass by the rules of JTS.md, stricter than plain JWT:
 * the key is chosen by `kid` and the algorithm is the one recorded for that key, never the
 * header's alone; `jku`, `x5u`, `jwk` and friends are ignored; `typ` must be JTS-S/v1.
 *
 * Runs node:crypto's synchronous verify with a cached `KeyObject`: ~0.1 ms for ES256, cheaper
 * than a hop to the libuv pool, which bcrypt may be saturating during a login burst. A client
 * presents the same BearerPass on every request for its whole life, so accepted tokens are
 * remembered (see `cacheSize`): a repeat costs a map lookup and the time checks.
 */
export function createBearerPassVerifier(options: BearerPassVerifierOptions): BearerPassVerifier {
  const { keyFor, clock, audience, issuer } = options;
  const skew = options.clockSkewSeconds ?? DEFAULT_SKEW_SECONDS;
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const accepted = new Map<string, Accepted>();

  /** The checks that depend on the time of the call, never remembered. */
  function checkTimes(result: Accepted): VerifyResult {
    const { payload } = result;
    const now = seconds(clock.now());
    if (payload.iat > now + skew) return fail('JTS-400-02', 'The token was issued in the future.');
    if (now > payload.exp + effectiveGrace(payload) + skew) return fail('JTS-401-01');
    return result;
  }

  return function verifyBearerPass(token) {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      return fail('JTS-400-01');
    }
    const known = accepted.get(token);
    if (known !== undefined) {
      // The ring may have dropped or replaced the key since: then the token is checked afresh.
      if (keyFor(known.key.kid) === known.key) {
        const result = checkTimes(known);
        if (!result.ok) accepted.delete(token);
        return result;
      }
      accepted.delete(token);
    }
    const parts = token.split('.');
    if (parts.length !== 3) return fail('JTS-400-01');
    const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
    // One spelling per token: services that block a token by its text rely on it (RFC 4648 §3.5).
    if (!isCanonicalBase64url(encodedHeader) || !isCanonicalBase64url(encodedPayload)) return fail('JTS-400-01');
    if (!isCanonicalBase64url(encodedSignature)) return fail('JTS-401-02', 'The BearerPass carries no valid signature.');

    const header = decodeSegment(encodedHeader);
    if (!header) return fail('JTS-400-01');
    if (header.typ !== JTS_TYP) return fail('JTS-400-01', `The token type must be ${JTS_TYP}.`);
    if (typeof header.kid !== 'string' || header.kid.length === 0) return fail('JTS-400-01', 'The token has no key id.');
    if (REFUSED_HEADERS.some((name) => name in header)) return fail('JTS-400-01', 'The token uses unsupported header parameters.');

    const key = keyFor(header.kid);
    if (!key) return fail('JTS-401-02', 'The token was signed by an unknown key.');
    // The key decides the algorithm; a header that disagrees (none, HS256, RS256 on an EC key…) is a forgery.
    if (!isJtsAlgorithm(header.alg) || header.alg !== key.alg) return fail('JTS-401-02', 'The token algorithm does not match its key.');

    const { hash, signatureLength } = algorithmSpec(key.alg);
    const signature = Buffer.from(encodedSignature, 'base64url');
    if (signatureLength !== undefined && signature.length !== signatureLength) return fail('JTS-401-02');
    const valid = verifySignature(hash, Buffer.from(`${encodedHeader}.${encodedPayload}`), cryptoKeyInput(key.alg, key.publicKey), signature);
    if (!valid) return fail('JTS-401-02');

    const payload = decodeSegment(encodedPayload);
    if (!payload) return fail('JTS-400-01');
    const badClaim = findBadClaim(payload);
    if (badClaim !== undefined) return fail('JTS-400-02', `The claim "${badClaim}" is missing or has the wrong type.`);
    const claims = payload as unknown as BearerPassClaims;

    if (issuer !== undefined && claims.iss !== issuer) return fail('JTS-401-02', 'The token was issued by someone else.');
    if (audience !== undefined && !hasAudience(claims.aud, audience)) return fail('JTS-403-01');

    // Frozen: a remembered result is shared by every request that presents this token.
    const result: Accepted = Object.freeze({ ok: true, header: Object.freeze({ alg: key.alg, typ: JTS_TYP, kid: key.kid }), payload: deepFreeze(claims), key });
    const timed = checkTimes(result);
    if (timed.ok && cacheSize > 0) {
      if (accepted.size >= cacheSize) accepted.delete(accepted.keys().next().value as string);
      accepted.set(token, result);
    }
    return timed;
  };
}

function deepFreeze<T extends object>(value: T): T {
  for (const member of Object.values(value)) if (typeof member === 'object' && member !== null) deepFreeze(member as object);
  return Object.freeze(value);
}

function hasAudience(aud: BearerPassClaims['aud'], expected: string): boolean {
  return Array.isArray(aud) ? aud.includes(expected) : aud === expected;
}
