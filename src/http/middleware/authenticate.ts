import type { RequestHandler } from 'express';
import type { JTSResourceServer } from '../../auth/resource-server.js';
import { JtsError } from '../../jts/errors.js';
import '../request-context.js';

const BEARER = /^Bearer +([^ ]+) *$/i;

/**
 * Requires a valid BearerPass of a live session in `Authorization: Bearer <token>` and sets
 * `req.jts`. A missing header or another scheme is JTS-401-03 with action `reauth`, which is
 * what the first clients expect.
 */
export function authenticate(resourceServer: JTSResourceServer): RequestHandler {
  return async function authenticateBearerPass(req, _res, next) {
    req.jts = await resourceServer.authenticate(presentedBearerPass(req));
    next();
  };
}

/** The token in `Authorization: Bearer <token>`, unchecked; JTS-401-03 when there is none. */
export function presentedBearerPass(req: Parameters<RequestHandler>[0]): string {
  const match = BEARER.exec(req.get('authorization') ?? '');
  if (!match?.[1]) throw new JtsError('JTS-401-03', { message: 'A BearerPass is required: Authorization: Bearer <token>.' });
  return match[1];
}

/** The authenticated BearerPass of a request that passed `authenticate()`. */
export function bearerOf(req: Parameters<RequestHandler>[0]) {
  if (!req.jts) throw new Error('authenticate() must run before this handler');
  return req.jts;
}
