import type { Request } from 'express';
import { z } from 'zod';
import { HttpError } from './errors.js';

/** Parses `req.body` with `schema`; any problem is a 400 naming the first bad field. */
export function parseBody<T extends z.ZodType>(req: Request, schema: T): z.infer<T> {
  const result = schema.safeParse(req.body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  const message = field === '' ? 'The body must be a JSON object.' : `${field}: ${issue?.message ?? 'invalid'}`;
  throw new HttpError('invalid_request', { message });
}

const email = z.string({ error: 'expected a string' }).trim().max(254, 'at most 254 characters').pipe(z.email({ error: 'expected an email address' }));
const password = z.string({ error: 'expected a string' }).min(1, 'required').max(1024, 'too long');

export const loginBody = z.object({ email, password });
export const registerBody = z.object({
  email,
  password,
  name: z.string({ error: 'expected a string' }).trim().min(1, 'required').max(100, 'at most 100 characters'),
});
export const changePasswordBody = z.object({ currentPassword: password, newPassword: password });
