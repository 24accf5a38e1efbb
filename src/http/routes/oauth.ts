import express, { Router, type Request, type Response } from 'express';
import type { ServiceClient } from '../../accounts/sql-client-store.js';
import type { AuditSink } from '../../auth/audit.js';
import { SCOPE_TOKEN_PATTERN } from '../../auth/client-admin.js';
import type { ClientDirectory } from '../../auth/client-directory.js';
import type { Introspection } from '../../auth/introspection.js';
import { OAuthError } from '../../auth/oauth-errors.js';
import type { OAuthGrants } from '../../auth/oauth-grants.js';
import type { BearerPassClaims } from '../../jts/bearer-pass/claims.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { authenticateClient } from '../client-auth.js';
import { HttpError } from '../errors.js';
import { setRateLimitKey, type OAuthLimits } from '../middleware/oauth-rate-limit.js';
import { FORM_MEDIA_TYPE, OAuthForm } from '../oauth-form.js';

export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface OAuthRouteDeps {
  grants: OAuthGrants;
  introspection: Introspection;
  clients: ClientDirectory;
  audit: AuditSink;
  bodyLimit: string;
  /** Per-user exchange limit and per-client introspection limit (oauth-rate-limit.ts); empty when limits are off. */
  limits: OAuthLimits;
}

/** RFC 6749 §5.1: token answers are never cached. */
const TOKEN_HEADERS = { ...NO_STORE, Pragma: 'no-cache' };

/** What the first half of a token exchange hands to the second, past the per-user limit. */
interface PendingExchange {
  subject: BearerPassClaims;
  actor: ServiceClient | undefined;
  audience: string;
  scopes: string[] | undefined;
}

/**
 * POST /jts/token (client credentials, token exchange) and POST /jts/introspect: the OAuth 2.0
 * face of the server for services (README "For services"). These routes read no cookie, so the
 * `X-JTS-Request` CSRF rule of the browser routes does not apply: a cross-site form can reach
 * them but carries nothing they honour (a client secret in Basic, a token in the body), and
 * client libraries would not send the header. No CORS either: callers are servers.
 */
export function oauthRoutes(deps: OAuthRouteDeps): Router {
  const { grants, introspection, clients, audit, limits } = deps;
  const router = Router();
  const parseForm = express.text({ type: FORM_MEDIA_TYPE, limit: deps.bodyLimit });
  // What the first handler of a route learnt, for the one after the rate limiter (typed, unlike res.locals).
  const pending = new WeakMap<Request, PendingExchange>();
  const introspecting = new WeakMap<Request, { client: ServiceClient; token: string }>();

  router.post(
    '/token',
    parseForm,
    async function tokenRequest(req, res, next) {
      const form = OAuthForm.of(req);
      const grantType = form.require('grant_type');
      const client = authenticateClient(req, form, clients, audit);
      if (grantType === CLIENT_CREDENTIALS_GRANT) {
        if (client === undefined) throw new OAuthError('invalid_client', { message: 'The client_credentials grant needs HTTP Basic client authentication.' });
        sendJson(res, 200, grants.clientCredentials(client, scopesOf(form)), TOKEN_HEADERS);
        return;
      }
      if (grantType !== TOKEN_EXCHANGE_GRANT) throw new OAuthError('unsupported_grant_type', { message: `Supported grant types: ${CLIENT_CREDENTIALS_GRANT}, ${TOKEN_EXCHANGE_GRANT}.` });
      const exchange = exchangeRequest(form);
      const subject = await grants.verifySubject(exchange.subjectToken);
      pending.set(req, { subject, actor: client, audience: exchange.audience, scopes: exchange.scopes });
      setRateLimitKey(res, `prn:${subject.prn}`);
      next();
    },
    ...(limits.exchange ?? []),
    function exchangeToken(req, res) {
      const exchange = pending.get(req);
      if (exchange === undefined) throw new Error('tokenRequest() must run before exchangeToken()');
      sendJson(res, 200, grants.exchange(exchange.subject, exchange.audience, exchange.scopes, exchange.actor, originOf(req)), TOKEN_HEADERS);
    },
  );

  router.post(
    '/introspect',
    parseForm,
    function introspectionClient(req, res, next) {
      const form = OAuthForm.of(req);
      const client = authenticateClient(req, form, clients, audit);
      if (client === undefined) throw new OAuthError('invalid_client', { message: 'Introspection needs HTTP Basic client authentication.' });
      const token = form.require('token');
      // RFC 7662 §2.1: token_type_hint is optional and may be ignored; every token here is a BearerPass.
      introspecting.set(req, { client, token });
      setRateLimitKey(res, `client:${client.id}`);
      next();
    },
    ...(limits.introspect ?? []),
    async function introspect(req, res: Response) {
      const request = introspecting.get(req);
      if (request === undefined) throw new Error('introspectionClient() must run before introspect()');
      const { client, token } = request;
      sendJson(res, 200, await introspection.introspect(token, client), TOKEN_HEADERS);
    },
  );

  return router;
}

/** RFC 8693 §2.1 parameters; only what this server supports is accepted, the rest refused by name. */
function exchangeRequest(form: OAuthForm): { subjectToken: string; audience: string; scopes: string[] | undefined } {
  const subjectToken = form.require('subject_token');
  const subjectTokenType = form.require('subject_token_type');
  if (subjectTokenType !== ACCESS_TOKEN_TYPE) throw new HttpError('invalid_request', { message: `\`subject_token_type\` must be ${ACCESS_TOKEN_TYPE}.` });
  const requested = form.get('requested_token_type');
  if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw new HttpError('invalid_request', { message: `\`requested_token_type\` must be ${ACCESS_TOKEN_TYPE}.` });
  for (const unsupported of ['actor_token', 'resource']) {
    if (form.get(unsupported) !== undefined) throw new HttpError('invalid_request', { message: `\`${unsupported}\` is not supported; name the target service with \`audience\`.` });
  }
  return { subjectToken, audience: form.require('audience'), scopes: scopesOf(form) };
}

/** RFC 6749 §3.3: space-delimited scope-tokens; undefined when `scope` is absent. */
function scopesOf(form: OAuthForm): string[] | undefined {
  const value = form.get('scope');
  if (value === undefined) return undefined;
  const scopes = value.split(' ').filter((scope) => scope !== '');
  if (scopes.length === 0 || scopes.some((scope) => !SCOPE_TOKEN_PATTERN.test(scope))) throw new OAuthError('invalid_scope', { message: '`scope` must be scope-tokens separated by spaces (RFC 6749 §3.3).' });
  return [...new Set(scopes)];
}

function originOf(req: Request): { ip: string | undefined; userAgent: string | undefined } {
  return { ip: req.ip, userAgent: req.get('user-agent')?.slice(0, 256) };
}
