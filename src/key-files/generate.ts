import { generateKeyPair } from 'node:crypto';
import { algorithmSpec, type JtsAlgorithm } from '../jts/algorithms.js';

const CURVE_NAMES = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as const;

export interface PemKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

const ENCODING = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;

/** A fresh key pair for `alg`, as PKCS#8 / SPKI PEM. RSA keys default to 3072 bits. */
export function generatePemKeyPair(alg: JtsAlgorithm, rsaBits = 3072): Promise<PemKeyPair> {
  const spec = algorithmSpec(alg);
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKeyPem: string, privateKeyPem: string) => {
      if (error) reject(error);
      else resolve({ privateKeyPem, publicKeyPem });
    };
    if (spec.curve) generateKeyPair('ec', { namedCurve: CURVE_NAMES[spec.curve], ...ENCODING }, done);
    else generateKeyPair('rsa', { modulusLength: rsaBits, ...ENCODING }, done);
  });
}
