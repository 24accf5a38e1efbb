import { Router, type RequestHandler } from 'express';
import type { PasskeyView } from '../../auth/auth-server.js';
import type { Clock } from '../../jts/clock.js';
import { requireFreshAuth } from '../../verifier/guards.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { parseBody } from '../body.js';
import type { CookieSettings } from '../cookies.js';
import { clientOf, sendCredentials } from '../credentials-response.js';
import { bearerOf } from '../middleware/authenticate.js';
import { mfaWebAuthnOptionsBody, passkeyLoginBody, passkeyRegisterBody, passkeyRenameBody } from '../webauthn-bodies.js';
import type { AuthRouteDeps } from './auth.js';

export type PasskeyRouteDeps = Pick<AuthRouteDeps, 'authServer' | 'csrf' | 'parseJson' | 'authenticate' | 'limits'> & { cookies: CookieSettings; clock: Clock };

/**
 * The passkey routes (README, "Passkeys"): /jts/passkeys (register, list, rename, remove,
 * passwordless sign-in) and /jts/mfa/webauthn/options (a passkey as second factor). Mounted inside
 * the /jts router (CORS there); every POST, PATCH and DELETE needs the CSRF header. Adding and
 * removing need a recent sign-in (the `requireFreshAuth` guard, as for an authenticator app).
 * Challenges and credentials are never stored by caches.
 */
export function passkeyRoutes(deps: PasskeyRouteDeps): Router {
  const { authServer, csrf, parseJson, authenticate, limits, cookies, clock } = deps;
  const router = Router();
  const fresh: RequestHandler[] = authServer.freshAuthMaxAgeSeconds === undefined ? [] : [requireFreshAuth(authServer.freshAuthMaxAgeSeconds, { clock })];

  router.post('/passkeys/register/options', csrf, authenticate, ...fresh, async (req, res) => {
    const { payload } = bearerOf(req);
    sendJson(res, 200, await authServer.passkeyRegistrationOptions({ prn: payload.prn, authTime: payload.auth_time, amr: payload.amr }), NO_STORE);
  });

  router.post('/passkeys/register/verify', csrf, authenticate, ...fresh, parseJson, async (req, res) => {
    const { payload } = bearerOf(req);
    const { credential, name } = parseBody(req, passkeyRegisterBody);
    const added = await authServer.registerPasskey({ prn: payload.prn, authTime: payload.auth_time, amr: payload.amr }, credential, name);
    sendJson(res, 201, passkeyBody(added), NO_STORE);
  });

  router.get('/passkeys', authenticate, async (req, res) => {
    sendJson(res, 200, { passkeys: (await authServer.listPasskeys(bearerOf(req).payload.prn)).map(passkeyBody) }, NO_STORE);
  });

  router.patch('/passkeys/:id', csrf, authenticate, parseJson, async (req, res) => {
    const { name } = parseBody(req, passkeyRenameBody);
    await authServer.renamePasskey(bearerOf(req).payload.prn, String(req.params.id), name);
    sendJson(res, 200, { success: true });
  });

  router.delete('/passkeys/:id', csrf, authenticate, ...fresh, async (req, res) => {
    const { payload } = bearerOf(req);
    await authServer.removePasskey({ prn: payload.prn, authTime: payload.auth_time, amr: payload.amr }, String(req.params.id));
    sendJson(res, 200, { success: true });
  });

  // Options write a challenge row: every request counts toward the per-address login attempts.
  router.post('/passkeys/login/options', csrf, ...(limits.login ?? []), async (req, res) => {
    sendJson(res, 200, await authServer.passkeyLoginOptions(clientOf(req)), NO_STORE);
  });

  // A refused assertion is a failed sign-in for the per-address limits. There is no account to
  // count per: the credential id is the authenticator's random name, unknown to a guesser.
  router.post('/passkeys/login/verify', csrf, ...(limits.login ?? []), parseJson, async (req, res) => {
    const { credential } = parseBody(req, passkeyLoginBody);
    const client = clientOf(req);
    const issued = await authServer.loginWithPasskey(credential, client);
    sendCredentials(res, issued, 200, cookies, client.deviceId !== undefined);
  });

  router.post('/mfa/webauthn/options', csrf, ...(limits.login ?? []), parseJson, async (req, res) => {
    const { mfa_ticket } = parseBody(req, mfaWebAuthnOptionsBody);
    sendJson(res, 200, await authServer.secondFactorPasskeyOptions(mfa_ticket, clientOf(req)), NO_STORE);
  });

  return router;
}

/** A passkey as answered: instants as ISO strings (README, "API conventions"); never its key or credential id. */
function passkeyBody(view: PasskeyView) {
  return {
    id: view.id,
    name: view.name,
    deviceType: view.deviceType,
    backedUp: view.backedUp,
    transports: view.transports,
    createdAt: new Date(view.createdAt).toISOString(),
    ...(view.lastUsedAt === undefined ? {} : { lastUsedAt: new Date(view.lastUsedAt).toISOString() }),
  };
}
