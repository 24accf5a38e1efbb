import { Router, type RequestHandler } from 'express';
import type { Clock } from '../../jts/clock.js';
import { JtsError } from '../../jts/errors.js';
import type { UserStore } from '../../users/types.js';
import { bearerOf } from '../middleware/authenticate.js';
import { requirePermissions } from '../middleware/guards.js';

/** The demo API the first clients call: /api/public, /api/health, /api/profile, /api/admin. */
export function apiRoutes(deps: { users: UserStore; authenticate: RequestHandler; clock: Clock }): Router {
  const { users, authenticate, clock } = deps;
  const router = Router();

  router.get('/public', (_req, res) => {
    res.json({ message: 'This endpoint is public.', timestamp: new Date(clock.now()).toISOString() });
  });

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', timestamp: new Date(clock.now()).toISOString() });
  });

  router.get('/profile', authenticate, async (req, res) => {
    const { payload } = bearerOf(req);
    const user = await users.get(payload.prn);
    if (!user) throw new JtsError('JTS-401-04', { message: 'The account no longer exists.' });
    res.set('Cache-Control', 'no-store').json({ id: user.id, email: user.email, name: user.name, permissions: payload.perm ?? [] });
  });

  router.get('/admin', authenticate, requirePermissions(['admin:access']), (req, res) => {
    const { payload } = bearerOf(req);
    res.set('Cache-Control', 'no-store').json({
      message: 'Welcome, administrator.',
      user: { id: payload.prn, permissions: payload.perm ?? [] },
      timestamp: new Date(clock.now()).toISOString(),
    });
  });

  return router;
}
