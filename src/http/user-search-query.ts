import type { Request } from 'express';
import type { UserSearch } from '../users/types.js';
import { HttpError } from './errors.js';
import { EMAIL_MAX_LENGTH } from './fields.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Longer than any id this server makes (22 characters) or 0.1 made; a cursor is never large. */
const CURSOR_MAX_LENGTH = 1024;

/**
 * `GET /admin/users?query=&cursor=&limit=` as a UserSearch. Each bad parameter is a 400
 * `invalid_request` naming it: `query` given twice or longer than an email; `limit` not an integer
 * from 1 to 100; `cursor` not one this endpoint returned, or returned for another `query`.
 */
export function parseUserSearch(req: Request): UserSearch {
  const query = single(req, 'query') ?? '';
  if (query.length > EMAIL_MAX_LENGTH) throw invalid(`\`query\` must be at most ${EMAIL_MAX_LENGTH} characters.`);
  const emailPrefix = query.trim().toLowerCase();
  const limitText = single(req, 'limit');
  const limit = limitText === undefined ? DEFAULT_PAGE_SIZE : Number(limitText);
  if (limitText !== undefined && (!/^[0-9]{1,3}$/.test(limitText) || limit < 1 || limit > MAX_PAGE_SIZE)) throw invalid(`\`limit\` must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
  const cursor = single(req, 'cursor');
  if (cursor === undefined || cursor === '') return { emailPrefix, limit };
  const position = decodeCursor(cursor);
  if (position === undefined) throw invalid('`cursor` must be a `nextCursor` value this endpoint returned.');
  if (position.query !== emailPrefix) throw invalid('`cursor` belongs to another `query`: send the `query` it was returned for.');
  return { emailPrefix, limit, after: { email: position.email, id: position.id } };
}

/**
 * The opaque `nextCursor`: base64url of JSON `[query, email, id]`, the keyset position after the
 * page's last user. Not secret and not signed: an edited cursor only moves where a page starts, in
 * a listing the administrator may read whole anyway. The query is kept so that a cursor is not
 * applied to a different search by mistake.
 */
export function encodeCursor(emailPrefix: string, after: { email: string; id: string }): string {
  return Buffer.from(JSON.stringify([emailPrefix, after.email, after.id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { query: string; email: string; id: string } | undefined {
  if (cursor.length > CURSOR_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3 || !value.every((part) => typeof part === 'string')) return undefined;
  const [query, email, id] = value as [string, string, string];
  return email === '' || id === '' ? undefined : { query, email, id };
}

/** A query parameter given at most once; `?a=1&a=2` (an array) is refused. */
function single(req: Request, name: string): string | undefined {
  const value: unknown = req.query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw invalid(`\`${name}\` must be given at most once, as a string.`);
}

function invalid(message: string): HttpError {
  return new HttpError('invalid_request', { message });
}
