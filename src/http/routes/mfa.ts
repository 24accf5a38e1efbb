import { Router, type Request, type RequestHandler } from 'express';
import type { FactorsView } from '../../auth/auth-server.js';
import type { Clock } from '../../jts/clock.js';
import { requireFreshAuth } from '../../verifier/guards.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { JtsError } from '../../jts/errors.js';
import { mfaVerifyBody, parseBody, totpConfirmBody, totpConfirmWithTicketBody, totpStartWithTicketBody, ticketBody } from '../body.js';
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

  // A wrong code is a failed sign-in: the login limits apply, per IP and per account (the ticket's,
  // found before the per-account limiters run), and the long per-account window of 6-digit codes.
  const ticketAccount: RequestHandler = async (req, res, next) => {
    const { mfa_ticket } = parseBody(req, ticketBody);
    const email = mfa_ticket === undefined ? undefined : await authServer.ticketAccount(mfa_ticket);
    if (email !== undefined) res.locals[SIGN_IN_ACCOUNT] = email;
    next();
  };
  // Without a BearerPass these two take the ticket of an `mfa_enrollment_required` answer instead
  // (an account that must have a second factor enrols its first one before it has a session): the
  // sign-in's limits apply then, as at /mfa/verify; with one, those of a signed-in account.
  const viaTicket = (req: Request) => req.get('authorization') === undefined;
  // Awaited, so that Express 5 sees a rejection of an async middleware (authenticate, a limiter).
  const withBearer = (handler: RequestHandler): RequestHandler =>
    async function bearerOnly(req, res, next) {
      if (viaTicket(req)) next();
      else await handler(req, res, next);
    };
  const withTicket = (handler: RequestHandler): RequestHandler =>
    async function ticketOnly(req, res, next) {
      if (viaTicket(req)) await handler(req, res, next);
      else next();
    };
  const ticketOf = (ticket: string | undefined): string => {
    // What authenticate() answers to a request with neither credential.
    if (ticket === undefined) throw new JtsError('JTS-401-03', { message: 'A BearerPass is required: Authorization: Bearer <token>.' });
    return ticket;
  };
  const ticketLimits = [...(limits.login ?? []), parseJson, ticketAccount, ...(limits.loginAccount ?? []), ...(limits.codeAccount ?? [])];

  router.post('/mfa/totp', csrf, ...[...(limits.login ?? []), parseJson].map(withTicket), withBearer(authenticate), ...fresh.map(withBearer), async (req, res) => {
    if (viaTicket(req)) {
      const { mfa_ticket } = parseBody(req, totpStartWithTicketBody);
      sendJson(res, 201, await authServer.startTotpEnrolmentWithTicket(ticketOf(mfa_ticket), clientOf(req)), NO_STORE);
      return;
    }
    const { payload } = bearerOf(req);
    sendJson(res, 201, await authServer.startTotpEnrolment({ prn: payload.prn, authTime: payload.auth_time, amr: payload.amr }), NO_STORE);
  });

  // A 6-digit code checked for a session: wrong ones are counted per account (and the requests per
  // address) as a password change's current password is, else any BearerPass could guess the code
  // of an enrolment left unconfirmed and take its recovery codes (review R5).
  router.post('/mfa/totp/confirm', csrf, withBearer(authenticate), ...(limits.password ?? []).map(withBearer), ...ticketLimits.map(withTicket), withBearer(parseJson), async (req, res) => {
    if (viaTicket(req)) {
      const body = parseBody(req, totpConfirmWithTicketBody);
      const client = clientOf(req);
      const { issued, recoveryCodes } = await authServer.completeSignInWithEnrolment(ticketOf(body.mfa_ticket), body.code, client);
      sendCredentials(res, issued, 200, cookies, client.deviceId !== undefined, { recoveryCodes });
      return;
    }
    const { code } = parseBody(req, totpConfirmBody);
    const recoveryCodes = await authServer.confirmTotpEnrolment(bearerOf(req).payload.prn, code);
    sendJson(res, 200, { recoveryCodes }, NO_STORE);
  });

  router.delete('/mfa/totp', csrf, authenticate, ...fresh, async (req, res) => {
    const { payload } = bearerOf(req);
    await authServer.removeTotp({ prn: payload.prn, authTime: payload.auth_time, amr: payload.amr });
    sendJson(res, 200, { success: true });
  });

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
