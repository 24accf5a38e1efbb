import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/** Authenticator data flags (WebAuthn §6.1): user present, user verified, backup eligible/state, attested credential data. */
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

/** One credential as the authenticator holds it; copyable to make a clone. */
export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  rpId: string;
  userHandle: Buffer;
  signCount: number;
}

/** What a ceremony may bend, to produce the answers a hostile or broken client sends. */
export interface Tamper {
  origin?: string;
  /** Hashed into authenticator data instead of the real RP ID. */
  rpId?: string;
  challenge?: string;
  userVerified?: boolean;
  /** Sent as the assertion's user handle instead of the credential's. */
  userHandle?: Buffer | null;
  /** The counter to sign instead of the next one. */
  signCount?: number;
  type?: string;
}

/**
 * A software WebAuthn authenticator for jest: real P-256 keys (node:crypto), real CBOR
 * (attestation objects, COSE keys), real clientDataJSON and ES256 signatures, so the server's
 * verification runs exactly as for a browser. `none` attestation, a counter per credential that
 * grows by one per assertion (like most security keys), user verification on by default.
 */
export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  constructor(readonly origin: string) {}

  /** navigator.credentials.create() with the server's options, as startRegistration() serialises it. */
  create(options: PublicKeyCredentialCreationOptionsJSON, tamper: Tamper = {}): RegistrationResponseJSON {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: SoftCredential = { id: randomBytes(32), privateKey, publicKey, rpId: options.rp.id ?? '', userHandle: Buffer.from(options.user.id, 'base64url'), signCount: 0 };
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, credential.id, Buffer.from(isoCBOR.encode(cose))]);
    const authData = Buffer.concat([this.authDataHead(tamper.rpId ?? credential.rpId, AT | this.flags(tamper), tamper.signCount ?? 0), attested]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    this.credentials.push(credential);
    return {
      id: credential.id.toString('base64url'),
      rawId: credential.id.toString('base64url'),
      type: 'public-key',
      response: { clientDataJSON: this.clientData('webauthn.create', options.challenge, tamper), attestationObject: Buffer.from(attestationObject).toString('base64url'), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(): signs with `credential` (default: the first allowed one, else the newest). */
  get(options: PublicKeyCredentialRequestOptionsJSON, credential?: SoftCredential, tamper: Tamper = {}): AuthenticationResponseJSON {
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [];
    const chosen = credential ?? this.credentials.find((c) => allowed.includes(c.id.toString('base64url'))) ?? this.credentials.at(-1);
    if (!chosen) throw new Error('this authenticator holds no credential');
    if (tamper.signCount === undefined) chosen.signCount += 1;
    const authData = this.authDataHead(tamper.rpId ?? chosen.rpId, this.flags(tamper), tamper.signCount ?? chosen.signCount);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, tamper);
    const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(Buffer.from(clientDataJSON, 'base64url')).digest()]), chosen.privateKey);
    const userHandle = tamper.userHandle === undefined ? chosen.userHandle : tamper.userHandle;
    return {
      id: chosen.id.toString('base64url'),
      rawId: chosen.id.toString('base64url'),
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(userHandle === null ? {} : { userHandle: userHandle.toString('base64url') }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** Another authenticator holding a copy of `credential` with its counter as it is now (a clone). */
  cloneOf(credential: SoftCredential): SoftCredential {
    return { ...credential };
  }

  private flags(tamper: Tamper): number {
    return UP | (tamper.userVerified === false ? 0 : UV) | BE | BS;
  }

  private authDataHead(rpId: string, flags: number, signCount: number): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(signCount);
    return Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([flags]), counter]);
  }

  private clientData(type: string, challenge: string, tamper: Tamper): string {
    return Buffer.from(JSON.stringify({ type: tamper.type ?? type, challenge: tamper.challenge ?? challenge, origin: tamper.origin ?? this.origin, crossOrigin: false })).toString('base64url');
  }
}
