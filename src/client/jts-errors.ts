/** The JTS codes after which the session cannot continue: the user has to sign in again. */
const SESSION_ENDING_CODES = ['JTS-401-03', 'JTS-401-04', 'JTS-401-05', 'JTS-401-06'] as const;
const SESSION_ENDING: ReadonlySet<string> = new Set(SESSION_ENDING_CODES);

/** Why a session ended: this user signed out, or the server answered with a session-ending JTS code. */
export type SignOutReason = 'logout' | (typeof SESSION_ENDING_CODES)[number];

/** Whether a JTS code means the session is over in every tab (JTS.md, "Errors"). */
export function isSessionEnding(code: string | undefined): code is Exclude<SignOutReason, 'logout'> {
  return code !== undefined && SESSION_ENDING.has(code);
}

/** The JSON error body of JTS.md, "Errors". */
export interface ErrorBody {
  error: string;
  error_code?: string;
  message: string;
  action?: string;
  retry_after?: number;
}

/** A failed call to the auth server; `code` is the JTS code when there is one, else the plain key. */
export class JtsRequestError extends Error {
  override readonly name = 'JtsRequestError';
  readonly code: string;

  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
    options?: ErrorOptions,
  ) {
    super(body?.message ?? (status === 0 ? 'The server could not be reached.' : `Request failed with HTTP ${status}.`), options);
    this.code = body?.error_code ?? body?.error ?? (status === 0 ? 'network_error' : `http_${status}`);
  }
}

/** Thrown by `fetch()` when there is no session to authenticate the call with. */
export class SignedOutError extends Error {
  override readonly name = 'SignedOutError';
  constructor(readonly reason: SignOutReason) {
    super('Not signed in.');
  }
}
