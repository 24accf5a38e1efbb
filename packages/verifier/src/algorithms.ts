import { constants, type KeyObject, type SignKeyObjectInput, type VerifyKeyObjectInput } from 'node:crypto';

/** JTS.md: asymmetric algorithms only; HS* and `none` are forbidden. */
export const JTS_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export type JtsAlgorithm = (typeof JTS_ALGORITHMS)[number];

export function isJtsAlgorithm(value: unknown): value is JtsAlgorithm {
  return typeof value === 'string' && (JTS_ALGORITHMS as readonly string[]).includes(value);
}

interface AlgorithmSpec {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly family: 'EC' | 'RSA' | 'RSA-PSS';
  /** Named curve (EC) as node reports it in `asymmetricKeyDetails.namedCurve`. */
  readonly curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** Exact length of an IEEE P1363 signature (EC), so a truncated or padded one is refused early. */
  readonly signatureLength?: number;
}

const SPECS: Record<JtsAlgorithm, AlgorithmSpec> = {
  ES256: { hash: 'sha256', family: 'EC', curve: 'prime256v1', signatureLength: 64 },
  ES384: { hash: 'sha384', family: 'EC', curve: 'secp384r1', signatureLength: 96 },
  ES512: { hash: 'sha512', family: 'EC', curve: 'secp521r1', signatureLength: 132 },
  RS256: { hash: 'sha256', family: 'RSA' },
  RS384: { hash: 'sha384', family: 'RSA' },
  RS512: { hash: 'sha512', family: 'RSA' },
  PS256: { hash: 'sha256', family: 'RSA-PSS' },
  PS384: { hash: 'sha384', family: 'RSA-PSS' },
  PS512: { hash: 'sha512', family: 'RSA-PSS' },
};

export const MIN_RSA_BITS = 2048;

export function algorithmSpec(alg: JtsAlgorithm): AlgorithmSpec {
  return SPECS[alg];
}

/** Throws (at start-up, never per request) when a key cannot be used with `alg`. */
export function assertKeyFitsAlgorithm(alg: JtsAlgorithm, key: KeyObject): void {
  const spec = SPECS[alg];
  const details = key.asymmetricKeyDetails;
  if (spec.family === 'EC') {
    if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== spec.curve) {
      throw new Error(`${alg} needs an EC key on curve ${String(spec.curve)}, got ${describeKey(key)}`);
    }
    return;
  }
  // Plain RSA keys serve RS* and PS* alike (RFC 7518 §3.5). RSA-PSS-only keys are refused: they
  // cannot be published as a JWK.
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${alg} needs an RSA key, got ${describeKey(key)}`);
  if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new Error(`${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits, got ${details?.modulusLength ?? 0}`);
  }
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? key.type}${curve ? ` (${curve})` : ''}`;
}

/** node:crypto options that make `sign`/`verify` produce and accept JWS signatures for `alg`. */
export function cryptoKeyInput(alg: JtsAlgorithm, key: KeyObject): SignKeyObjectInput & VerifyKeyObjectInput {
  const spec = SPECS[alg];
  switch (spec.family) {
    case 'EC':
      return { key, dsaEncoding: 'ieee-p1363' };
    case 'RSA':
      return { key, padding: constants.RSA_PKCS1_PADDING };
    case 'RSA-PSS':
      // RFC 7518 §3.5: the salt is as long as the hash output.
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hashLength(spec.hash) };
  }
}

function hashLength(hash: AlgorithmSpec['hash']): number {
  return { sha256: 32, sha384: 48, sha512: 64 }[hash];
}
