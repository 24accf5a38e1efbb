import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { assertKeyFitsAlgorithm, isJtsAlgorithm, type JtsAlgorithm } from './algorithms.js';

/** A public JWK with the optional `exp` a retiring key may carry (JTS.md, key rotation). */
export type PublishedJwk = JWK & { exp?: number };

/**
 * A key that verifies signatures: its id, the one algorithm it may be used with, and the parsed
 * public key (a `KeyObject`, parsed once, never per token). The auth server's signing keys extend it.
 */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: JtsAlgorithm;
  readonly publicKey: KeyObject;
}

/**
 * The usable keys of a JWKS: those with a `kid` and a JTS algorithm, meant for signatures, not
 * expired, and whose key material fits the algorithm. Anything else is skipped, never guessed at.
 */
export function keysFromJwks(jwks: readonly PublishedJwk[], nowSeconds: number): Map<string, VerificationKey> {
  const out = new Map<string, VerificationKey>();
  for (const jwk of jwks) {
    if (typeof jwk.kid !== 'string' || !isJtsAlgorithm(jwk.alg) || jwk.use === 'enc') continue;
    if (typeof jwk.exp === 'number' && jwk.exp <= nowSeconds) continue;
    try {
      const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, n: jwk.n, e: jwk.e } as JsonWebKey, format: 'jwk' });
      assertKeyFitsAlgorithm(jwk.alg, publicKey);
      out.set(jwk.kid, { kid: jwk.kid, alg: jwk.alg, publicKey });
    } catch {
      continue;
    }
  }
  return out;
}
