import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { randomBase64url, randomBuffer } from './random.js';
import { isCanonicalBase64url } from './base64url.js';

/**
 * StateProof format (JTS.md leaves it opaque; this is ours):
 *
 *     sp1.<prn>.<aid>.<generation>.<mac>      mac = HMAC-SHA256(secret, "sp1|prn|aid|generation")
 *
 * - The store keeps only the session's current generation, never a StateProof (invariant 5):
 *   without the server secret nothing read from Redis can be presented.
 * - Every StateProof the session ever had is recognisable forever, in constant storage
 *   (invariants 2 and 4): a valid mac with a generation below the current one is a replay.
 * - Forged or garbled values fail the mac check before any store round trip (invariant 6).
 * - `prn` is there because all of a user's keys share one Redis hash slot (see redis-keys.ts).
 */
export interface StateProofParts {
  prn: string;
  aid: string;
  generation: number;
}

const PREFIX = 'sp1';
const ID = '[A-Za-z0-9_-]{1,64}';
/** The shape of every id this server issues (users, sessions); anything else is not ours. */
export const ID_PATTERN = new RegExp(`^${ID}$`);
const FORMAT = new RegExp(`^${PREFIX}\\.(${ID})\\.(${ID})\\.([1-9][0-9]{0,14})\\.([A-Za-z0-9_-]{43})$`);
const MAX_LENGTH = 256;
export const MIN_SECRET_BYTES = 32;

export class StateProofCodec {
  private readonly macKey: Buffer;
  private readonly sealKey: Buffer;

  constructor(secret: Buffer) {
    if (secret.length < MIN_SECRET_BYTES) throw new Error(`the StateProof secret needs at least ${MIN_SECRET_BYTES} bytes`);
    // Separate keys per purpose, so a mac can never double as an encryption key.
    this.macKey = createHmac('sha256', secret).update('jts state-proof mac').digest();
    this.sealKey = createHmac('sha256', secret).update('jts grace seal').digest();
  }

  issue(parts: StateProofParts): string {
    return `${PREFIX}.${parts.prn}.${parts.aid}.${parts.generation}.${this.mac(parts).toString('base64url')}`;
  }

  /** Undefined for anything we did not issue. Costs one HMAC, no I/O. */
  parse(value: unknown): StateProofParts | undefined {
    if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined;
    const match = FORMAT.exec(value);
    if (!match) return undefined;
    const [, prn, aid, generation, mac] = match as unknown as [string, string, string, string, string];
    const parts = { prn, aid, generation: Number(generation) };
    const presented = Buffer.from(mac, 'base64url');
    const expected = this.mac(parts);
    // The 43rd character carries 2 unused bits; only the canonical spelling is accepted, so
    // one StateProof has exactly one string form.
    return isCanonicalBase64url(mac) && presented.length === expected.length && timingSafeEqual(presented, expected) ? parts : undefined;
  }

  /**
   * Encrypts the BearerPass handed out by a rotation, so that a second request with the same
   * (now consumed) StateProof inside the grace window gets the identical answer, while a reader
   * of the store learns nothing usable. The key is bound to the consumed StateProof's identity.
   */
  seal(consumed: StateProofParts, plaintext: string): string {
    const iv = randomBuffer(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKeyFor(consumed), iv);
    cipher.setAAD(Buffer.from(label(consumed)));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  open(consumed: StateProofParts, sealed: string): string | undefined {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKeyFor(consumed), raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(label(consumed)));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  private mac(parts: StateProofParts): Buffer {
    return createHmac('sha256', this.macKey).update(label(parts)).digest();
  }

  private sealKeyFor(parts: StateProofParts): Buffer {
    return createHmac('sha256', this.sealKey).update(label(parts)).digest();
  }
}

function label(parts: StateProofParts): string {
  return `${PREFIX}|${parts.prn}|${parts.aid}|${parts.generation}`;
}

/** Ids used in StateProofs, session keys and BearerPasses: 128 random bits, base64url. */
export function randomId(): string {
  return randomBase64url(16);
}
