import type { Request, RequestHandler, Response } from 'express';
import { JtsError } from '../jts/errors.js';
import './request-context.js';
import { sendJson } from './send-json.js';

/**
 * Permission and tenant guards, for this server's routes and for other services' (exported by
 * the package). They run after `requireBearerPass()` (or the server's `authenticate()`) and answer
 * a refusal themselves, as the JSON body of JTS.md: a service that mounts them needs no error
 * handler of ours, and never shows Express's HTML error page or a stack trace.
 */

/** Every listed permission is needed (`JTS-403-02` otherwise). Throws at build time on an empty list. */
export function requirePermissions(permissions: readonly string[]): RequestHandler {
  if (permissions.length === 0) throw new Error('requirePermissions needs at least one permission');
  return function requireAllPermissions(req, res, next) {
    const held = heldPermissions(req, res);
    if (held === undefined) return;
    const missing = permissions.filter((p) => !held.has(p));
    if (missing.length > 0) {
      refuse(res, new JtsError('JTS-403-02', { message: `Missing permission: ${missing.join(', ')}.` }));
      return;
    }
    next();
  };
}

/** At least one listed permission is needed (`JTS-403-02` otherwise). Throws at build time on an empty list. */
export function requireAnyPermission(permissions: readonly string[]): RequestHandler {
  if (permissions.length === 0) throw new Error('requireAnyPermission needs at least one permission');
  return function requireOnePermission(req, res, next) {
    const held = heldPermissions(req, res);
    if (held === undefined) return;
    if (!permissions.some((p) => held.has(p))) {
      refuse(res, new JtsError('JTS-403-02', { message: `One of these permissions is needed: ${permissions.join(', ')}.` }));
      return;
    }
    next();
  };
}

/**
 * Every listed scope is needed in the token's `scope` claim (`JTS-403-02` otherwise): for the
 * tokens /jts/token issues to services (client credentials, token exchange), whose grant is a
 * scope rather than the user's permissions. Throws at build time on an empty list.
 */
export function requireScopes(scopes: readonly string[]): RequestHandler {
  if (scopes.length === 0) throw new Error('requireScopes needs at least one scope');
  return function requireAllScopes(req, res, next) {
    const verified = verifiedOrRefuse(req, res);
    if (verified === undefined) return;
    const held = new Set(verified.payload.scope?.split(' ') ?? []);
    const missing = scopes.filter((scope) => !held.has(scope));
    if (missing.length > 0) {
      refuse(res, new JtsError('JTS-403-02', { message: `Missing scope: ${missing.join(' ')}.` }));
      return;
    }
    next();
  };
}

/** The BearerPass must belong to tenant `org` (`JTS-403-03` otherwise). */
export function requireOrg(org: string): RequestHandler {
  return function requireOrganisation(req, res, next) {
    const verified = verifiedOrRefuse(req, res);
    if (verified === undefined) return;
    if (verified.payload.org !== org) {
      refuse(res, new JtsError('JTS-403-03'));
      return;
    }
    next();
  };
}

/**
 * A guard mounted without authentication in front of it has no verified BearerPass to judge: it
 * fails closed, as a request without a credential (`JTS-401-03`), never open.
 */
function verifiedOrRefuse(req: Request, res: Response) {
  if (req.jts === undefined) {
    refuse(res, new JtsError('JTS-401-03', { message: 'A BearerPass is required.' }));
    return undefined;
  }
  return req.jts;
}

function heldPermissions(req: Request, res: Response): Set<string> | undefined {
  const verified = verifiedOrRefuse(req, res);
  return verified === undefined ? undefined : new Set(verified.payload.perm ?? []);
}

function refuse(res: Response, error: JtsError): void {
  sendJson(res, error.status, error.toBody(), error.status === 401 ? { 'WWW-Authenticate': `Bearer error="${error.key}"` } : undefined);
}
