import { Router, type Request, type RequestHandler } from 'express';
import type { AdminAction } from '../../auth/audit.js';
import { ADMIN_USERS_PERMISSION, type UserAdministration } from '../../auth/user-administration.js';
import type { User } from '../../users/types.js';
import { requirePermissions } from '../../verifier/guards.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { createUserBody, parseBody, updateUserBody } from '../body.js';
import { bearerOf } from '../middleware/authenticate.js';
import { encodeCursor, parseUserSearch } from '../user-search-query.js';

export interface AdminRouteDeps {
  administration: UserAdministration;
  authenticate: RequestHandler;
  /** The same X-JTS-Request + Origin check as /jts, on every state-changing call (README, "Admin API"). */
  csrf: RequestHandler;
  cors: RequestHandler;
  parseJson: RequestHandler;
}

/** A user as the admin API shows it: never the password hash; instants as ISO 8601. */
function userView(user: User) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    permissions: user.permissions,
    disabled: user.disabled,
    mfaRequired: user.mfaRequired,
    createdAt: new Date(user.createdAt).toISOString(),
    updatedAt: new Date(user.updatedAt).toISOString(),
  };
}

/**
 * /admin/users: search, read, create, update, delete users, and list or end their sessions. Each
 * route needs a BearerPass of a live session whose `perm` holds admin:users (JTS-401-…, then
 * JTS-403-02), and then an account that still holds it in PostgreSQL (a demoted administrator's
 * BearerPass is refused at once, not when it expires). The service audits every call.
 */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const { administration, authenticate, csrf, parseJson } = deps;
  const router = Router();
  router.use(deps.cors);
  const mayAdminister = requirePermissions([ADMIN_USERS_PERMISSION]);
  const admin = (action: AdminAction): RequestHandler[] => [
    authenticate,
    mayAdminister,
    async function stillAdministrator(req, _res, next) {
      await administration.authorize(bearerOf(req).payload.prn, action);
      next();
    },
  ];
  const actorOf = (req: Request) => bearerOf(req).payload.prn;
  const idOf = (req: Request) => String(req.params.id);

  router.get('/users', ...admin('users.search'), async (req, res) => {
    const search = parseUserSearch(req);
    const page = await administration.search(actorOf(req), search);
    sendJson(res, 200, { users: page.users.map(userView), nextCursor: page.next ? encodeCursor(search.emailPrefix, page.next) : null }, NO_STORE);
  });

  router.post('/users', csrf, ...admin('user.create'), parseJson, async (req, res) => {
    const body = parseBody(req, createUserBody);
    const user = await administration.create(actorOf(req), {
      email: body.email,
      name: body.name ?? body.email.slice(0, body.email.indexOf('@')),
      password: body.password,
      permissions: body.permissions ?? [],
    });
    sendJson(res, 201, { user: userView(user) }, { ...NO_STORE, Location: `/admin/users/${encodeURIComponent(user.id)}` });
  });

  router.get('/users/:id', ...admin('user.read'), async (req, res) => {
    sendJson(res, 200, { user: userView(await administration.get(actorOf(req), idOf(req))) }, NO_STORE);
  });

  router.patch('/users/:id', csrf, ...admin('user.update'), parseJson, async (req, res) => {
    const patch = parseBody(req, updateUserBody);
    const { user, revokedSessions } = await administration.update(actorOf(req), idOf(req), {
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.permissions === undefined ? {} : { permissions: patch.permissions }),
      ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
      ...(patch.mfaRequired === undefined ? {} : { mfaRequired: patch.mfaRequired }),
    });
    sendJson(res, 200, { user: userView(user), revokedSessions }, NO_STORE);
  });

  router.delete('/users/:id', csrf, ...admin('user.delete'), async (req, res) => {
    const { revokedSessions } = await administration.delete(actorOf(req), idOf(req));
    sendJson(res, 200, { success: true, revokedSessions }, NO_STORE);
  });

  router.get('/users/:id/sessions', ...admin('sessions.read'), async (req, res) => {
    sendJson(res, 200, { sessions: await administration.listSessions(actorOf(req), idOf(req), bearerOf(req).payload.aid) }, NO_STORE);
  });

  router.delete('/users/:id/sessions', csrf, ...admin('sessions.revoke'), async (req, res) => {
    sendJson(res, 200, { success: true, revokedSessions: await administration.revokeSessions(actorOf(req), idOf(req)) }, NO_STORE);
  });

  // A user who lost every factor (a passkey-only account has no recovery codes) gets back in this way.
  router.delete('/users/:id/factors', csrf, ...admin('factors.reset'), async (req, res) => {
    sendJson(res, 200, { success: true, removed: await administration.resetFactors(actorOf(req), idOf(req)) }, NO_STORE);
  });

  return router;
}
