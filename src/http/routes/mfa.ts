import { Router, type RequestHandler } from 'express';
import type { FactorsView } from '../../auth/auth-server.js';
import type { Clock } from '../../jts/clock.js';
import { requireFreshAuth } from '../../verifier/guards.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { mfaVerifyBody, parseBody, totpConfirmBody } from '../body.js';
import type { CookieSettings } from '../cookies.js';
import { clientOf, sendCredentials } from '../credentials-response.js';
import { bearerOf } from '../middleware/authenticate.js';
import { SIGN_IN_ACCOUNT } from '../middleware/sign-in-account.js';
import type { AuthRouteDeps } from './auth.js';

export type MfaRouteDeps = Pick<AuthRouteDeps, 'authServer' | 'csrf' | 'parseJson' | 'authenticate' | 'limits'> & { cookies: CookieSettings; clock: Clock };

/**
 * GET /jts/mfa, POST and DELETE /jts/mfa/totp, POST /jts/mfa/totp/confirm, POST /jts/mfa/verify
 * (README, "Second factor (TOTP)"). Mounted inside the /jts router (CORS applied there); every
 * state-changing one needs the CSRF header. Answers holding secrets are never stored by caches.
 * Enrolling and removing need a recent sign-in: the `requireFreshAuth` guard answers RFC 9470's
 * challenge (with `max_age`) before the use case, which checks the same `auth_time` again.
 */
export function mfaRoutes(deps: MfaRouteDeps): Router {
  const { authServer, csrf, parseJson, authenticate, limits, cookies, clock } = deps;
  const router = Router();
  const fresh: RequestHandler[] = authServer.freshAuthMaxAgeSeconds === undefined ? [] : [requireFreshAuth(authServer.freshAuthMaxAgeSeconds, { clock })];

  router.get('/mfa', authenticate, async (req, res) => {
    sendJson(res, 200, factorsBody(await authServer.secondFactorsOf(bearerOf(req).payload.prn)), NO_STORE);
  });

  router.post('/mfa/totp', csrf, authenticate, ...fresh, async (req, res) => {
    const { payload } = bearerOf(req);
    sendJson(res, 201, await authServer.startTotpEnrolment({ prn: payload.prn, authTime: payload.auth_time, amr: payload.amr }), NO_STORE);
  });

  // A 6-digit code checked for a session: wrong ones are counted per account (and the requests per
  // address) as a password change's current password is, else any BearerPass could guess the code
  // of an enrolment left unconfirmed and take its recovery codes (review R5).
  router.post('/mfa/totp/confirm', csrf, authenticate, ...(limits.password ?? []), parseJson, async (req, res) => {
    const { code } = parseBody(req, totpConfirmBody);
    const recoveryCodes = await authServer.confirmTotpEnrolment(bearerOf(req).payload.prn, code);
    sendJson(res, 200, { recoveryCodes }, NO_STORE);
  });

  router.delete('/mfa/totp', csrf, authenticate, ...fresh, async (req, res) => {
    const { payload } = bearerOf(req);
    await authServer.removeTotp({ prn: payload.prn, authTime: payload.auth_time, amr: payload.amr });
    sendJson(res, 200, { success: true });
  });

  // A wrong code is a failed sign-in: the login limits apply, per IP and per account (the ticket's,
  // found before the per-account limiters run), and the long per-account window of 6-digit codes.
  const ticketAccount: RequestHandler = async (req, res, next) => {
    const { mfa_ticket } = parseBody(req, mfaVerifyBody);
    const email = await authServer.ticketAccount(mfa_ticket);
    if (email !== undefined) res.locals[SIGN_IN_ACCOUNT] = email;
    next();
  };
  router.post('/mfa/verify', csrf, ...(limits.login ?? []), parseJson, ticketAccount, ...(limits.loginAccount ?? []), ...(limits.codeAccount ?? []), async (req, res) => {
    const body = parseBody(req, mfaVerifyBody);
    const client = clientOf(req);
    const proof = body.code !== undefined ? { code: body.code } : body.webauthn !== undefined ? { webauthn: body.webauthn } : { recoveryCode: body.recoveryCode ?? '' };
    const issued = await authServer.completeSignIn(body.mfa_ticket, proof, client);
    sendCredentials(res, issued, 200, cookies, client.deviceId !== undefined);
  });

  return router;
}

/** GET /jts/mfa's body: instants as ISO strings (README, "API conventions"); never a secret. */
function factorsBody(view: FactorsView) {
  const factors = view.totp
    ? [{ type: 'totp' as const, confirmed: view.totp.confirmed, createdAt: new Date(view.totp.createdAt).toISOString(), ...(view.totp.confirmedAt === undefined ? {} : { confirmedAt: new Date(view.totp.confirmedAt).toISOString() }) }]
    : [];
  return { factors, recoveryCodesLeft: view.recoveryCodesLeft };
}
