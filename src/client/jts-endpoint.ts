/** Where the auth server lives and how this client talks to its /jts endpoints. */
export class AuthServerEndpoint {
  /** The auth server's origin, resolved against this page's address. */
  readonly origin: string;

  /**
   * @param baseUrl the server's URL without a trailing slash; '' for this page's own origin
   * @param credentials the fetch credentials mode that lets the StateProof cookie travel
   */
  constructor(
    private readonly baseUrl: string,
    readonly credentials: RequestCredentials,
  ) {
    this.origin = new URL(this.baseUrl || '/', location.href).origin;
  }

  /**
   * POSTs to a /jts endpoint with `X-JTS-Request: 1`, the CSRF guard of JTS.md ("Cookie and
   * CSRF"). `no-store`: the answers carry credentials, which must never come from a cache.
   */
  post(path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      credentials: this.credentials,
      headers: body === undefined ? { 'X-JTS-Request': '1' } : { 'X-JTS-Request': '1', 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: 'no-store',
    });
  }

  /** A path such as '/api/profile' is taken relative to the auth server, not to the page. */
  resolve(input: RequestInfo | URL): RequestInfo | URL {
    if (typeof input === 'string' && input.startsWith('/')) return `${this.baseUrl}${input}`;
    return input;
  }

  /** Whether `url` is one of the auth server's own /jts/ endpoints, which need the CSRF header and the cookie. */
  serves(url: URL): boolean {
    return url.origin === this.origin && url.pathname.startsWith('/jts/');
  }
}
