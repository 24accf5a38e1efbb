import type { RequestHandler } from 'express';
import { JtsError } from '../../jts/errors.js';

/**
 * JTS.md, "Cookie and CSRF": every state-changing /jts call needs `X-JTS-Request: 1` (a custom
 * header a cross-site form cannot send), and an `Origin`, when sent, must be this server's own
 * or one of `allowedOrigins`.
 */
export function requireCsrf(options: { allowedOrigins: readonly string[] }): RequestHandler {
  const allowed = new Set(options.allowedOrigins);
  return function csrfCheck(req, _res, next) {
    if (req.get('x-jts-request') !== '1') throw new JtsError('csrf_missing');
    const origin = req.get('origin');
    if (origin !== undefined && !allowed.has(origin) && origin !== `${req.protocol}://${req.get('host') ?? ''}`) {
      throw new JtsError('csrf_origin');
    }
    next();
  };
}
