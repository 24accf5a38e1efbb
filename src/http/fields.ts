import { z } from 'zod';
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH } from '../users/password.js';

/**
 * The user fields clients and operators send, each defined once: the request bodies (body.ts)
 * parse with them, the OpenAPI request schemas are generated from them, the per-account rate
 * limit and the user CLI apply the same limits, so a user the CLI creates can always log in.
 * Messages are the predicate of a sentence whose subject, the field's name, is added by whoever
 * reports the problem (body.ts: "`email` is required"; the CLI: "--email …: must be …"). A field
 * that is missing "is required", one of the wrong JSON type "must be a string", an empty or blank
 * one "must not be empty": the three are told apart (README, "API conventions").
 */

/** RFC 5321 §4.5.3.1.3: the longest path an address can have (256 octets less the brackets). */
export const EMAIL_MAX_LENGTH = 254;
/** Any password presented is at most this long before it is looked at (login, password change). */
export const PASSWORD_MAX_LENGTH = 1024;
export const NAME_MAX_LENGTH = 100;
export const PERMISSION_MAX_LENGTH = 128;
export const DEVICE_ID_MAX_LENGTH = 128;

const string = () => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

/**
 * Trimmed, at most 254 characters, then checked as an address. The check is zod's email format
 * after the trim; the document describes the value as sent (the pipe's input), so the format is
 * stated here rather than with zod's pattern, which untrimmed input need not match.
 */
export const email = string()
  .trim()
  .min(1, 'must not be empty')
  .max(EMAIL_MAX_LENGTH, `must be at most ${EMAIL_MAX_LENGTH} characters`)
  .pipe(z.email({ error: 'must be an email address' }))
  .meta({ format: 'email' });

export const password = string().min(1, 'must not be empty').max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

/**
 * A password being set (registration, password change). The body takes any `password`; the
 * policy of users/password.ts, which the auth server applies next, is what the document states.
 */
export const newPassword = password.meta({
  minLength: MIN_PASSWORD_LENGTH,
  description: `${MIN_PASSWORD_LENGTH} characters to ${MAX_PASSWORD_BYTES} bytes of UTF-8, no NUL, counted after Unicode NFKC normalisation (which is also what is hashed).`,
});

export const name = string().trim().min(1, 'must not be empty').max(NAME_MAX_LENGTH, `must be at most ${NAME_MAX_LENGTH} characters`);

/** Commas separate permissions on the command line, and whitespace would be invisible in listings. */
export const permission = z.string().regex(new RegExp(`^[^\\s,]{1,${PERMISSION_MAX_LENGTH}}$`), `must be 1 to ${PERMISSION_MAX_LENGTH} characters without spaces or commas`);

/** The most permissions one account holds; duplicates are dropped by the service. */
export const PERMISSIONS_MAX_COUNT = 100;
export const permissions = z.array(permission, { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array of strings') }).max(PERMISSIONS_MAX_COUNT, `must hold at most ${PERMISSIONS_MAX_COUNT} permissions`);

/** A link token as presented: its shape is checked by the auth layer, which answers `token_invalid`. */
export const token = string().min(1, 'required').max(256, 'must be at most 256 characters');

/** Digits of a sign-in code (auth/email-challenges.ts CODE_DIGITS). */
export const CODE_LENGTH = 6;
export const code = string().regex(new RegExp(`^[0-9]{${CODE_LENGTH}}$`), `must be ${CODE_LENGTH} digits`);
/** A recovery code as printed (auth/factor-secrets.ts): 16 base32 characters, dashes and spaces ignored. */
export const recoveryCode = string().max(40, 'must be at most 40 characters').regex(/^[A-Za-z2-7][A-Za-z2-7 -]*$/, 'must be 16 letters and digits 2–7 (dashes allowed)');

/**
 * X-JTS-Device-ID: printable ASCII without spaces. Requests are checked with the pattern itself
 * (a regex test, no parse result to allocate); the schema is for the document.
 */
export const DEVICE_ID_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${DEVICE_ID_MAX_LENGTH}}$`);
export const deviceId = z.string().max(DEVICE_ID_MAX_LENGTH).regex(DEVICE_ID_PATTERN);
