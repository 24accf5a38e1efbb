import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto';

/**
 * The secrets of emailed challenges and their stored hashes. Only hashes reach the database:
 *
 * - A link token is 256 random bits (base64url, 43 characters); SHA-256 of it is stored. Guessing
 *   one is hopeless, so an unkeyed hash is enough and a leaked table yields no usable link.
 * - A code is a few decimal digits a person types; its space is tiny, so an unkeyed hash would be
 *   reversed by trying every code. It is stored as HMAC-SHA-256 under a server key (derived from
 *   the StateProof secret, see services.ts) over the challenge id and the code: a leaked table
 *   without the key reveals no code, and one code hashes differently in every challenge.
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Hex SHA-256 of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** `digits` decimal digits, uniformly drawn (leading zeros kept). */
export function newCode(digits: number): string {
  return randomInt(0, 10 ** digits)
    .toString()
    .padStart(digits, '0');
}

/** Hex HMAC-SHA-256 of `challengeId:code` under `key` (at least 32 bytes). */
export function hashCode(key: Buffer, challengeId: string, code: string): string {
  return createHmac('sha256', key).update(`${challengeId}:${code}`).digest('hex');
}

/** The code HMAC key, derived from the StateProof secret so every instance has the same one and no new secret needs managing. */
export function deriveCodeKey(stateProofSecret: Buffer): Buffer {
  return createHmac('sha256', stateProofSecret).update('jts-email-code/v1').digest();
}
