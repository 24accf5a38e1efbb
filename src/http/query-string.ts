import { parse } from 'node:querystring';
import { HttpError } from './errors.js';

/**
 * Express's query parser (`app.set('query parser', …)`): Node's `querystring`, as Express's
 * "simple" parser, but a `%` not followed by two hex digits is a 400 like the same mistake in the
 * path, where `querystring` would keep it as literal text and a search would silently match
 * nothing. Runs only when a route reads `req.query` (the admin search), never on the hot paths.
 */
export function parseQueryString(text: string): Record<string, string | string[] | undefined> {
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) throw new HttpError('invalid_request', { message: 'The request URL is malformed (bad percent-encoding).' });
  return parse(text);
}
