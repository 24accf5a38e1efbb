import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import type { PublishedJwk, VerificationKey } from '@jts-auth/verifier';
import { assertKeyFitsAlgorithm, type JtsAlgorithm } from './algorithms.js';

export type { PublishedJwk };

/** A verification key (and, for the active signer, its private half), parsed once at start-up. */
export interface RingKey extends VerificationKey {
  readonly privateKey: KeyObject | undefined;
  /** Public JWK as published in the JWKS: never carries private members. */
  readonly jwk: Readonly<PublishedJwk>;
}

export interface KeyInput {
  alg: JtsAlgorithm;
  /** Public key, or a private key from which the public half is derived. */
  publicKey?: KeyObject;
  privateKey?: KeyObject;
  /** Unix seconds after which a retiring key is no longer published (JTS.md, key rotation). */
  expiresAt?: number;
}

/**
 * Builds a ring key. The `kid` is the RFC 7638 thumbprint of the public key, so every instance
 * that loads the same key file publishes and expects the same `kid` without sharing metadata.
 */
export async function createRingKey(input: KeyInput): Promise<RingKey> {
  const publicKey = input.publicKey ?? (input.privateKey ? createPublicKey(input.privateKey) : undefined);
  if (!publicKey) throw new Error('a key needs a public or a private half');
  if (publicKey.type !== 'public') throw new Error('publicKey must be a public key');
  if (input.privateKey && input.privateKey.type !== 'private') throw new Error('privateKey must be a private key');
  assertKeyFitsAlgorithm(input.alg, publicKey);
  if (input.privateKey) {
    const derived = createPublicKey(input.privateKey).export({ format: 'der', type: 'spki' });
    if (!derived.equals(publicKey.export({ format: 'der', type: 'spki' }))) {
      throw new Error('the private key does not belong to the public key');
    }
  }
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported, 'sha256');
  const jwk: PublishedJwk = { ...publicOnly(exported), kid, alg: input.alg, use: 'sig' };
  if (input.expiresAt !== undefined) jwk.exp = input.expiresAt;
  return Object.freeze({ kid, alg: input.alg, publicKey, privateKey: input.privateKey, jwk: Object.freeze(jwk) });
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

function publicOnly(jwk: JWK): JWK {
  const out: JWK = {};
  for (const name of PUBLIC_MEMBERS) if (jwk[name] !== undefined) out[name] = jwk[name];
  return out;
}

/** Several published keys, exactly one of which signs new BearerPasses. */
export class KeyRing {
  private readonly byKid: ReadonlyMap<string, RingKey>;
  readonly signer: RingKey & { readonly privateKey: KeyObject };

  constructor(keys: readonly RingKey[], signerKid: string) {
    const map = new Map<string, RingKey>();
    for (const key of keys) {
      if (map.has(key.kid)) throw new Error(`key ${key.kid} is listed twice`);
      map.set(key.kid, key);
    }
    const signer = map.get(signerKid);
    if (!signer?.privateKey) throw new Error(`the signing key ${signerKid} is missing or has no private half`);
    this.byKid = map;
    this.signer = signer as RingKey & { privateKey: KeyObject };
  }

  /** The first key is the signer. */
  static async from(inputs: readonly KeyInput[]): Promise<KeyRing> {
    const keys = await Promise.all(inputs.map((input) => createRingKey(input)));
    const first = keys[0];
    if (!first) throw new Error('the key ring needs at least one key');
    return new KeyRing(keys, first.kid);
  }

  get(kid: string): RingKey | undefined {
    return this.byKid.get(kid);
  }

  get size(): number {
    return this.byKid.size;
  }

  /** The JWKS document: public members only, the signer first. */
  jwks(): { keys: PublishedJwk[] } {
    const rest = [...this.byKid.values()].filter((key) => key !== this.signer);
    return { keys: [this.signer, ...rest].map((key) => ({ ...key.jwk })) };
  }
}
