import { Router, type RequestHandler } from 'express';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { codeSignInBody, emailBody, notMeBody, parseBody, resetPasswordBody, verifyEmailBody } from '../body.js';
import type { CookieSettings } from '../cookies.js';
import { clientOf, sendCredentials } from '../credentials-response.js';
import { bearerOf } from '../middleware/authenticate.js';
import { knownDeviceContext, type AuthRouteDeps } from './auth.js';

export type EmailRouteDeps = Pick<AuthRouteDeps, 'authServer' | 'csrf' | 'parseJson' | 'authenticate' | 'limits' | 'knownDevices'> & { cookies: CookieSettings };

/**
 * The same 202 body whatever happens next: the work runs after the answer (auth/background.ts),
 * so neither body nor timing says whether the address has an account.
 */
const ACCEPTED = { success: true, message: 'If an account uses this address, a mail is on its way.' } as const;

/**
 * POST /jts/password/forgot, /jts/password/reset, /jts/email/verify, /jts/email/verify/resend,
 * /jts/login/code, /jts/login/code/verify, /jts/not-me. Mounted inside the /jts router (CORS applied there);
 * each is state-changing, so each needs the CSRF header.
 */
export function emailRoutes(deps: EmailRouteDeps): Router {
  const { authServer, csrf, parseJson, limits, cookies } = deps;
  const router = Router();
  const mailLimits = (after: 'mailAccount' | 'mailResend'): [RequestHandler[], RequestHandler[]] => [limits.mail ?? [], limits[after] ?? []];

  const [forgotIp, forgotAccount] = mailLimits('mailAccount');
  router.post('/password/forgot', csrf, ...forgotIp, parseJson, ...forgotAccount, (req, res) => {
    const { email } = parseBody(req, emailBody);
    authServer.forgotPassword(email);
    sendJson(res, 202, ACCEPTED);
  });

  router.post('/password/reset', csrf, ...(limits.token ?? []), parseJson, async (req, res) => {
    const { token, newPassword } = parseBody(req, resetPasswordBody);
    const { revoked } = await authServer.resetPassword(token, newPassword);
    sendJson(res, 200, { success: true, revokedSessions: revoked });
  });

  // A BearerPass is optional here: presented, it must be valid (401 as anywhere, the link is not
  // spent); a session of the link's own account, or its password in the body, keeps the password
  // (EmailFlows.verifyEmail).
  // Express 5 awaits the returned promise of authenticate() and passes its rejection on.
  const bearerIfPresented: RequestHandler = (req, res, next) => {
    if (req.get('authorization') !== undefined) return deps.authenticate(req, res, next);
    next();
    return undefined;
  };
  router.post('/email/verify', csrf, ...(limits.token ?? []), bearerIfPresented, parseJson, async (req, res) => {
    const { token, password } = parseBody(req, verifyEmailBody);
    const { passwordReset } = await authServer.verifyEmail(token, { ...(req.jts ? { prn: req.jts.payload.prn } : {}), ...(password === undefined ? {} : { password }) });
    sendJson(res, 200, { success: true, emailVerified: true, passwordReset });
  });

  const [resendIp, resendAccount] = mailLimits('mailResend');
  router.post('/email/verify/resend', csrf, deps.authenticate, ...resendIp, ...resendAccount, (req, res) => {
    authServer.resendVerification(bearerOf(req).payload.prn);
    sendJson(res, 202, { success: true, message: 'Unless the address is verified already, a new link is on its way.' });
  });

  router.post('/login/code', csrf, ...forgotIp, parseJson, ...forgotAccount, (req, res) => {
    const { email } = parseBody(req, emailBody);
    authServer.requestSignInCode(email);
    sendJson(res, 202, ACCEPTED);
  });

  // Guessing a code is guessing a password: failures count per IP (the login limits) and per account,
  // on the code's own budgets (RATE_LIMIT_LOGIN_ACCOUNT's rule, and RATE_LIMIT_CODE_ACCOUNT's long
  // window): a stranger's wrong passwords must not shut the owner's emailed way in.
  router.post('/login/code/verify', csrf, ...(limits.login ?? []), parseJson, ...(limits.codeLoginAccount ?? []), ...(limits.codeAccount ?? []), async (req, res) => {
    const { email, code } = parseBody(req, codeSignInBody);
    const client = { ...clientOf(req), ...knownDeviceContext(deps.knownDevices, req, res, email) };
    const issued = await authServer.signInWithCode(email, code, client);
    sendCredentials(res, issued, 200, cookies, client.deviceId !== undefined);
  });

  // A new sign-in notice's "this wasn't me" link: the page POSTs its token after the owner
  // confirms (a mail scanner opening the link does nothing). Ends every session, voids the
  // password, and answers a reset token for the page's "choose a new password" form.
  router.post('/not-me', csrf, ...(limits.token ?? []), parseJson, async (req, res) => {
    const { token } = parseBody(req, notMeBody);
    const { revoked, ...reset } = await authServer.reportNotMe(token);
    sendJson(res, 200, { success: true, revokedSessions: revoked, ...reset }, { ...NO_STORE, Pragma: 'no-cache' });
  });

  return router;
}
