import { createHash } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import type { KeyRing } from '../../jts/key-ring.js';
import { JTS_ALGORITHMS } from '../../jts/algorithms.js';
import { sendJson } from '../send-json.js';

export const JWKS_PATHS = ['/.well-known/jts-jwks', '/jts/.well-known/jwks.json', '/.well-known/jwks.json'] as const;

/** Public documents every origin may read, without credentials. */
const openToEveryOrigin: RequestHandler = function openCors(req, res, next) {
  res.set('Access-Control-Allow-Origin', '*');
  if (req.method === 'OPTIONS') {
    res.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS').set('Access-Control-Max-Age', '86400').status(204).end();
    return;
  }
  next();
};

/** GET /.well-known/jts-jwks (and aliases) and /.well-known/jts-configuration. */
export function wellKnownRoutes(deps: { keyRing: KeyRing; issuer: string }): Router {
  const router = Router();
  // The key set changes only with a restart, so its body and ETag are computed once.
  const body = JSON.stringify(deps.keyRing.jwks());
  const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;

  const serveJwks: RequestHandler = function jwks(req, res) {
    res.set({
      'Cache-Control': 'public, max-age=3600, stale-while-revalidate=60',
      ETag: etag,
      'Content-Type': 'application/jwk-set+json; charset=utf-8',
    });
    if (matchesEtag(req.get('if-none-match'), etag)) {
      res.status(304).end();
      return;
    }
    res.send(body);
  };
  // One route for all three paths: every request that passes this router tries fewer patterns.
  router.route([...JWKS_PATHS]).options(openToEveryOrigin).get(openToEveryOrigin, serveJwks);

  const base = deps.issuer.replace(/\/+$/, '');
  const configuration = {
    issuer: deps.issuer,
    jwks_uri: `${base}/.well-known/jts-jwks`,
    token_endpoint: `${base}/jts/login`,
    registration_endpoint: `${base}/jts/register`,
    renewal_endpoint: `${base}/jts/renew`,
    revocation_endpoint: `${base}/jts/logout`,
    sessions_endpoint: `${base}/jts/sessions`,
    jts_versions_supported: ['1.1'],
    jts_profiles_supported: ['JTS-S/v1'],
    token_signing_alg_values_supported: [...JTS_ALGORITHMS],
    active_signing_alg: deps.keyRing.signer.alg,
    stateproof_cookie_name: 'jts_state_proof',
  };
  router
    .route('/.well-known/jts-configuration')
    .options(openToEveryOrigin)
    .get(openToEveryOrigin, (_req, res) => {
      sendJson(res, 200, configuration, { 'Cache-Control': 'public, max-age=3600' });
    });
  return router;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const value = tag.trim();
    return value === '*' || value === etag || value === `W/${etag}`;
  });
}
