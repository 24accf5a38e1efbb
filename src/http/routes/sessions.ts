import { Router, type RequestHandler } from 'express';
import type { JTSAuthServer } from '../../auth/auth-server.js';
import { ID_PATTERN } from '../../jts/state-proof.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { bearerOf } from '../middleware/authenticate.js';
import { HttpError } from '../errors.js';

/**
 * GET /jts/sessions, DELETE /jts/sessions/:aid, POST /jts/sessions/revoke-others. Mounted inside
 * the /jts router (`AuthRouteDeps.sessions`), which has applied the CORS policy.
 */
export function sessionRoutes(deps: { authServer: JTSAuthServer; authenticate: RequestHandler; csrf: RequestHandler }): Router {
  const { authServer, authenticate, csrf } = deps;
  const router = Router();

  router.get('/', authenticate, async (req, res) => {
    const { payload } = bearerOf(req);
    const [sessions, ended] = await Promise.all([authServer.listSessions(payload.prn, payload.aid), authServer.listEndedSessions(payload.prn)]);
    sendJson(res, 200, { sessions, ended }, NO_STORE);
  });

  router.post('/revoke-others', csrf, authenticate, async (req, res) => {
    const { payload } = bearerOf(req);
    const ended = await authServer.revokeOtherSessions(payload.prn, payload.aid);
    sendJson(res, 200, { success: true, revokedSessions: ended.length });
  });

  router.delete('/:aid', csrf, authenticate, async (req, res) => {
    const { payload } = bearerOf(req);
    // The lookup is scoped to the caller's own sessions: another user's aid is simply not found.
    const aid = String(req.params.aid);
    const ended = ID_PATTERN.test(aid) && (await authServer.revokeSession(payload.prn, aid));
    if (!ended) throw new HttpError('not_found', { message: 'No such session.' });
    sendJson(res, 200, { success: true, current: aid === payload.aid });
  });

  return router;
}
