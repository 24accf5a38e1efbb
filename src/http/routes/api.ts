import { Router, type RequestHandler } from 'express';
import type { JTSResourceServer } from '../../auth/resource-server.js';
import type { Clock } from '../../jts/clock.js';
import { JtsError } from '../../jts/errors.js';
import type { UserStore } from '../../users/types.js';
import { bearerOf, presentedBearerPass } from '../middleware/authenticate.js';
import { requirePermissions } from '../middleware/guards.js';
import { NO_STORE, sendJson } from '../send-json.js';

/** The demo API the first clients call: /api/public, /api/health, /api/profile, /api/admin. */
export function apiRoutes(deps: { users: UserStore; resourceServer: JTSResourceServer; authenticate: RequestHandler; clock: Clock; cors: RequestHandler }): Router {
  const { users, resourceServer, authenticate, clock } = deps;
  const router = Router();
  // Inside the router rather than beside it at the mount: one prefix match per request, not two.
  router.use(deps.cors);

  router.get('/public', (_req, res) => {
    sendJson(res, 200, { message: 'This endpoint is public.', timestamp: new Date(clock.now()).toISOString() });
  });

  router.get('/health', (_req, res) => {
    sendJson(res, 200, { status: 'ok', timestamp: new Date(clock.now()).toISOString() });
  });

  router.get('/profile', async (req, res) => {
    const { payload } = resourceServer.verify(presentedBearerPass(req));
    // authenticate() in its two steps: the session check and the user read do not depend on each
    // other, so they go out together and share one Redis round trip. Nothing is answered unless
    // both succeed.
    const [, user] = await Promise.all([resourceServer.assertSessionAlive(payload), users.get(payload.prn)]);
    if (!user) throw new JtsError('JTS-401-04', { message: 'The account no longer exists.' });
    sendJson(res, 200, { id: user.id, email: user.email, name: user.name, permissions: payload.perm ?? [] }, NO_STORE);
  });

  router.get('/admin', authenticate, requirePermissions(['admin:access']), (req, res) => {
    const { payload } = bearerOf(req);
    sendJson(
      res,
      200,
      { message: 'Welcome, administrator.', user: { id: payload.prn, permissions: payload.perm ?? [] }, timestamp: new Date(clock.now()).toISOString() },
      NO_STORE,
    );
  });

  return router;
}
