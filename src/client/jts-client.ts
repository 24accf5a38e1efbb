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
 * - the end of the session (logout, JTS-401-03/-04/-05) is broadcast, so every tab signs out.
 */

/** Codes after which the session cannot continue: the user has to sign in again. */
const SESSION_ENDING = new Set(['JTS-401-03', 'JTS-401-04', 'JTS-401-05', 'JTS-401-06']);

export type SignOutReason = 'logout' | 'JTS-401-03' | 'JTS-401-04' | 'JTS-401-05' | 'JTS-401-06';

export type AuthEvent =
  | { type: 'signed-in'; via: 'login' | 'register' | 'resume' | 'sibling' }
  | { type: 'renewed'; via: 'self' | 'sibling' }
  | { type: 'signed-out'; reason: SignOutReason; via: 'self' | 'sibling' };

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

interface Bearer {
  token: string;
  /** Epoch ms, by this browser's clock (shared by all tabs). */
  expiresAt: number;
  renewAt: number;
}

type ChannelMessage =
  | { type: 'signed-in'; bearer: Bearer; at: number }
  | { type: 'renewed'; bearer: Bearer; at: number }
  | { type: 'signed-out'; reason: SignOutReason; at: number };

/** Anything on the channel is checked before use; only this client's own messages are acted on. */
function isChannelMessage(value: unknown): value is ChannelMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Partial<Record<string, unknown>>;
  if (typeof message.at !== 'number') return false;
  if (message.type === 'signed-out') return typeof message.reason === 'string';
  if (message.type !== 'signed-in' && message.type !== 'renewed') return false;
  const bearer = message.bearer as Partial<Record<string, unknown>> | undefined;
  return typeof bearer?.token === 'string' && typeof bearer.expiresAt === 'number' && typeof bearer.renewAt === 'number';
}

interface CredentialsBody {
  bearerPass: string;
  expiresIn: number;
}

/** When renewal fails for a reason other than a dead session (network, 5xx, 429), try again after this. */
const RETRY_MS = 2000;

export class JtsClient {
  private readonly baseUrl: string;
  private readonly serverOrigin: string;
  private readonly credentials: RequestCredentials;
  private readonly renewAt: number;
  private readonly apiOrigins: Set<string>;
  private readonly channel: BroadcastChannel | undefined;
  private readonly listeners = new Set<(event: AuthEvent) => void>();

  private bearer: Bearer | undefined;
  /** When this tab's current session began; older 'signed-out' broadcasts do not concern it. */
  private sessionSince = 0;
  private renewing: Promise<Bearer | undefined> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: JtsClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.credentials = options.credentials ?? 'same-origin';
    this.renewAt = options.renewAt ?? 0.8;
    if (!(this.renewAt > 0 && this.renewAt < 1)) throw new RangeError(`renewAt must be between 0 and 1, got ${this.renewAt}`);
    this.serverOrigin = new URL(this.baseUrl || '/', location.href).origin;
    this.apiOrigins = new Set(options.apiOrigins ?? [this.serverOrigin]);
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('jts') : undefined;
    this.channel?.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (isChannelMessage(event.data)) this.onSiblingMessage(event.data);
    });
    // Timers are throttled in hidden tabs; catch up as soon as the tab is seen again.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.bearer && Date.now() >= this.bearer.renewAt) void this.renewQuietly();
    });
  }

  get signedIn(): boolean {
    return this.bearer !== undefined;
  }

  /** Seconds until the BearerPass expires, or undefined when signed out (for display). */
  get secondsLeft(): number | undefined {
    return this.bearer ? Math.max(0, (this.bearer.expiresAt - Date.now()) / 1000) : undefined;
  }

  /** The claims of the current BearerPass, for display only: this client never trusts them. */
  get claims(): Record<string, unknown> | undefined {
    const payload = this.bearer?.token.split('.')[1];
    if (payload === undefined) return undefined;
    try {
      const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /** Subscribes to sign-in, renewal and sign-out; returns the unsubscribe function. */
  on(listener: (event: AuthEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * On page load: the BearerPass did not survive the reload but the HttpOnly StateProof cookie
   * did, so one renewal restores the session without asking for the password.
   */
  async resume(): Promise<boolean> {
    // A dead or absent session resolves (after a 'signed-out' event); an unreachable server rejects.
    await this.renew();
    return this.signedIn;
  }

  async login(email: string, password: string): Promise<void> {
    await this.openSession('/jts/login', { email, password }, 'login');
  }

  async register(email: string, password: string, name: string): Promise<void> {
    await this.openSession('/jts/register', { email, password, name }, 'register');
  }

  /** Ends the session on the server and in every tab. Local state is cleared even if the server cannot be reached. */
  async logout(): Promise<void> {
    await this.exclusive(async () => {
      // Signed out locally only once the server has ended the session: otherwise the HttpOnly
      // cookie would survive and the next page load would silently sign back in.
      const res = await this.post('/jts/logout');
      if (!res.ok) throw await this.errorOf(res);
      this.end('logout', 'self');
    });
  }

  /**
   * Renews the BearerPass. Single-flight: concurrent callers in this tab share one promise, and
   * across tabs the Web Lock lets only one renewal run at a time.
   */
  renew(): Promise<Bearer | undefined> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /**
   * `fetch` with `Authorization: Bearer`. Renews first when the BearerPass is due, and once more
   * (then retries the call once) when the server answers JTS-401-01. Calls to /jts/* also get
   * the CSRF header and the configured credentials mode. Throws SignedOutError when the session
   * is over; any other response, 403 included, is returned to the caller.
   */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(this.resolve(input), init);
    const url = new URL(request.url);
    if (!this.apiOrigins.has(url.origin)) throw new TypeError(`Refusing to send the BearerPass to ${url.origin}`);
    const toAuthServer = url.origin === this.serverOrigin && url.pathname.startsWith('/jts/');

    const send = async (bearer: Bearer): Promise<Response> => {
      const headers = new Headers(request.headers);
      headers.set('Authorization', `Bearer ${bearer.token}`);
      if (toAuthServer) headers.set('X-JTS-Request', '1');
      return fetch(new Request(request.clone(), { headers, ...(toAuthServer ? { credentials: this.credentials } : {}) }));
    };

    let bearer = this.bearer;
    if (!bearer || Date.now() >= bearer.renewAt) {
      // A failed early renewal is fine while the current BearerPass is still valid.
      bearer = (await this.renew().catch(() => undefined)) ?? this.bearer;
      if (bearer && Date.now() >= bearer.expiresAt) bearer = undefined;
    }
    if (!bearer) throw new SignedOutError('JTS-401-03');

    let res = await send(bearer);
    let code = await codeOf(res);
    if (code === 'JTS-401-01') {
      const renewed = await this.renew();
      if (!renewed) throw new SignedOutError('JTS-401-03');
      res = await send(renewed);
      code = await codeOf(res);
    }
    if (code !== undefined && SESSION_ENDING.has(code)) {
      // The server ended the session (logout elsewhere, revocation, replay detected): tell every tab.
      this.end(code as SignOutReason, 'self');
      throw new SignedOutError(code as SignOutReason);
    }
    return res;
  }

  private async openSession(path: string, body: Record<string, string>, via: 'login' | 'register'): Promise<void> {
    await this.exclusive(async () => {
      const startedAt = Date.now();
      const res = await this.post(path, body);
      if (!res.ok) throw await this.errorOf(res);
      this.adopt(this.bearerFrom((await res.json()) as CredentialsBody), startedAt);
      this.broadcast({ type: 'signed-in', bearer: this.bearerOrThrow(), at: Date.now() });
      this.emit({ type: 'signed-in', via });
    });
  }

  private async renewOnce(): Promise<Bearer | undefined> {
    const before = this.bearer;
    const wasSignedIn = before !== undefined;
    return this.exclusive(async () => {
      // While this tab waited for the lock, a sibling may have renewed and handed us the result:
      // renewing again would only burn another rotation.
      const current = this.bearer;
      if (current && current !== before && Date.now() < current.renewAt) return current;

      const startedAt = Date.now();
      let res: Response;
      try {
        res = await this.post('/jts/renew');
      } catch (error) {
        this.scheduleRetry();
        throw new JtsRequestError(0, undefined, { cause: error });
      }
      if (res.ok) {
        const bearer = this.bearerFrom((await res.json()) as CredentialsBody);
        this.adopt(bearer, wasSignedIn ? this.sessionSince : startedAt);
        this.broadcast({ type: 'renewed', bearer, at: Date.now() });
        this.emit(wasSignedIn ? { type: 'renewed', via: 'self' } : { type: 'signed-in', via: 'resume' });
        return bearer;
      }
      const error = await this.errorOf(res);
      if (res.status === 401) {
        // The cookie is shared: dead (or absent) for this tab means dead for every tab.
        this.end(SESSION_ENDING.has(error.code) ? (error.code as SignOutReason) : 'JTS-401-03', 'self');
        return undefined;
      }
      this.scheduleRetry();
      throw error;
    });
  }

  private renewQuietly(): Promise<void> {
    return this.renew().then(
      () => undefined,
      () => undefined,
    );
  }

  /** Runs `task` under the cross-tab lock when the browser has Web Locks, else directly. */
  private async exclusive<T>(task: () => Promise<T>): Promise<T> {
    if ('locks' in navigator) return await navigator.locks.request('jts-renew', task);
    return await task();
  }

  private post(path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      credentials: this.credentials,
      headers: body === undefined ? { 'X-JTS-Request': '1' } : { 'X-JTS-Request': '1', 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
    });
  }

  private resolve(input: RequestInfo | URL): RequestInfo | URL {
    if (typeof input === 'string' && input.startsWith('/')) return `${this.baseUrl}${input}`;
    return input;
  }

  private bearerFrom(body: CredentialsBody): Bearer {
    const now = Date.now();
    const lifetimeMs = body.expiresIn * 1000;
    return { token: body.bearerPass, expiresAt: now + lifetimeMs, renewAt: now + lifetimeMs * this.renewAt };
  }

  private bearerOrThrow(): Bearer {
    if (!this.bearer) throw new Error('no BearerPass');
    return this.bearer;
  }

  private adopt(bearer: Bearer, sessionSince: number): void {
    this.bearer = bearer;
    this.sessionSince = sessionSince;
    this.schedule(bearer.renewAt);
  }

  private end(reason: SignOutReason, via: 'self' | 'sibling'): void {
    const wasSignedIn = this.bearer !== undefined;
    this.bearer = undefined;
    this.sessionSince = Date.now();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (via === 'self') this.broadcast({ type: 'signed-out', reason, at: Date.now() });
    if (wasSignedIn || via === 'self') this.emit({ type: 'signed-out', reason, via });
  }

  private schedule(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.renewQuietly();
    }, Math.max(0, at - Date.now()));
  }

  private scheduleRetry(): void {
    const bearer = this.bearer;
    if (bearer && Date.now() + RETRY_MS < bearer.expiresAt) this.schedule(Date.now() + RETRY_MS);
  }

  private onSiblingMessage(message: ChannelMessage): void {
    switch (message.type) {
      case 'signed-in':
      case 'renewed': {
        const wasSignedIn = this.bearer !== undefined;
        // Keep whichever BearerPass lives longer; a late message must not replace a fresher token.
        if (this.bearer && this.bearer.expiresAt >= message.bearer.expiresAt && message.type === 'renewed') return;
        // The tab that renewed renews next time too: siblings wait a little longer (15–35% of the
        // time between the renewal point and expiry), so their timers do not fire together with
        // its timer and race it for the lock before its broadcast arrives.
        const margin = message.bearer.expiresAt - message.bearer.renewAt;
        const bearer = { ...message.bearer, renewAt: message.bearer.renewAt + margin * (0.15 + Math.random() * 0.2) };
        this.adopt(bearer, message.type === 'signed-in' || !wasSignedIn ? message.at : this.sessionSince);
        this.emit(message.type === 'signed-in' || !wasSignedIn ? { type: 'signed-in', via: 'sibling' } : { type: 'renewed', via: 'sibling' });
        return;
      }
      case 'signed-out':
        // A sign-out older than this tab's session (a sibling's failed renew before our login) is stale.
        if (message.at < this.sessionSince) return;
        this.end(message.reason, 'sibling');
        return;
    }
  }

  private broadcast(message: ChannelMessage): void {
    this.channel?.postMessage(message);
  }

  private emit(event: AuthEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async errorOf(res: Response): Promise<JtsRequestError> {
    let body: ErrorBody | undefined;
    try {
      body = (await res.json()) as ErrorBody;
    } catch {
      body = undefined;
    }
    return new JtsRequestError(res.status, body);
  }
}

/** The JTS error code of a 401 response, read from a clone so the caller can still read the body. */
async function codeOf(res: Response): Promise<string | undefined> {
  if (res.status !== 401) return undefined;
  try {
    const body = (await res.clone().json()) as Partial<ErrorBody>;
    return body.error_code ?? body.error;
  } catch {
    return undefined;
  }
}
