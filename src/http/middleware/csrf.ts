import type { RequestHandler } from 'express';
import { HttpError } from '../errors.js';

/**
 * JTS.md, "Cookie and CSRF": every state-changing /jts call needs `X-JTS-Request: 1` (a custom
 * header a cross-site form cannot send), and an `Origin`, when sent, must be allowed: one of
 * `allowedOrigins` (the issuer's origin and CORS_ORIGINS). Outside production the origin the
 * request was addressed to (its Host) is allowed too, so http://127.0.0.1:3000 works as well as
 * localhost; production does not trust Host, which a DNS-rebinding page controls.
 */
export function requireCsrf(options: { allowedOrigins: readonly string[]; allowRequestHost: boolean }): RequestHandler {
  const allowed = new Set(options.allowedOrigins);
  const { allowRequestHost } = options;
  return function csrfCheck(req, _res, next) {
    if (req.get('x-jts-request') !== '1') throw new HttpError('csrf_missing');
    const origin = req.get('origin');
    if (origin !== undefined && !allowed.has(origin) && !(allowRequestHost && origin === `${req.protocol}://${req.get('host') ?? ''}`)) {
      throw new HttpError('csrf_origin');
    }
    next();
  };
}
