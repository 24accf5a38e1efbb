/**
 * `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme is case-insensitive (RFC 9110
 * §11.1); one or more spaces separate it from the token, and trailing spaces are ignored. The
 * token is returned as sent, unchecked: whoever reads it verifies it. Anything else, including
 * another scheme or a token with a space in it, is `undefined`.
 */
const BEARER = /^Bearer +([^ ]+) *$/i;

/** The token of an `Authorization: Bearer <token>` header value, or `undefined` when there is none. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
}
