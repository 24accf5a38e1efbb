import { ClientAdminError } from '../auth/client-admin.js';
import { AuthError } from '../auth/errors.js';
import { OAuthError } from '../auth/oauth-errors.js';
import { codedErrorClass, JtsError, type ErrorInfo, type ErrorRow } from '../jts/errors.js';
import { StoreError } from '../redis/store-error.js';
import { StepUpError } from '../verifier/step-up.js';

/** The HTTP layer's own codes: malformed requests, CSRF, routing, limits, and the catch-all 500. */
const HTTP_CODES = {
  invalid_request: { status: 400, key: 'invalid_request', action: 'none', message: 'The request is invalid.', expose: true },
  /** /metrics with METRICS_TOKEN set and a missing or wrong token. */
  metrics_token_invalid: { status: 401, key: 'invalid_credentials', action: 'none', message: 'A metrics token is required.', expose: true },
  csrf_missing: { status: 403, key: 'csrf_missing', action: 'none', message: 'The X-JTS-Request: 1 header is required.', expose: true },
  csrf_origin: { status: 403, key: 'csrf_origin', action: 'none', message: 'The request origin is not allowed.', expose: true },
  not_found: { status: 404, key: 'not_found', action: 'none', message: 'Not found.', expose: true },
  /** The path exists, with other methods (RFC 9110 §15.5.6; the answer names them in `Allow`). */
  method_not_allowed: { status: 405, key: 'method_not_allowed', action: 'none', message: 'This endpoint does not take this method.', expose: true },
  /** HTTP_REQUEST_TIMEOUT or HTTP_HEADERS_TIMEOUT passed before the request was complete (answered by client-error.ts). */
  request_timeout: { status: 408, key: 'request_timeout', action: 'retry', message: 'The request was not received in time.', expose: true },
  payload_too_large: { status: 413, key: 'payload_too_large', action: 'none', message: 'The request body is too large.', expose: true },
  unsupported_media_type: { status: 415, key: 'unsupported_media_type', action: 'none', message: 'The body must be application/json.', expose: true },
  /** Headers above Node's limit (16 KiB); answered by client-error.ts. */
  header_fields_too_large: { status: 431, key: 'header_fields_too_large', action: 'none', message: 'The request headers are too large.', expose: true },
  rate_limited: { status: 429, key: 'rate_limited', action: 'retry', message: 'Too many requests.', expose: true },
  /** A bug: details go to the log only. */
  internal_error: { status: 500, key: 'internal_error', action: 'retry', message: 'Internal server error.', expose: false },
} as const satisfies Record<string, ErrorInfo>;

export type HttpCode = keyof typeof HTTP_CODES;

/** The HTTP layer's error. */
export class HttpError extends codedErrorClass('HttpError', HTTP_CODES) {}

/** Every code a client can receive, from every layer: the README's table and OpenAPI's enums. */
export function errorCatalog(): ErrorRow[] {
  return [...JtsError.rows(), ...HttpError.rows(), ...AuthError.rows(), ...StepUpError.rows(), ...OAuthError.rows(), ...ClientAdminError.rows(), ...StoreError.rows()];
}
