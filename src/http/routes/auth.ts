import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { ClientContext } from '../../auth/client-info.js';
import type { JTSAuthServer } from '../../auth/auth-server.js';
import { JtsError } from '../../jts/errors.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { changePasswordBody, loginBody, parseBody, reauthBody, registerBody } from '../body.js';
import { clearStateProofCookie, stateProofOf, STATE_PROOF_HEADER, type CookieSettings } from '../cookies.js';
import { clientOf, sendCredentials } from '../credentials-response.js';
import { bearerOf } from '../middleware/authenticate.js';
import type { KnownDevices } from '../middleware/known-device.js';

/**
 * The rate-limit groups (rate-limit.ts). `mail` (per IP) and `mailAccount` (per normalised email,
 * after the body) guard every route that sends mail; `mailResend` is the per-account one keyed by
 * the signed-in account; `token` guards link redemption per IP (reset, verify, not-me).
 */
export type RouteLimit = 'login' | 'loginAccount' | 'codeLoginAccount' | 'register' | 'renew' | 'password' | 'mail' | 'mailAccount' | 'mailResend' | 'codeAccount' | 'codePrincipal' | 'token';

export interface AuthRouteDeps {
  authServer: JTSAuthServer;
  cookies: CookieSettings;
  csrf: RequestHandler;
  authenticate: RequestHandler;
  /** The CORS policy, for every route here and under /jts/sessions. */
  cors: RequestHandler;
  /** The /jts/sessions router (sessions.ts), mounted here behind the same CORS policy. */
  sessions: Router;
  /** The email flows' routes (email.ts), mounted here behind the same CORS policy. */
  email: Router;
  /** The second-factor routes (mfa.ts), mounted here behind the same CORS policy. */
  mfa: Router;
  /** The passkey routes (passkeys.ts), mounted here behind the same CORS policy. */
  passkeys: Router;
  /** The signed-in user's own account changes (account.ts), mounted here behind the same CORS policy. */
  account: Router;
  /** The JSON body parser, on the routes that take a body. */
  parseJson: RequestHandler;
  /**
   * Rate limits per route. Those keyed by route run before the body is read, so a throttled
   * client costs no parsing; `loginAccount` needs the email and runs after it.
   */
  limits: Partial<Record<RouteLimit, RequestHandler[]>>;
  /**
   * Recognises the known-device value a sign-in presents for its account, which the new sign-in
   * notice and the risk step-up read (ClientContext.knownDevice). Absent: every client is unknown.
   */
  knownDevices?: Pick<KnownDevices, 'deviceOf'>;
}

/** POST /jts/login, /jts/register, /jts/renew, /jts/logout, /jts/password; /jts/sessions and the email routes. */
export function authRoutes(deps: AuthRouteDeps): Router {
  const { authServer, cookies, csrf, parseJson, limits } = deps;
  const router = Router();
  router.use(deps.cors);
  // Ahead of the routes below, so the route table keeps its order (the HTTP fuzz test draws from
  // it with a fixed seed); a renewal pays one prefix check here, the one it paid at the app level.
  router.use('/sessions', deps.sessions);

  router.post('/login', csrf, ...(limits.login ?? []), parseJson, ...(limits.loginAccount ?? []), async (req, res) => {
    const { email, password } = parseBody(req, loginBody);
    const client = { ...clientOf(req), ...knownDeviceContext(deps.knownDevices, req, res, email) };
    const issued = await authServer.login(email, password, client);
    sendCredentials(res, issued, 200, cookies, client.deviceId !== undefined);
  });

  router.post('/register', csrf, ...(limits.register ?? []), parseJson, async (req, res) => {
    const input = parseBody(req, registerBody);
    const client = clientOf(req);
    const issued = await authServer.register(input, client);
    sendCredentials(res, issued, 201, cookies, client.deviceId !== undefined);
  });

  router.post('/renew', csrf, ...(limits.renew ?? []), async (req, res) => {
    const stateProof = stateProofOf(req);
    if (stateProof === undefined) throw new JtsError('JTS-401-03', { message: 'No StateProof was presented.' });
    try {
      const renewed = await authServer.renew(stateProof, clientOf(req));
      // Only a client that itself presented the StateProof in a header gets the next one in the
      // body: a cookie's StateProof must never become readable to page scripts.
      sendCredentials(res, renewed, 200, cookies, req.get(STATE_PROOF_HEADER) !== undefined);
    } catch (error) {
      // A dead session's cookie is useless to the browser: clear it along with the error.
      if (error instanceof JtsError && error.status === 401) clearStateProofCookie(res, cookies);
      throw error;
    }
  });

  router.post('/logout', csrf, async (req, res) => {
    await authServer.logout(stateProofOf(req), clientOf(req));
    clearStateProofCookie(res, cookies);
    sendJson(res, 200, { success: true }, NO_STORE);
  });

  router.post('/password', csrf, deps.authenticate, ...(limits.password ?? []), parseJson, async (req, res) => {
    const { payload } = bearerOf(req);
    const { currentPassword, newPassword } = parseBody(req, changePasswordBody);
    const { revokedSessions } = await authServer.changePassword(payload.prn, payload.aid, currentPassword, newPassword);
    sendJson(res, 200, { success: true, revokedSessions });
  });

  // Step-up: a credential proven again for the caller's session (README, "Step-up"). Wrong ones
  // count per account as a password change's current password does, and wrong codes also draw on
  // the long per-account code budget: a stolen BearerPass must not be a way to guess the password
  // or the authenticator's codes. No StateProof moves: the answer
  // is a BearerPass only, and the cookie is left alone.
  router.post('/reauth', csrf, deps.authenticate, ...(limits.password ?? []), parseJson, ...(limits.codePrincipal ?? []), async (req, res) => {
    const { password, code, recoveryCode, webauthn } = parseBody(req, reauthBody);
    const proof = password !== undefined ? { password } : code !== undefined ? { code } : webauthn !== undefined ? { webauthn } : { recoveryCode: recoveryCode ?? '' };
    const { bearerPass, expiresIn } = await authServer.reauthenticate(bearerOf(req).payload, proof, clientOf(req));
    sendJson(res, 200, { bearerPass, expiresIn, tokenType: 'Bearer' }, { ...NO_STORE, Pragma: 'no-cache' });
  });

  // The challenge of a step-up with a passkey, bound to the caller's session.
  router.post('/reauth/webauthn/options', csrf, deps.authenticate, ...(limits.password ?? []), async (req, res) => {
    sendJson(res, 200, await authServer.reauthPasskeyOptions(bearerOf(req).payload), NO_STORE);
  });

  router.use(deps.email);
  router.use(deps.mfa);
  router.use(deps.passkeys);
  router.use(deps.account);
  return router;
}

/** The known device a sign-in request proved for `email`, or the one its answer will give it (ClientContext). */
export function knownDeviceContext(devices: Pick<KnownDevices, 'deviceOf'> | undefined, req: Request, res: Response, email: string): Pick<ClientContext, 'knownDevice' | 'issuedDevice'> {
  if (!devices) return {};
  const { nonce, known } = devices.deviceOf(req, res, email);
  return known ? { knownDevice: nonce } : { issuedDevice: nonce };
}
