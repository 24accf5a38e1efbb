/**
 * The error envelope of JTS.md ("Errors") and the protocol's own code table.
 *
 * Every layer of the server has one error class with stable codes (this file's {@link JtsError},
 * `StoreError`, `AuthError`, `HttpError`); all of them extend {@link CodedError}, whose table row
 * says the HTTP status, the client `action`, the default message and whether that message may be
 * shown (`expose`, as in node-oidc-provider). Callers branch on `code`, never on `message`.
 * Other services import this file through the verifier package, so it holds only the protocol's
 * codes; the server's own codes live with the layer that raises them.
 */

/** `mfa`: the first factor was right; complete the sign-in with a second one (POST /jts/mfa/verify). */
export type JtsAction = 'reauth' | 'renew' | 'retry' | 'mfa' | 'mfa_enroll' | 'none';

/** One row of an error table. */
export interface ErrorInfo {
  /** HTTP status of the answer. */
  readonly status: number;
  /** The body's `error` field: the JTS key, or a plain key for the server's own codes. */
  readonly key: string;
  readonly action: JtsAction;
  /** Default message; also what a client sees when `expose` is false. */
  readonly message: string;
  /** Whether a message passed at the throw site may reach the client (false: the default is sent). */
  readonly expose: boolean;
}

/** The JSON body of every error response (JTS.md, "Errors"). */
export interface ErrorBody {
  error: string;
  /** Only for the JTS table's codes. */
  error_code?: JtsCode;
  message: string;
  action: JtsAction;
  /** Seconds; on 429 and 503 answers. */
  retry_after?: number;
  /** Seconds since the epoch. */
  timestamp: number;
}

export interface CodedErrorOptions {
  message?: string;
  /** Seconds the client should wait (also sent as `Retry-After`). */
  retryAfter?: number;
  cause?: unknown;
}

/** The base of every error a client may see. Subclasses bind a code table. */
export abstract class CodedError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly status: number;
  readonly key: string;
  readonly action: JtsAction;
  readonly expose: boolean;
  readonly retryAfter: number | undefined;
  /** The table's message: what a client sees when `expose` is false. */
  readonly defaultMessage: string;

  protected constructor(code: Code, info: ErrorInfo, options: CodedErrorOptions = {}) {
    super(options.message ?? info.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = info.status;
    this.key = info.key;
    this.action = info.action;
    this.expose = info.expose;
    this.retryAfter = options.retryAfter;
    this.defaultMessage = info.message;
  }

  /** The JSON body; `now` in milliseconds since the epoch. */
  toBody(now: number = Date.now()): ErrorBody {
    const body: ErrorBody = {
      error: this.key,
      message: this.expose ? this.message : this.defaultMessage,
      action: this.action,
      timestamp: Math.floor(now / 1000),
    };
    if (isJtsCode(this.code)) body.error_code = this.code;
    if (this.retryAfter !== undefined) body.retry_after = this.retryAfter;
    return body;
  }
}

/** True for an error of any layer that carries a code (the HTTP layer answers it as it says). */
export function isCodedError(error: unknown): error is CodedError {
  return error instanceof CodedError;
}

/** The JTS error table (JTS.md, "Errors"). */
const JTS_CODES = {
  'JTS-400-01': { status: 400, key: 'malformed_token', action: 'reauth', message: 'The token cannot be parsed.', expose: true },
  'JTS-400-02': { status: 400, key: 'missing_claims', action: 'reauth', message: 'A required claim is missing or has the wrong type.', expose: true },
  'JTS-401-01': { status: 401, key: 'bearer_expired', action: 'renew', message: 'The BearerPass has expired.', expose: true },
  'JTS-401-02': { status: 401, key: 'signature_invalid', action: 'reauth', message: 'The BearerPass signature is invalid.', expose: true },
  'JTS-401-03': { status: 401, key: 'stateproof_invalid', action: 'reauth', message: 'No valid credential was presented.', expose: true },
  'JTS-401-04': { status: 401, key: 'session_terminated', action: 'reauth', message: 'The session has ended.', expose: true },
  'JTS-401-05': { status: 401, key: 'session_compromised', action: 'reauth', message: 'A StateProof was replayed; the session has been revoked.', expose: true },
  'JTS-401-06': { status: 401, key: 'device_mismatch', action: 'reauth', message: 'The device does not match the one bound to the session.', expose: true },
  'JTS-403-01': { status: 403, key: 'audience_mismatch', action: 'none', message: 'The BearerPass is not meant for this audience.', expose: true },
  'JTS-403-02': { status: 403, key: 'permission_denied', action: 'none', message: 'A required permission is missing.', expose: true },
  'JTS-403-03': { status: 403, key: 'org_mismatch', action: 'none', message: 'The BearerPass belongs to another organisation.', expose: true },
  'JTS-500-01': { status: 500, key: 'key_unavailable', action: 'retry', message: 'The verification key set cannot be reached.', expose: true },
} as const satisfies Record<string, ErrorInfo>;

export type JtsCode = keyof typeof JTS_CODES;

/**
 * The error class of one layer, bound to its code table: `class AuthError extends
 * codedErrorClass('AuthError', AUTH_CODES) {}`. `Class.rows()` lists the table for the README and
 * the OpenAPI document.
 */
export function codedErrorClass<Code extends string>(name: string, table: Readonly<Record<Code, ErrorInfo>>) {
  return class extends CodedError<Code> {
    override readonly name: string = name;

    constructor(code: Code, options: CodedErrorOptions = {}) {
      super(code, table[code], options);
    }

    static rows(): ErrorRow<Code>[] {
      return tableRows(table);
    }
  };
}

/** A failure of the protocol itself: a token or StateProof problem, with its JTS code. */
export class JtsError extends codedErrorClass('JtsError', JTS_CODES) {}

export function isJtsCode(code: string): code is JtsCode {
  return Object.hasOwn(JTS_CODES, code);
}

/** A code table as rows, for the README and the OpenAPI document. */
export type ErrorRow<Code extends string = string> = ErrorInfo & { code: Code };

function tableRows<Code extends string>(table: Readonly<Record<Code, ErrorInfo>>): ErrorRow<Code>[] {
  return (Object.keys(table) as Code[]).map((code) => ({ code, ...table[code] }));
}

