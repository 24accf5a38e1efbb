import type { Request, RequestHandler, Response } from 'express';
import type { JTSResourceServer } from '../../auth/resource-server.js';
import { bearerTokenOf } from '../../jts/authorization-header.js';
import type { BearerPassClaims } from '../../jts/bearer-pass/claims.js';
import { JtsError } from '../../jts/errors.js';
import '../../verifier/request-context.js';

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

export interface AuthenticatedRead<T> {
  /** `authenticate()` with the route's own read sent alongside the session check. */
  readonly middleware: RequestHandler;
  /** What the read returned for this request; only in handlers after `middleware`. */
  resultOf(res: Response): T;
}

/**
 * `authenticate()` for a route that reads the store anyway: `authenticate()`'s two steps, with
 * `read` started together with the session check, because neither depends on the other. Both
 * share one Redis round trip (auto-pipelining), which is what keeps GET /api/profile at one
 * (README, Performance). The next handler runs only when both succeeded; the errors come in
 * `authenticate()`'s order: no BearerPass, then signature and claims, then the session check or
 * the read, whichever fails first.
 */
export function authenticateAndRead<T>(resourceServer: JTSResourceServer, read: (payload: BearerPassClaims) => Promise<T>): AuthenticatedRead<T> {
  const key = Symbol('authenticated read');
  return {
    middleware: async function authenticateBearerPassAndRead(req, res, next) {
      const verified = resourceServer.verify(presentedBearerPass(req));
      const [, result] = await Promise.all([resourceServer.assertSessionAlive(verified.payload), read(verified.payload)]);
      req.jts = verified;
      (res.locals as Record<symbol, unknown>)[key] = result;
      next();
    },
    resultOf(res) {
      const locals = res.locals as Record<symbol, unknown>;
      if (!(key in locals)) throw new Error('authenticateAndRead() must run before this handler');
      return locals[key] as T;
    },
  };
}

/** The token in `Authorization: Bearer <token>`, unchecked; JTS-401-03 when there is none. */
function presentedBearerPass(req: Request): string {
  const token = bearerTokenOf(req.get('authorization'));
  if (token === undefined) throw new JtsError('JTS-401-03', { message: 'A BearerPass is required: Authorization: Bearer <token>.' });
  return token;
}

/** The authenticated BearerPass of a request that passed `authenticate()`. */
export function bearerOf(req: Request) {
  if (!req.jts) throw new Error('authenticate() must run before this handler');
  return req.jts;
}
