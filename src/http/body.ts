import type { Request } from 'express';
import { z } from 'zod';
import { code, email, name, newPassword, password, token } from './fields.js';
import { HttpError } from './errors.js';
import { unparsedBodyError } from './json-content-type.js';

/**
 * Parses `req.body` with `schema`; a body sent without `Content-Type: application/json` is a 415,
 * any other problem a 400 naming the first bad field.
 */
export function parseBody<T extends z.ZodType>(req: Request, schema: T): z.infer<T> {
  const unparsed = unparsedBodyError(req);
  if (unparsed) throw unparsed;
  const result = schema.safeParse(req.body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  const message = field === '' ? 'The body must be a JSON object.' : `${field}: ${issue?.message ?? 'invalid'}`;
  throw new HttpError('invalid_request', { message });
}

/** The request bodies; openapi/components.ts documents them from these schemas. */
export const loginBody = z.object({ email, password });
export const registerBody = z.object({ email, password: newPassword, name });
export const changePasswordBody = z.object({ currentPassword: password, newPassword });
export const emailBody = z.object({ email });
export const resetPasswordBody = z.object({ token, newPassword });
export const tokenBody = z.object({ token });
export const codeSignInBody = z.object({ email, code });
