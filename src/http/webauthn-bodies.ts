import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';
import { name, token } from './fields.js';

/**
 * The WebAuthn members of request bodies: what @simplewebauthn/browser's startRegistration() and
 * startAuthentication() resolve to (WebAuthn Level 3 `toJSON()`), checked for shape only; every
 * byte string is base64url. The meaning (signature, challenge, origin) is auth/passkeys.ts's.
 */
const base64url = (max: number) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .max(max, `must be at most ${max} characters`)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');

/** WebAuthn §5.1.1: a credential id is at most 1023 bytes (1364 base64url characters). */
const object = { error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : 'must be an object') };

const credentialId = base64url(1364).min(1, 'must not be empty');
const extensions = z.record(z.string(), z.unknown()).default({});
const attachment = z.enum(['platform', 'cross-platform']).optional();

const assertionSchema = z.object(
  {
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key', { error: 'must be "public-key"' }),
  response: z.object({ clientDataJSON: base64url(4096), authenticatorData: base64url(4096), signature: base64url(1024), userHandle: base64url(128).optional() }, object),
  clientExtensionResults: extensions,
  authenticatorAttachment: attachment,
  },
  object,
);

const attestationSchema = z.object(
  {
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key', { error: 'must be "public-key"' }),
  response: z.object({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(8192),
    authenticatorData: base64url(4096).optional(),
    transports: z.array(z.string().max(32)).max(8).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(2048).optional(),
  }, object),
  clientExtensionResults: extensions,
  authenticatorAttachment: attachment,
  },
  object,
);

/** The parsed shape as the library types it (its extension outputs are an open record too). */
export const assertion = assertionSchema.transform((value) => value as AuthenticationResponseJSON);
const attestation = attestationSchema.transform((value) => value as RegistrationResponseJSON);

/** POST /jts/passkeys/register/verify: what startRegistration() gave, and the owner's name for it. */
export const passkeyRegisterBody = z.object({ credential: attestation, name: name.optional() });
/** POST /jts/passkeys/login/verify. */
export const passkeyLoginBody = z.object({ credential: assertion });
/** PATCH /jts/passkeys/:id. */
export const passkeyRenameBody = z.strictObject({ name });
/** POST /jts/mfa/webauthn/options: the ticket of a sign-in waiting at `mfa_required`. */
export const mfaWebAuthnOptionsBody = z.object({ mfa_ticket: token });
