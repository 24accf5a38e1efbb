import { createHash } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { JTS_ALGORITHMS } from '../../jts/algorithms.js';
import { JTS_TYP } from '../../jts/bearer-pass/claims.js';
import type { KeyRing } from '../../jts/key-ring.js';
import { PreparedJson, sendJson } from '../../verifier/send-json.js';
import { STATE_PROOF_COOKIE } from '../cookies.js';
import { publicCors } from '../middleware/cors.js';
import { TOKEN_EXCHANGE_GRANT } from './oauth.js';

/** The JWKS path JTS.md names. */
export const JWKS_PATH = '/.well-known/jts-jwks';
/** With the aliases the first clients use. */
export const JWKS_PATHS = [JWKS_PATH, '/jts/.well-known/jwks.json', '/.well-known/jwks.json'] as const;
export const DISCOVERY_PATH = '/.well-known/jts-configuration';
/** RFC 8414 §3: Authorization Server Metadata, for OAuth 2.0 client libraries. */
export const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';
/** The current signing key's public half as PEM (SPKI), for tools that cannot read a JWKS. */
export const SIGNING_KEY_PEM_PATH = '/.well-known/jts-signing-key.pem';
const PEM_CONTENT_TYPE = 'application/x-pem-file';

const JWKS_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=60';
const JWK_SET_CONTENT_TYPE = 'application/jwk-set+json; charset=utf-8';

/** GET /.well-known/jts-jwks (and aliases), /.well-known/jts-signing-key.pem, /.well-known/jts-configuration and /.well-known/oauth-authorization-server, open to every origin. */
export function wellKnownRoutes(deps: { keyRing: KeyRing; issuer: string }): Router {
  const router = Router();
  // The key set changes only with a restart, so its body and ETag are computed once.
  const jwks = new PreparedJson(deps.keyRing.jwks(), JWK_SET_CONTENT_TYPE);
  const etag = `"${createHash('sha256').update(jwks.text).digest('base64url')}"`;
  const jwksHeaders = { 'Cache-Control': JWKS_CACHE_CONTROL, ETag: etag };
  const notModifiedHeaders = { ...jwksHeaders, 'Content-Type': JWK_SET_CONTENT_TYPE };

  const serveJwks: RequestHandler = function serveJwks(req, res) {
    if (matchesEtag(req.get('if-none-match'), etag)) {
      res.set(notModifiedHeaders).status(304).end();
      return;
    }
    sendJson(res, 200, jwks, jwksHeaders);
  };
  // One route for all three paths: every request that passes this router tries fewer patterns.
  router.route([...JWKS_PATHS]).options(publicCors).get(publicCors, serveJwks);

  // Only the signer: a verifier that reads one PEM checks current BearerPasses; during a rotation
  // (publish → switch → retire) the keys still verifying are in the JWKS, which is the standard way.
  const pem = deps.keyRing.signer.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const pemEtag = `"${createHash('sha256').update(pem).digest('base64url')}"`;
  const pemHeaders = { 'Cache-Control': JWKS_CACHE_CONTROL, ETag: pemEtag, 'Content-Type': PEM_CONTENT_TYPE };
  router
    .route(SIGNING_KEY_PEM_PATH)
    .options(publicCors)
    .get(publicCors, function serveSigningKeyPem(req, res) {
      if (matchesEtag(req.get('if-none-match'), pemEtag)) {
        res.set(pemHeaders).status(304).end();
        return;
      }
      res.status(200).set(pemHeaders).send(pem);
    });

  const base = deps.issuer.replace(/\/+$/, '');
  const configuration = new PreparedJson({
    issuer: deps.issuer,
    jwks_uri: `${base}${JWKS_PATH}`,
    // The OAuth 2.0 token endpoint (client credentials, token exchange); users sign in at login_endpoint.
    token_endpoint: `${base}/jts/token`,
    introspection_endpoint: `${base}/jts/introspect`,
    login_endpoint: `${base}/jts/login`,
    registration_endpoint: `${base}/jts/register`,
    renewal_endpoint: `${base}/jts/renew`,
    revocation_endpoint: `${base}/jts/logout`,
    sessions_endpoint: `${base}/jts/sessions`,
    // The signed security events for other services (service clients with the scope jts:events):
    // Server-Sent Events, and the same events as JSON pages for those that cannot hold a connection.
    events_endpoint: `${base}/jts/events`,
    events_poll_endpoint: `${base}/jts/events/poll`,
    jts_versions_supported: ['1.1'],
    jts_profiles_supported: [JTS_TYP],
    token_signing_alg_values_supported: [...JTS_ALGORITHMS],
    active_signing_alg: deps.keyRing.signer.alg,
    stateproof_cookie_name: STATE_PROOF_COOKIE,
  });
  const configurationHeaders = { 'Cache-Control': 'public, max-age=3600' };
  router
    .route(DISCOVERY_PATH)
    .options(publicCors)
    .get(publicCors, function serveDiscovery(_req, res) {
      sendJson(res, 200, configuration, configurationHeaders);
    });

  const metadata = new PreparedJson(authorizationServerMetadata(deps.issuer, base));
  router
    .route(OAUTH_METADATA_PATH)
    .options(publicCors)
    .get(publicCors, function serveAuthorizationServerMetadata(_req, res) {
      sendJson(res, 200, metadata, configurationHeaders);
    });
  return router;
}

/**
 * RFC 8414 §2 metadata of the OAuth side of this server (README "For services"). What is left out,
 * and why: `scopes_supported` (scopes belong to clients; listing them all would tell anonymous
 * callers every registered service's permissions), `revocation_endpoint` (/jts/logout ends a user
 * session with a StateProof, it is not RFC 7009), `authorization_endpoint` (no user-facing OAuth
 * flow). `response_types_supported` is REQUIRED by §2 and empty for that reason.
 */
function authorizationServerMetadata(issuer: string, base: string) {
  return {
    issuer,
    token_endpoint: `${base}/jts/token`,
    introspection_endpoint: `${base}/jts/introspect`,
    jwks_uri: `${base}${JWKS_PATH}`,
    grant_types_supported: ['client_credentials', TOKEN_EXCHANGE_GRANT],
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    response_types_supported: [],
    service_documentation: `${base}/docs`,
  };
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const value = tag.trim();
    return value === '*' || value === etag || value === `W/${etag}`;
  });
}
