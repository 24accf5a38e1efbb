import { requestErrorOf } from './jts-error-body.js';
/**
 * A small JTS-S browser client (JTS.md): it keeps the BearerPass in memory only, renews it
 * before it expires with the HttpOnly StateProof cookie, and coordinates renewal across tabs so
 * that no two renewals ever race on the same StateProof (which the server would treat as theft).
 *
 * Cross-tab protocol:
 * - every credential-changing call (login, register, renew, logout) runs under the Web Lock
 *   `jts-renew`, so the cookie a call sends is always the one the previous call set;
 * - the tab that renewed hands the new BearerPass to its siblings on the BroadcastChannel `jts`,
 *   and a tab that waited for the lock first checks whether a sibling already renewed;
 * - the end of the session (logout, JTS-401-03/-04/-05/-06) is broadcast, so every tab signs out.
 *
 * This module is the library's public entry (`public/assets/jts-client.js`); the others are its parts.
 */
import { claimsOf, type Bearer } from './jts-bearer.js';
import { AuthServerEndpoint } from './jts-endpoint.js';
import { AuthEvents, type AuthEvent } from './jts-events.js';
import { fetchWithBearer, type BearerFetchContext } from './jts-fetch.js';
import { SharedSession } from './jts-session.js';

export type { AuthEvent } from './jts-events.js';
export { JtsRequestError, SignedOutError, type ErrorBody, type SignOutReason } from './jts-errors.js';

export interface JtsClientOptions {
  /** Where the auth server lives; '' (the default) is this page's own origin. */
  baseUrl?: string;
  /** 'same-origin' by default; 'include' when the page is hosted on another origin of the same site. */
  credentials?: RequestCredentials;
  /** Renew when this fraction of the BearerPass lifetime has passed (default 0.8). */
  renewAt?: number;
  /** Origins `fetch()` may send the BearerPass to; defaults to the auth server's origin. */
  apiOrigins?: readonly string[];
}

/** One per page: signs in and out, keeps the BearerPass fresh, and authenticates `fetch` calls. */
export class JtsClient {
  private readonly events = new AuthEvents();
  private readonly session: SharedSession;
  private readonly fetchContext: BearerFetchContext;

  /** @throws RangeError when `renewAt` is not strictly between 0 and 1 */
  constructor(options: JtsClientOptions = {}) {
    const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    const renewAt = options.renewAt ?? 0.8;
    if (!(renewAt > 0 && renewAt < 1)) throw new RangeError(`renewAt must be between 0 and 1, got ${renewAt}`);
    const server = new AuthServerEndpoint(baseUrl, options.credentials ?? 'same-origin');
    const apiOrigins = new Set(options.apiOrigins ?? [server.origin]);
    this.session = new SharedSession(server, renewAt, this.events);
    this.fetchContext = { server, session: this.session, apiOrigins };
    this.server = server;
  }

  private readonly server: AuthServerEndpoint;

  /** Whether this tab holds a BearerPass. */
  get signedIn(): boolean {
    return this.session.bearer !== undefined;
  }

  /** Seconds until the BearerPass expires, or undefined when signed out (for display). */
  get secondsLeft(): number | undefined {
    const bearer = this.session.bearer;
    return bearer ? Math.max(0, (bearer.expiresAt - Date.now()) / 1000) : undefined;
  }

  /** The claims of the current BearerPass, for display only: this client never trusts them. */
  get claims(): Record<string, unknown> | undefined {
    const token = this.session.bearer?.token;
    return token === undefined ? undefined : claimsOf(token);
  }

  /** Subscribes to sign-in, renewal and sign-out; returns the unsubscribe function. */
  on(listener: (event: AuthEvent) => void): () => void {
    return this.events.on(listener);
  }

  /**
   * On page load: the BearerPass did not survive the reload but the HttpOnly StateProof cookie
   * did, so one renewal restores the session without asking for the password.
   */
  async resume(): Promise<boolean> {
    // A dead or absent session resolves (after a 'signed-out' event); an unreachable server rejects.
    await this.session.renew();
    return this.signedIn;
  }

  /** Signs in with email and password; rejects with a JtsRequestError when the server refuses. */
  async login(email: string, password: string): Promise<void> {
    await this.session.open('/jts/login', { email, password }, 'login');
  }

  /** Signs in with a code the server mailed (POST /jts/login/code); rejects with a JtsRequestError when refused. */
  async signInWithCode(email: string, code: string): Promise<void> {
    await this.session.open('/jts/login/code/verify', { email, code }, 'login');
  }

  /**
   * Completes a sign-in the server answered `mfa_required` (a JtsRequestError whose body has
   * `mfa_ticket`) with the authenticator's code or a recovery code; rejects when refused.
   */
  async completeSecondFactor(mfaTicket: string, proof: { code: string } | { recoveryCode: string }): Promise<void> {
    await this.session.open('/jts/mfa/verify', { mfa_ticket: mfaTicket, ...proof }, 'login');
  }

  /**
   * Signs in with a passkey alone: asks the server for options, lets `sign` run the browser's
   * ceremony on them (e.g. @simplewebauthn/browser's `(optionsJSON) => startAuthentication({ optionsJSON })`),
   * and sends its answer. This client holds no WebAuthn code of its own. Rejects with a
   * JtsRequestError when the server refuses, or with the ceremony's error.
   */
  async loginWithPasskey(sign: (options: unknown) => Promise<unknown>): Promise<void> {
    const credential = await sign(await this.optionsFrom('/jts/passkeys/login/options'));
    await this.session.open('/jts/passkeys/login/verify', { credential }, 'login');
  }

  /** Completes a sign-in answered `mfa_required` with a passkey (options bound to the ticket; `sign` as for {@link loginWithPasskey}). */
  async completeSecondFactorWithPasskey(mfaTicket: string, sign: (options: unknown) => Promise<unknown>): Promise<void> {
    const webauthn = await sign(await this.optionsFrom('/jts/mfa/webauthn/options', { mfa_ticket: mfaTicket }));
    await this.session.open('/jts/mfa/verify', { mfa_ticket: mfaTicket, webauthn }, 'login');
  }

  private async optionsFrom(path: string, body?: unknown): Promise<unknown> {
    const res = await this.server.post(path, body);
    if (!res.ok) throw await requestErrorOf(res);
    return res.json();
  }

  /** Creates an account and signs in to it; rejects with a JtsRequestError when the server refuses. */
  async register(email: string, password: string, name: string): Promise<void> {
    await this.session.open('/jts/register', { email, password, name }, 'register');
  }

  /**
   * Ends the session on the server and in every tab. Rejects, and stays signed in, when the
   * server does not confirm: the HttpOnly cookie would otherwise sign the next page load back in.
   */
  async logout(): Promise<void> {
    await this.session.logout();
  }

  /**
   * Renews the BearerPass. Single-flight: concurrent callers in this tab share one promise, and
   * across tabs the Web Lock lets only one renewal run at a time.
   */
  renew(): Promise<Bearer | undefined> {
    return this.session.renew();
  }

  /**
   * `fetch` with `Authorization: Bearer`. Renews first when the BearerPass is due, and once more
   * (then retries the call once) when the server answers JTS-401-01. Calls to /jts/* also get
   * the CSRF header and the configured credentials mode. Throws SignedOutError when the session
   * is over; any other response, 403 included, is returned to the caller.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    return fetchWithBearer(this.fetchContext, input, init);
  }
}
