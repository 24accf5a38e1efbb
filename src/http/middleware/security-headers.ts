import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Paths that only ever answer JSON (or Prometheus text). Everything else may be a page of the
 * demo app served from public/ and gets the page policy.
 */
const API_PREFIXES = ['/jts', '/api', '/.well-known', '/healthz', '/readyz', '/metrics', '/openapi.json'];

function isApiPath(path: string): boolean {
  return API_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/**
 * helmet, with two Content-Security-Policies chosen by path:
 * - the JSON API loads nothing and may be framed by nobody: `default-src 'none'; frame-ancestors 'none'`,
 *   so a JSON body a browser is tricked into rendering can never run script;
 * - pages may load scripts, styles, images, fonts and fetch only from this origin, with no inline
 *   script (the demo keeps all of its code in files) and no framing (clickjacking).
 * HSTS only in production: on plain-http localhost it would pin the browser to https for a year.
 */
export function securityHeaders(options: { production: boolean }): RequestHandler {
  const common: HelmetOptions = {
    hsts: options.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // Other origins may read the JWKS with CORS; no-cors embedding stays same-site.
    crossOriginResourcePolicy: { policy: 'same-site' },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  };
  const api = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  });
  const page = helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        manifestSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        ...(options.production ? { upgradeInsecureRequests: [] } : {}),
      },
    },
  });
  return function setSecurityHeaders(req, res, next) {
    if (isApiPath(req.path)) api(req, res, next);
    else page(req, res, next);
  };
}
