import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Service-client secrets. A secret is 32 bytes (256 bits) from the CSPRNG, base64url-encoded
 * (43 characters), generated here and never chosen by a person. Only its SHA-256 is stored.
 *
 * Why a fast hash and not bcrypt/scrypt: slow hashes exist to make guessing low-entropy
 * passwords expensive after a database leak. A 256-bit random secret cannot be guessed whatever
 * the hash costs, and SHA-256 is preimage-resistant, so a leaked hash gives nothing usable —
 * while every token request stays a microsecond of CPU instead of 100 ms on the hashing pool
 * (the same reasoning as Lucia's session ids and GitHub's token storage). This holds only
 * because the secret is random: nothing may ever store a human-chosen secret this way.
 */
export const CLIENT_SECRET_BYTES = 32;

/** A fresh secret, to be shown once and then forgotten. */
export function generateClientSecret(): string {
  return randomBytes(CLIENT_SECRET_BYTES).toString('base64url');
}

/** What the clients table stores for a secret: base64url(SHA-256(secret)), 43 characters. */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/**
 * Whether `presented` is the secret behind `storedHash`, in time that depends on neither
 * (`timingSafeEqual` on two 32-byte digests): a presented value of any shape is hashed and
 * compared, so its answer takes as long as any other.
 */
export function secretMatches(presented: string, storedHash: string): boolean {
  const digest = createHash('sha256').update(presented, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'base64url');
  return stored.length === digest.length && timingSafeEqual(digest, stored);
}
