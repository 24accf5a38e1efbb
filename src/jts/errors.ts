/**
 * The one error type of the protocol. Every failure a client may see carries a stable `code`
 * (the JTS table, or one of this project's plain codes) and is turned into the documented JSON
 * body by {@link JtsError.toBody}; callers branch on `code`, never on `message`.
 */

export type JtsAction = 'reauth' | 'renew' | 'retry' | 'none';

interface CodeInfo {
  readonly status: number;
  readonly key: string;
  readonly action: JtsAction;
  readonly message: string;
}

/** The JTS error table (JTS.md, "Errors"). */
const JTS_CODES = {
  'JTS-400-01': { status: 400, key: 'malformed_token', action: 'reauth', message: 'The token cannot be parsed.' },
  'JTS-400-02': { status: 400, key: 'missing_claims', action: 'reauth', message: 'A required claim is missing or has the wrong type.' },
  'JTS-401-01': { status: 401, key: 'bearer_expired', action: 'renew', message: 'The BearerPass has expired.' },
  'JTS-401-02': { status: 401, key: 'signature_invalid', action: 'reauth', message: 'The BearerPass signature is invalid.' },
  'JTS-401-03': { status: 401, key: 'stateproof_invalid', action: 'reauth', message: 'No valid credential was presented.' },
  'JTS-401-04': { status: 401, key: 'session_terminated', action: 'reauth', message: 'The session has ended.' },
  'JTS-401-05': { status: 401, key: 'session_compromised', action: 'reauth', message: 'A StateProof was replayed; the session has been revoked.' },
  'JTS-401-06': { status: 401, key: 'device_mismatch', action: 'reauth', message: 'The device does not match the one bound to the session.' },
  'JTS-403-01': { status: 403, key: 'audience_mismatch', action: 'none', message: 'The BearerPass is not meant for this audience.' },
  'JTS-403-02': { status: 403, key: 'permission_denied', action: 'none', message: 'A required permission is missing.' },
  'JTS-403-03': { status: 403, key: 'org_mismatch', action: 'none', message: 'The BearerPass belongs to another organisation.' },
  'JTS-500-01': { status: 500, key: 'key_unavailable', action: 'retry', message: 'The verification key set cannot be reached.' },
} as const satisfies Record<string, CodeInfo>;

/** Errors that are not token errors; their `error` key is the code itself (JTS.md allows this). */
const PLAIN_CODES = {
  invalid_request: { status: 400, key: 'invalid_request', action: 'none', message: 'The request is invalid.' },
  invalid_credentials: { status: 401, key: 'invalid_credentials', action: 'none', message: 'Email or password is incorrect.' },
  csrf_missing: { status: 403, key: 'csrf_missing', action: 'none', message: 'The X-JTS-Request: 1 header is required.' },
  csrf_origin: { status: 403, key: 'csrf_origin', action: 'none', message: 'The request origin is not allowed.' },
  registration_closed: { status: 403, key: 'registration_closed', action: 'none', message: 'Registration is turned off.' },
  not_found: { status: 404, key: 'not_found', action: 'none', message: 'Not found.' },
  method_not_allowed: { status: 405, key: 'method_not_allowed', action: 'none', message: 'Method not allowed.' },
  email_taken: { status: 409, key: 'email_taken', action: 'none', message: 'An account with this email already exists.' },
  payload_too_large: { status: 413, key: 'payload_too_large', action: 'none', message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, key: 'unsupported_media_type', action: 'none', message: 'The body must be application/json.' },
  rate_limited: { status: 429, key: 'rate_limited', action: 'retry', message: 'Too many requests.' },
  internal_error: { status: 500, key: 'internal_error', action: 'retry', message: 'Internal server error.' },
  service_unavailable: { status: 503, key: 'service_unavailable', action: 'retry', message: 'A backing service is unavailable.' },
} as const satisfies Record<string, CodeInfo>;

export type JtsCode = keyof typeof JTS_CODES;
export type PlainCode = keyof typeof PLAIN_CODES;
export type ErrorCode = JtsCode | PlainCode;

const ALL_CODES: Record<ErrorCode, CodeInfo> = { ...JTS_CODES, ...PLAIN_CODES };

/** The JSON body of every error response. */
export interface ErrorBody {
  error: string;
  error_code?: JtsCode;
  message: string;
  action: JtsAction;
  retry_after?: number;
  timestamp: number;
}

export interface JtsErrorOptions {
  message?: string;
  retryAfter?: number;
  cause?: unknown;
}

export class JtsError extends Error {
  override readonly name = 'JtsError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly key: string;
  readonly action: JtsAction;
  readonly retryAfter: number | undefined;
  /** 5xx messages are never shown to clients; the handler logs them instead. */
  readonly expose: boolean;

  constructor(code: ErrorCode, options: JtsErrorOptions = {}) {
    const info = ALL_CODES[code];
    super(options.message ?? info.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = info.status;
    this.key = info.key;
    this.action = info.action;
    this.retryAfter = options.retryAfter;
    this.expose = info.status < 500 || code === 'service_unavailable' || code === 'JTS-500-01';
  }

  toBody(now: number = Date.now()): ErrorBody {
    const body: ErrorBody = {
      error: this.key,
      message: this.expose ? this.message : ALL_CODES[this.code].message,
      action: this.action,
      timestamp: Math.floor(now / 1000),
    };
    if (isJtsCode(this.code)) body.error_code = this.code;
    if (this.retryAfter !== undefined) body.retry_after = this.retryAfter;
    return body;
  }
}

export function isJtsCode(code: string): code is JtsCode {
  return Object.hasOwn(JTS_CODES, code);
}

/** For the README and the OpenAPI document: the table as data. */
export function errorTable(): { code: ErrorCode; status: number; key: string; action: JtsAction; message: string }[] {
  return (Object.keys(ALL_CODES) as ErrorCode[]).map((code) => ({ code, ...ALL_CODES[code] }));
}
