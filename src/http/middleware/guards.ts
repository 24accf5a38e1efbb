import type { RequestHandler } from 'express';
import { JtsError } from '../../jts/errors.js';
import { bearerOf } from './authenticate.js';

/** Every listed permission is needed (JTS-403-02 otherwise). */
export function requirePermissions(permissions: readonly string[]): RequestHandler {
  if (permissions.length === 0) throw new Error('requirePermissions needs at least one permission');
  return function requireAllPermissions(req, _res, next) {
    const held = new Set(bearerOf(req).payload.perm ?? []);
    const missing = permissions.filter((p) => !held.has(p));
    if (missing.length > 0) throw new JtsError('JTS-403-02', { message: `Missing permission: ${missing.join(', ')}.` });
    next();
  };
}

/** At least one listed permission is needed. */
export function requireAnyPermission(permissions: readonly string[]): RequestHandler {
  if (permissions.length === 0) throw new Error('requireAnyPermission needs at least one permission');
  return function requireOnePermission(req, _res, next) {
    const held = new Set(bearerOf(req).payload.perm ?? []);
    if (!permissions.some((p) => held.has(p))) throw new JtsError('JTS-403-02', { message: `One of these permissions is needed: ${permissions.join(', ')}.` });
    next();
  };
}

/** The BearerPass must belong to tenant `org` (JTS-403-03 otherwise). */
export function requireOrg(org: string): RequestHandler {
  return function requireOrganisation(req, _res, next) {
    if (bearerOf(req).payload.org !== org) throw new JtsError('JTS-403-03');
    next();
  };
}
