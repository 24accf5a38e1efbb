import { Router, type RequestHandler } from 'express';
import type { MirroredUserStore } from '../../auth/mirrored-users.js';
import type { JTSResourceServer } from '../../auth/resource-server.js';
import type { BearerPassClaims } from '../../jts/bearer-pass/claims.js';
import { seconds, type Clock } from '../../jts/clock.js';
import { JtsError } from '../../jts/errors.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { authenticatedRoute, bearerOf } from '../middleware/authenticate.js';
import { requirePermissions } from '../../verifier/guards.js';

/** The demo API the first clients call: /api/public, /api/health, /api/profile, /api/admin. */
export function apiRoutes(deps: { users: Pick<MirroredUserStore, 'profile'>; resourceServer: JTSResourceServer; authenticate: RequestHandler; clock: Clock; cors: RequestHandler }): Router {
  const { users, authenticate, clock } = deps;
  const router = Router();
  // Inside the router rather than beside it at the mount: one prefix match per request, not two.
  router.use(deps.cors);
  // `timestamp` is Unix seconds, as in the error envelope (README, "API conventions").
  const now = () => seconds(clock.now());

  router.get('/public', (_req, res) => {
    sendJson(res, 200, { message: 'This endpoint is public.', timestamp: now() });
  });

  router.get('/health', (_req, res) => {
    sendJson(res, 200, { status: 'ok', timestamp: now() });
  });

  // The user read goes out with the session check: one Redis round trip for the whole request.
  const readUser = (payload: BearerPassClaims) => users.profile(payload.prn);
  router.get(
    '/profile',
    authenticatedRoute(deps.resourceServer, readUser, (_req, res, { payload }, user) => {
      if (!user) throw new JtsError('JTS-401-04', { message: 'The account no longer exists.' });
      sendJson(res, 200, { id: user.id, email: user.email, name: user.name, permissions: payload.perm ?? [] }, NO_STORE);
    }),
  );

  router.get('/admin', authenticate, requirePermissions(['admin:access']), (req, res) => {
    const { payload } = bearerOf(req);
    sendJson(res, 200, { message: 'Welcome, administrator.', user: { id: payload.prn, permissions: payload.perm ?? [] }, timestamp: now() }, NO_STORE);
  });

  return router;
}
