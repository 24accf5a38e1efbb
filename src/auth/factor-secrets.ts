import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { hashToken, newToken } from './challenge-secrets.js';
import type { ClientContext } from './client-info.js';
import { Secret } from 'otpauth';

/**
 * The secrets of second factors and how they are kept:
 *
 * - A TOTP secret must be readable again to check codes, so it is sealed, not hashed: AES-256-GCM
 *   under the factor key, a random 96-bit IV per seal, the user id as additional data (a sealed
 *   secret copied to another account's row does not open there). Stored as `v1.<iv>.<ct>.<tag>`.
 * - The factor key is derived with HKDF-SHA-256 (RFC 5869) from the StateProof secret under its own
 *   `info` label: no new secret to provision, and it is unrelated to every other key derived from
 *   that secret. Rotating the StateProof secret therefore makes every stored TOTP secret unreadable:
 *   those factors stop accepting codes and their owners sign in with a recovery code and enrol
 *   again (README, "Second factor (TOTP)").
 * - A recovery code is 80 random bits (16 base32 characters, shown in groups of four); SHA-256 of
 *   its normalised form is stored. At that size an unkeyed hash is safe, and recovery codes keep
 *   working after a key rotation.
 * - An MFA ticket is a link-token-sized secret (256 bits), stored as its SHA-256.
 */
export function deriveFactorKey(stateProofSecret: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', stateProofSecret, Buffer.alloc(0), 'jts-mfa-totp-secret/v1', 32));
}

const SEAL_VERSION = 'v1';

/** Seals `plaintext` for `userId` (AES-256-GCM, see above). */
export function seal(key: Buffer, userId: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(userId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [SEAL_VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Opens a seal; undefined when it was made under another key, for another user, or tampered with. */
export function unseal(key: Buffer, userId: string, sealed: string): string | undefined {
  const [version, iv, ciphertext, tag] = sealed.split('.');
  if (version !== SEAL_VERSION || iv === undefined || ciphertext === undefined || tag === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(userId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** How many recovery codes a confirmed factor gets. */
export const RECOVERY_CODE_COUNT = 10;

/**
 * A recovery code: 80 random bits as 16 RFC 4648 base32 characters (no 0, 1, 8, 9 to misread) in
 * four groups, e.g. `K7QD-M2XA-P4ZR-T5WB`. otpauth's Secret draws the bytes (node:crypto) and encodes.
 */
export function newRecoveryCode(): string {
  const base32 = new Secret({ size: 10 }).base32;
  return base32.match(/.{4}/g)?.join('-') ?? base32;
}

/** A recovery code as typed: case, spaces and dashes do not matter. */
export const RECOVERY_CODE_PATTERN = /^[A-Za-z2-7][A-Za-z2-7 -]{14,30}$/;

/** Hex SHA-256 of the normalised code (upper case, no separators). */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.replace(/[\s-]/g, '').toUpperCase()).digest('hex');
}

/** A new MFA ticket and the hash that is stored. */
export function newTicket(): { ticket: string; ticketHash: string } {
  const ticket = newToken();
  return { ticket, ticketHash: hashToken(ticket) };
}

/**
 * What a ticket is bound to besides its account: the client's device id (X-JTS-Device-ID) and
 * User-Agent. Not the address: a phone changes networks between typing a password and a code.
 */
export function clientBinding(client: Pick<ClientContext, 'deviceId' | 'userAgent'>): string {
  return createHash('sha256')
    .update(JSON.stringify([client.deviceId ?? null, client.userAgent ?? null]))
    .digest('hex');
}
