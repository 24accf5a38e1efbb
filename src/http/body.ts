import type { Request } from 'express';
import { z } from 'zod';
import { code, email, name, newPassword, password, permissions, recoveryCode, token } from './fields.js';
import { HttpError } from './errors.js';
import { unparsedBodyError } from './json-content-type.js';
import { assertion } from './webauthn-bodies.js';

/**
 * Parses `req.body` with `schema`; a body sent without `Content-Type: application/json` is a 415,
 * any other problem a 400 naming the first bad field: "`email` is required", "`email` must be a
 * string", "`name` must not be empty" (the predicates come from fields.ts).
 */
export function parseBody<T extends z.ZodType>(req: Request, schema: T): z.infer<T> {
  const unparsed = unparsedBodyError(req);
  if (unparsed) throw unparsed;
  const result = schema.safeParse(req.body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  const message = field === '' ? bodyProblem(issue) : `\`${field}\` ${issue?.message ?? 'is not valid'}`;
  throw new HttpError('invalid_request', { message });
}

/** A problem of the body as a whole: an unknown member (strict bodies), a rule across members, or not an object. */
function bodyProblem(issue: z.core.$ZodIssue | undefined): string {
  if (issue?.code === 'unrecognized_keys') return `Unknown member${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.map((key) => `\`${key}\``).join(', ')}.`;
  if (issue?.code === 'custom') return issue.message;
  return 'The body must be a JSON object.';
}

/** The request bodies; openapi/components.ts documents them from these schemas. */
export const loginBody = z.object({ email, password });
export const registerBody = z.object({ email, password: newPassword, name });
export const changePasswordBody = z.object({ currentPassword: password, newPassword });

/**
 * The admin API's bodies: strict, so a member this endpoint does not change (`password` in a PATCH,
 * a misspelt `permission`) is refused rather than silently ignored. `name` defaults to the part of
 * the email before "@", as in the user CLI.
 */
export const createUserBody = z.strictObject({ email, password: newPassword, name: name.optional(), permissions: permissions.optional() });
export const updateUserBody = z
  .strictObject({
    name: name.optional(),
    permissions: permissions.optional(),
    disabled: z.boolean({ error: 'must be true or false' }).optional(),
    mfaRequired: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .refine((patch) => patch.name !== undefined || patch.permissions !== undefined || patch.disabled !== undefined || patch.mfaRequired !== undefined, {
    message: 'The body must set at least one of `name`, `permissions`, `disabled`, `mfaRequired`.',
  });

export const emailBody = z.object({ email });
/** POST /jts/account/email: the address the signed-in account should use, under registration's rules for `email`. */
export const changeEmailBody = z.object({ newEmail: email });
/** POST /jts/account/email/confirm: the token of the link mailed to the new address. */
export const confirmEmailChangeBody = z.object({ token });
export const resetPasswordBody = z.object({ token, newPassword });
/** POST /jts/email/verify: the account's password, when given, proves that whoever chose it reads the mailbox. */
export const verifyEmailBody = z.object({ token, password: password.optional() });
export const codeSignInBody = z.object({ email, code });
/** POST /jts/not-me: the token of a new sign-in notice's "this wasn't me" link. */
export const notMeBody = z.object({ token });
export const totpConfirmBody = z.object({ code });
/** POST /jts/mfa/totp and /confirm without a BearerPass: the `mfa_enrollment_required` ticket instead. */
export const totpStartWithTicketBody = z.object({ mfa_ticket: token.optional() });
/** Any body that may carry an MFA ticket, read for the per-account limits before the route's own schema. */
export const ticketBody = z.object({ mfa_ticket: z.string().optional() }).catch({});
export const totpConfirmWithTicketBody = z.object({ mfa_ticket: token.optional(), code });
/** `mfa_ticket` keeps the error envelope's spelling (README, "API conventions"). */
/** POST /jts/reauth: exactly one credential, proven again for the caller's session. */
export const reauthBody = z
  .object({ password: password.optional(), code: code.optional(), recoveryCode: recoveryCode.optional(), webauthn: assertion.optional() })
  .refine((body) => [body.password, body.code, body.recoveryCode, body.webauthn].filter((v) => v !== undefined).length === 1, { message: 'Send exactly one of `password`, `code`, `recoveryCode` and `webauthn`.' });
export const mfaVerifyBody = z
  .object({ mfa_ticket: token, code: code.optional(), recoveryCode: recoveryCode.optional(), webauthn: assertion.optional() })
  .refine((body) => [body.code, body.recoveryCode, body.webauthn].filter((proof) => proof !== undefined).length === 1, { message: 'Send exactly one of `code`, `recoveryCode` and `webauthn`.' });
