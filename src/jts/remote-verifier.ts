import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import { assertKeyFitsAlgorithm, isJtsAlgorithm } from './algorithms.js';
import { decodeSegment } from './bearer-pass/decode.js';
import { createBearerPassVerifier, type VerifyResult } from './bearer-pass/verify.js';
import { seconds, systemClock, type Clock } from './clock.js';
import { JtsError } from './errors.js';
import type { PublishedJwk, RingKey } from './key-ring.js';

/** A JWKS is a few keys; anything far larger is not one. */
const MAX_JWKS_BYTES = 256 * 1024;

export interface VerifierOptions {
  /** The issuer's JWKS, e.g. https://auth.example.com/.well-known/jts-jwks. */
  jwksUrl?: string | URL;
  /** Or a fixed key set (no fetching). */
  keys?: readonly JWK[];
  audience?: string;
  issuer?: string;
  clockSkewSeconds?: number;
  /** Keys are refetched after this long even when every kid is known (default 10 min). */
  cacheMaxAgeMs?: number;
  /** At most one refetch per this interval when an unknown kid shows up (default 30 s). */
  unknownKidCooldownMs?: number;
  clock?: Clock;
  fetch?: typeof fetch;
}

export interface Verifier {
  /** Never throws for a bad token: the result says why. */
  verify(token: unknown): Promise<VerifyResult>;
}

/**
 * BearerPass verification for services other than the auth server: they know only the JWKS URL.
 * Same rules as the server's own check, minus revocation: such a service cannot know that a
 * session was ended before its BearerPass expires (that is why BearerPasses are short-lived).
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (!options.jwksUrl === !options.keys) throw new Error('createVerifier needs exactly one of jwksUrl or keys');
  const clock = options.clock ?? systemClock;
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? 600_000;
  const cooldownMs = options.unknownKidCooldownMs ?? 30_000;
  const doFetch = options.fetch ?? fetch;

  let keys = new Map<string, RingKey>(options.keys ? toRingKeys(options.keys, seconds(clock.now())) : []);
  let fetchedAt = options.keys ? Infinity : -Infinity;
  let lastAttempt = -Infinity;
  let inFlight: Promise<void> | undefined;

  const verifyWith = createBearerPassVerifier({
    keyFor: (kid) => keys.get(kid),
    clock,
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.clockSkewSeconds === undefined ? {} : { clockSkewSeconds: options.clockSkewSeconds }),
  });

  async function refresh(): Promise<void> {
    if (!options.jwksUrl) return;
    // Concurrent requests share one fetch.
    inFlight ??= (async () => {
      lastAttempt = clock.now();
      try {
        const response = await doFetch(options.jwksUrl as string | URL, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(5000) });
        if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
        const text = await response.text();
        if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS is too large');
        const body = JSON.parse(text) as { keys?: unknown };
        if (!Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
        const fresh = new Map(toRingKeys(body.keys as PublishedJwk[], seconds(clock.now())));
        // An empty or unusable answer never wipes out keys that work.
        if (fresh.size === 0 && keys.size > 0) throw new Error('JWKS has no usable key');
        keys = fresh;
        fetchedAt = clock.now();
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return {
    async verify(token) {
      const now = clock.now();
      // Every refetch, whatever its reason, waits out the cooldown: no token can make this
      // service hammer the issuer, even while the issuer is down.
      const mayFetch = options.jwksUrl !== undefined && now - lastAttempt >= cooldownMs;
      if (mayFetch) {
        const kid = peekKid(token);
        const unknown = kid !== undefined && !keys.has(kid);
        if (keys.size === 0 || unknown) {
          try {
            await refresh();
          } catch (error) {
            // With no key at all the failure is ours, not the token's.
            if (keys.size === 0) return { ok: false, error: new JtsError('JTS-500-01', { cause: error }) };
          }
        } else if (now - fetchedAt > cacheMaxAgeMs) {
          // Stale but usable: refresh in the background, answer from the cache now.
          refresh().catch(() => undefined);
        }
      } else if (keys.size === 0) {
        return { ok: false, error: new JtsError('JTS-500-01') };
      }
      const notYetKnown = keyNotYetKnown(token, clock.now());
      return notYetKnown ?? verifyWith(token);
    },
  };

  /**
   * An unknown `kid` is a forged or foreign token (JTS-401-02, sign in again) only when the key
   * set this service holds was fetched after the token was issued: then the issuer did not have
   * that key. A token newer than our key set may be signed with a key published since, which the
   * cooldown keeps us from fetching yet; telling its client to sign in again would be wrong, so it
   * gets JTS-500-01 (retry) with the seconds until the next fetch is allowed. The token is still
   * never accepted before its key is fetched and its signature checked.
   */
  function keyNotYetKnown(token: unknown, now: number): VerifyResult | undefined {
    if (options.jwksUrl === undefined) return undefined;
    const kid = peekKid(token);
    if (kid === undefined || keys.has(kid)) return undefined;
    const issuedAt = peekIssuedAt(token);
    // The claim is unverified: a token "issued" in the future is not a new key's, it is forged
    // (JTS-401-02), so no one can make this verifier answer 5xx by putting a far `iat` in a token.
    if (issuedAt === undefined || issuedAt > seconds(now) + (options.clockSkewSeconds ?? 5)) return undefined;
    if (fetchedAt >= issuedAt * 1000) return undefined;
    const retryAfter = Math.max(1, Math.ceil((lastAttempt + cooldownMs - now) / 1000));
    return { ok: false, error: new JtsError('JTS-500-01', { message: 'The key set does not hold this key id yet; retry shortly.', retryAfter }) };
  }
}

function toRingKeys(jwks: readonly PublishedJwk[], nowSeconds: number): [string, RingKey][] {
  const out: [string, RingKey][] = [];
  for (const jwk of jwks) {
    // Keys without a kid or a JTS algorithm cannot be selected safely; retired keys are not used.
    if (typeof jwk.kid !== 'string' || !isJtsAlgorithm(jwk.alg) || jwk.use === 'enc') continue;
    if (typeof jwk.exp === 'number' && jwk.exp <= nowSeconds) continue;
    try {
      const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e } as import('node:crypto').JsonWebKey, format: 'jwk' });
      assertKeyFitsAlgorithm(jwk.alg, publicKey);
      out.push([jwk.kid, { kid: jwk.kid, alg: jwk.alg, publicKey, privateKey: undefined, jwk }]);
    } catch {
      continue;
    }
  }
  return out;
}

/** `iat` of a token's payload, unverified: only ever used to choose between two refusals. */
function peekIssuedAt(token: unknown): number | undefined {
  if (typeof token !== 'string') return undefined;
  const iat = decodeSegment(token.split('.')[1] ?? '')?.iat;
  return typeof iat === 'number' && Number.isFinite(iat) ? iat : undefined;
}

function peekKid(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 2048) return undefined;
  const kid = decodeSegment(token.slice(0, dot))?.kid;
  return typeof kid === 'string' ? kid : undefined;
}
