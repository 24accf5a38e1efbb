import type { Request, RequestHandler, Response } from 'express';
import { systemClock, type Clock } from '../clock.js';
import { JtsError, type CodedError } from '../errors.js';
import './request-context.js';
import { sendJson } from './send-json.js';
import { isFreshAuth, StepUpError } from './step-up.js';

/**
 * Permission, tenant and step-up guards, for this server's routes and for other services' (exported by
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

/** Options of {@link requireFreshAuth}. */
export interface FreshAuthOptions {
  /** The time source (default: the system clock); the server passes its own so tests can move it. */
  clock?: Clock;
}

/**
 * The sign-in behind the BearerPass must be at most `maxAgeSeconds` old: `auth_time` (OIDC Core
 * §2, seconds since the epoch; renewals keep it) is present and `now - auth_time <= maxAgeSeconds`.
 * Otherwise 401 `insufficient_user_authentication` with `action: "reauth"` and RFC 9470's challenge
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age="<maxAgeSeconds>"`.
 * A token without `auth_time` (a service token from /jts/token) is refused: it cannot show a
 * sign-in. An `auth_time` ahead of the clock (skew between machines) counts as fresh. Throws at
 * build time unless `maxAgeSeconds` is a whole number ≥ 0.
 */
export function requireFreshAuth(maxAgeSeconds: number, options: FreshAuthOptions = {}): RequestHandler {
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) throw new Error(`requireFreshAuth needs a whole number of seconds ≥ 0, got ${String(maxAgeSeconds)}`);
  const clock = options.clock ?? systemClock;
  const challenge = { 'WWW-Authenticate': `Bearer error="insufficient_user_authentication", max_age="${String(maxAgeSeconds)}"` };
  return function requireRecentSignIn(req, res, next) {
    const verified = verifiedOrRefuse(req, res);
    if (verified === undefined) return;
    const now = clock.now();
    if (!isFreshAuth(verified.payload.auth_time, now, maxAgeSeconds)) {
      refuse(res, new StepUpError('fresh_auth_required'), challenge, now);
      return;
    }
    next();
  };
}

/**
 * Every named RFC 8176 method (`pwd`, `otp`, `mfa`, `hwk`, …) must be in the BearerPass's `amr`;
 * a missing `amr` holds none. Otherwise 401 `insufficient_user_authentication` with `action:
 * "reauth"`, the message naming the missing methods, and `WWW-Authenticate: Bearer
 * error="insufficient_user_authentication"` — RFC 9470 has no challenge parameter for methods
 * (its `acr_values` names an authentication context class, a different claim), so none is sent.
 * Throws at build time on an empty list.
 */
export function requireAmr(...methods: readonly string[]): RequestHandler {
  if (methods.length === 0) throw new Error('requireAmr needs at least one method');
  const challenge = { 'WWW-Authenticate': 'Bearer error="insufficient_user_authentication"' };
  return function requireAuthMethods(req, res, next) {
    const verified = verifiedOrRefuse(req, res);
    if (verified === undefined) return;
    const held = verified.payload.amr ?? [];
    const missing = methods.filter((method) => !held.includes(method));
    if (missing.length > 0) {
      refuse(res, new StepUpError('auth_method_required', { message: `This needs a sign-in with: ${missing.join(', ')}. Sign in again with them, then retry.` }), challenge);
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

function refuse(res: Response, error: CodedError, challenge?: Readonly<Record<string, string>>, now?: number): void {
  sendJson(res, error.status, error.toBody(now), challenge ?? (error.status === 401 ? { 'WWW-Authenticate': `Bearer error="${error.key}"` } : undefined));
}
