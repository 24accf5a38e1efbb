import { createHash } from 'node:crypto';
import type { PasskeyRefusal } from './audit.js';

/**
 * The checks of a WebAuthn answer that passkeys.ts makes itself before the library's (WebAuthn
 * §7.1 and §7.2): they give each refusal its reason. Pure functions over the answer's bytes.
 */

/** What a refused ceremony answers and audits (passkeys.ts turns it into an AuthError). */
export class Refusal extends Error {
  constructor(
    readonly code: 'passkey_rejected' | 'passkey_challenge_invalid' | 'passkey_unknown',
    readonly reason: PasskeyRefusal,
    readonly prn?: string,
  ) {
    super(reason);
  }
}

/** What clientDataJSON says that we judge: the challenge it signed and the page's origin. */
export interface ClientData {
  challenge: string;
  origin: string;
}

/** clientDataJSON (base64url) decoded; its `type` must be the ceremony's (§7.1 step 7, §7.2 step 11). */
export function clientDataOf(encoded: string, type: 'webauthn.create' | 'webauthn.get'): ClientData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new Refusal('passkey_rejected', 'malformed');
  }
  const data = parsed as { type?: unknown; challenge?: unknown; origin?: unknown };
  if (typeof data.challenge !== 'string' || data.type !== type) throw new Refusal('passkey_rejected', 'malformed');
  return { challenge: data.challenge, origin: typeof data.origin === 'string' ? data.origin : '' };
}

/** The authenticator data's rpIdHash must be SHA-256 of our RP ID (§7.2 step 15): a key made for another site is refused. */
export function assertRpId(rpId: string, authData: { rpIdHash: Uint8Array }): void {
  const expected = createHash('sha256').update(rpId).digest();
  if (!expected.equals(Buffer.from(authData.rpIdHash))) throw new Refusal('passkey_rejected', 'rp_id');
}

/** A CBOR structure parsed by the library; garbage is a `malformed` refusal, not a 500. */
export function decoded<T>(parse: () => T): T {
  try {
    return parse();
  } catch {
    throw new Refusal('passkey_rejected', 'malformed');
  }
}

/** Hex SHA-256 of a challenge's base64url form: what the store keeps. */
export function hashChallenge(challenge: string): string {
  return createHash('sha256').update(challenge).digest('hex');
}
