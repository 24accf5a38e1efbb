import type { Request } from 'express';
import type { ServiceClient } from '../accounts/sql-client-store.js';
import type { AuditSink } from '../auth/audit.js';
import type { ClientDirectory } from '../auth/client-directory.js';
import { OAuthError } from '../auth/oauth-errors.js';
import { HttpError } from './errors.js';
import type { OAuthForm } from './oauth-form.js';

const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

/**
 * The service client of an OAuth request, authenticated with HTTP Basic as RFC 6749 §2.3.1 says:
 * the id and secret are each form-urlencoded, then joined by ":" and base64-encoded. Undefined
 * when the request has no Authorization header (token exchange allows that); any other failure
 * is `invalid_client`, answered 401 with `WWW-Authenticate: Basic`.
 *
 * Only `client_secret_basic`: a secret in the body (`client_secret_post`) is refused rather than
 * ignored, so a client that sends one learns at once that it is not used (RFC 6749 §2.3.1 lets
 * a server decline it; discovery says `token_endpoint_auth_methods_supported: client_secret_basic`).
 */
export function authenticateClient(req: Request, form: OAuthForm, clients: ClientDirectory, audit: AuditSink): ServiceClient | undefined {
  if (form.get('client_secret') !== undefined || form.get('client_assertion') !== undefined) {
    throw new HttpError('invalid_request', { message: 'Authenticate the client with HTTP Basic (client_secret_basic); credentials in the body are not accepted.' });
  }
  const credentials = basicCredentialsOf(req);
  if (credentials === undefined) return undefined;
  const bodyId = form.get('client_id');
  if (bodyId !== undefined && bodyId !== credentials.id) throw new OAuthError('invalid_client', { message: '`client_id` in the body differs from the authenticated client.' });
  return checkClient(credentials, clients, audit);
}

/**
 * The service client of a request without a body (GET /jts/events): HTTP Basic required, with the
 * same checks and answers as {@link authenticateClient}.
 */
export function requireBasicClient(req: Request, clients: ClientDirectory, audit: AuditSink): ServiceClient {
  const credentials = basicCredentialsOf(req);
  if (credentials === undefined) throw new OAuthError('invalid_client', { message: 'This endpoint needs HTTP Basic client authentication.' });
  return checkClient(credentials, clients, audit);
}

/** The Basic credentials of the request; undefined without an Authorization header, `invalid_client` when it is not Basic. */
function basicCredentialsOf(req: Request): { id: string; secret: string } | undefined {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  const credentials = basicCredentials(header);
  if (credentials === undefined) throw new OAuthError('invalid_client', { message: 'The Authorization header must be Basic with a form-urlencoded client id and secret.' });
  return credentials;
}

function checkClient(credentials: { id: string; secret: string }, clients: ClientDirectory, audit: AuditSink): ServiceClient {
  const result = clients.authenticate(credentials.id, credentials.secret);
  if (!result.ok) {
    audit({ event: 'client.auth_failed', reason: result.reason, client: credentials.id.slice(0, 64) });
    // An unknown id and a wrong secret read the same; only the right secret of a disabled client learns more.
    throw new OAuthError('invalid_client', { message: result.reason === 'disabled' ? 'The client is disabled.' : 'Client authentication failed.' });
  }
  return result.client;
}

/** The id and secret of a Basic header, or undefined when it is not one. */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
  const encoded = BASIC.exec(header)?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (id === undefined || secret === undefined || id === '' || id.length > 256 || secret.length > 256) return undefined;
  return { id, secret };
}

/** application/x-www-form-urlencoded decoding of one value ("+" is a space); undefined when malformed. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
