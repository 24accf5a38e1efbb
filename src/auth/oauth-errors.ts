import { codedErrorClass, type ErrorInfo } from '../jts/errors.js';

/**
 * The OAuth 2.0 outcomes of /jts/token and /jts/introspect: RFC 6749 §5.2 and RFC 8693 §2.2.2
 * codes in `error`, the rest of the JTS envelope around them, so both OAuth client libraries and
 * JTS clients read the answer. A malformed request is the HTTP layer's `invalid_request`, whose
 * key is the RFC's too.
 */
const OAUTH_CODES = {
  /** RFC 6749 §5.2: answered 401 with `WWW-Authenticate: Basic` (the client used the header). */
  invalid_client: { status: 401, key: 'invalid_client', action: 'none', message: 'Client authentication failed.', expose: true },
  /** The subject token is invalid, expired, revoked, foreign, or itself a downstream token. */
  invalid_grant: { status: 400, key: 'invalid_grant', action: 'none', message: 'The subject token is not acceptable.', expose: true },
  invalid_scope: { status: 400, key: 'invalid_scope', action: 'none', message: 'The requested scope is not allowed.', expose: true },
  /** RFC 8693 §2.2.2: the `audience` names no registered service, or one this exchange may not reach. */
  invalid_target: { status: 400, key: 'invalid_target', action: 'none', message: 'The requested audience is not allowed.', expose: true },
  /** RFC 6750 §3.1: the client is authenticated but does not hold the scope the endpoint needs (GET /jts/events: `jts:events`). */
  insufficient_scope: { status: 403, key: 'insufficient_scope', action: 'none', message: 'The client does not hold the scope this endpoint needs.', expose: true },
  unsupported_grant_type: { status: 400, key: 'unsupported_grant_type', action: 'none', message: 'The grant type is not supported.', expose: true },
} as const satisfies Record<string, ErrorInfo>;

export type OAuthCode = keyof typeof OAUTH_CODES;

/** The OAuth endpoints' error. */
export class OAuthError extends codedErrorClass('OAuthError', OAUTH_CODES) {}
