import { Router, type RequestHandler } from 'express';
import type { Clock } from '../../jts/clock.js';
import { requireFreshAuth } from '../../verifier/guards.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { changeEmailBody, confirmEmailChangeBody, parseBody } from '../body.js';
import { bearerOf } from '../middleware/authenticate.js';
import { SIGN_IN_ACCOUNT } from '../middleware/sign-in-account.js';
import type { AuthRouteDeps } from './auth.js';

export type AccountRouteDeps = Pick<AuthRouteDeps, 'authServer' | 'csrf' | 'parseJson' | 'authenticate' | 'limits'> & { clock: Clock };

/**
 * POST /jts/account/email and /jts/account/email/confirm (README, "Changing the address"). Mounted
 * inside the /jts router (CORS applied there); both change state, so both need the CSRF header.
 */
export function accountRoutes(deps: AccountRouteDeps): Router {
  const { authServer, csrf, parseJson, authenticate, limits, clock } = deps;
  const router = Router();
  // RFC 9470's challenge first (with `max_age`), as for adding a factor; the use case checks the same `auth_time` again.
  const fresh: RequestHandler[] = authServer.freshAuthMaxAgeSeconds === undefined ? [] : [requireFreshAuth(authServer.freshAuthMaxAgeSeconds, { clock })];

  // The new address is mailed (a link, or a notice when it is taken), so it draws on that address's
  // budget too, shared with forgot-password and sign-in codes (security review): the per-IP and
  // per-account limits alone let a few throwaway accounts bomb one inbox. As POST /jts/mfa/verify
  // does, the address the limiters read is set after the body is parsed.
  const newAddress: RequestHandler = (req, res, next) => {
    const { newEmail } = (req.body ?? {}) as { newEmail?: unknown };
    if (typeof newEmail === 'string') res.locals[SIGN_IN_ACCOUNT] = newEmail;
    next();
  };

  // Mails: the per-IP mail limit, the signed-in account's (shared with the verification resend) and
  // the new address's. 202 whether or not it is taken: the lookup and the mail run after the answer.
  router.post('/account/email', csrf, authenticate, ...fresh, ...(limits.mail ?? []), ...(limits.mailResend ?? []), parseJson, newAddress, ...(limits.mailAccount ?? []), async (req, res) => {
    const { payload } = bearerOf(req);
    const { newEmail } = parseBody(req, changeEmailBody);
    await authServer.requestEmailChange({ prn: payload.prn, authTime: payload.auth_time }, newEmail);
    sendJson(res, 202, { success: true, message: 'Unless the address is taken, a link to confirm it is on its way there. Your address stays as it is until then.' });
  });

  // The link's token, presented by a session of the account that asked (a link opened elsewhere does nothing).
  router.post('/account/email/confirm', csrf, ...(limits.token ?? []), authenticate, parseJson, async (req, res) => {
    const { token } = parseBody(req, confirmEmailChangeBody);
    const { email } = await authServer.confirmEmailChange(bearerOf(req).payload.prn, token);
    sendJson(res, 200, { success: true, email, emailVerified: true }, NO_STORE);
  });

  return router;
}
