import { JtsRequestError } from './jts-client.js';

/**
 * What to tell the user about a failed call: the server's own message when it answered (a 403
 * `csrf_origin`, a 503, a 429 all explain themselves), and "could not be reached" only when no
 * answer came (a network failure is status 0, or fetch's TypeError).
 */
export function failureMessage(error: unknown): string {
  if (error instanceof JtsRequestError && error.status !== 0) return error.message;
  return 'The server could not be reached. Check your connection and try again.';
}
