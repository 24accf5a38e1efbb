import type { Bearer } from './jts-bearer.js';
import type { AuthServerEndpoint } from './jts-endpoint.js';
import { unauthorizedCodeOf } from './jts-error-body.js';
import { isSessionEnding, SignedOutError } from './jts-errors.js';
import type { SharedSession } from './jts-session.js';

/** What `fetchWithBearer` needs from its JtsClient. */
export interface BearerFetchContext {
  readonly server: AuthServerEndpoint;
  readonly session: SharedSession;
  /** Origins the BearerPass may be sent to. */
  readonly apiOrigins: ReadonlySet<string>;
}

/**
 * `fetch` with `Authorization: Bearer`. Renews first when the BearerPass is due, and once more
 * (then retries the call once) when the server answers JTS-401-01. Calls to /jts/* also get
 * the CSRF header and the configured credentials mode. Throws SignedOutError when the session
 * is over; any other response, 403 included, is returned to the caller.
 */
export async function fetchWithBearer(context: BearerFetchContext, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const { server, session } = context;
  const request = new Request(server.resolve(input), init);
  const url = new URL(request.url);
  // Whoever receives a BearerPass can use it until it expires: it goes only where it is meant to.
  if (!context.apiOrigins.has(url.origin)) throw new TypeError(`Refusing to send the BearerPass to ${url.origin}`);
  const toAuthServer = server.serves(url);

  const send = async (bearer: Bearer): Promise<Response> => {
    const headers = new Headers(request.headers);
    headers.set('Authorization', `Bearer ${bearer.token}`);
    if (toAuthServer) headers.set('X-JTS-Request', '1');
    return fetch(new Request(request.clone(), { headers, ...(toAuthServer ? { credentials: server.credentials } : {}) }));
  };

  let bearer = session.bearer;
  if (!bearer || Date.now() >= bearer.renewAt) {
    // A failed early renewal is fine while the current BearerPass is still valid.
    bearer = (await session.renew().catch(() => undefined)) ?? session.bearer;
    if (bearer && Date.now() >= bearer.expiresAt) bearer = undefined;
  }
  if (!bearer) throw new SignedOutError('JTS-401-03');

  let res = await send(bearer);
  let code = await unauthorizedCodeOf(res);
  if (code === 'JTS-401-01') {
    const renewed = await session.renew();
    if (!renewed) throw new SignedOutError('JTS-401-03');
    res = await send(renewed);
    code = await unauthorizedCodeOf(res);
  }
  if (isSessionEnding(code)) {
    // The server ended the session (logout elsewhere, revocation, replay detected): tell every tab.
    session.end(code, 'self');
    throw new SignedOutError(code);
  }
  return res;
}
