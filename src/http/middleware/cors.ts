import type { NextFunction, RequestHandler, Response } from 'express';
import cors, { type CorsOptions } from 'cors';

/**
 * The server's two CORS policies, each built once:
 * - `corsPolicy()`, for /api, /jts and /admin: a listed origin is echoed back with credentials (cookies);
 * - `publicCors`, for the documents every origin may read (JWKS, discovery, OpenAPI), never with
 *   credentials.
 * Each router applies its policy once, as its first layer; /jts/sessions is mounted inside the
 * /jts router (routes/auth.ts), so no request meets the credentialed policy twice.
 */

export interface CorsPolicyOptions {
  /** Exact origins (`https://app.example.com`); `*` (refused in production) opens reads to all, without credentials. */
  allowedOrigins: readonly string[];
  /** How long a browser may cache a preflight answer. */
  maxAgeSeconds: number;
}

const BASE: CorsOptions = {
  methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', 'X-JTS-Request', 'X-JTS-StateProof', 'X-JTS-Device-ID', 'X-Request-Id'],
  exposedHeaders: ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'WWW-Authenticate'],
};

/**
 * CORS for the API and /jts: a listed origin is echoed back with credentials (cookies) allowed;
 * any other origin gets no CORS header at all, so the browser keeps the response from its
 * script. `*` never goes together with credentials. An OPTIONS that is not an allowed preflight
 * gets an empty 204.
 */
export function corsPolicy(options: CorsPolicyOptions): RequestHandler {
  const base: CorsOptions = { ...BASE, maxAge: options.maxAgeSeconds };
  const open = options.allowedOrigins.includes('*');
  const allowed = new Set(options.allowedOrigins);
  const middleware = open
    ? cors({ ...base, origin: '*', credentials: false })
    : cors((req, callback) => {
        const origin = req.headers.origin;
        callback(null, origin !== undefined && allowed.has(origin) ? { ...base, origin, credentials: true } : { origin: false });
      });
  // The cors package answers a preflight from an allowed origin itself; any other OPTIONS would
  // reach Express's automatic text/plain method list, and /api and /jts answer only JSON or nothing.
  const answerOptions = (res: Response, next: NextFunction) => (error?: unknown) => {
    if (error !== undefined) next(error);
    else res.status(204).end();
  };
  return function applyCorsPolicy(req, res, next) {
    // The answer depends on Origin whether or not it is allowed; caches must key on it.
    if (!open) res.vary('Origin');
    middleware(req, res, req.method === 'OPTIONS' ? answerOptions(res, next) : next);
  };
}

/** How long a browser may cache a preflight to a public document: a day, they change only with a deployment. */
const PUBLIC_PREFLIGHT_MAX_AGE = String(24 * 3600);

/**
 * CORS for the public documents: every origin may read them, never with credentials (no
 * `Vary: Origin` needed, the answer is the same for all). A route that also serves OPTIONS gets
 * its preflight answered here.
 */
export const publicCors: RequestHandler = function openCors(req, res, next) {
  res.set('Access-Control-Allow-Origin', '*');
  if (req.method === 'OPTIONS') {
    res.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS').set('Access-Control-Max-Age', PUBLIC_PREFLIGHT_MAX_AGE).status(204).end();
    return;
  }
  next();
};
