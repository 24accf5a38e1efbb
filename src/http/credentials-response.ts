import type { Request, Response } from 'express';
import type { ClientContext, IssuedCredentials } from '../auth/auth-server.js';
import { NO_STORE, sendJson } from '../verifier/send-json.js';
import { DEVICE_ID_HEADER, setStateProofCookie, STATE_PROOF_HEADER, type CookieSettings } from './cookies.js';
import { DEVICE_ID_PATTERN } from './fields.js';
import { HttpError } from './errors.js';

/** What the auth server needs to know of the client: its agent, address and device binding. */
export function clientOf(req: Request): ClientContext {
  const deviceId = req.get(DEVICE_ID_HEADER);
  if (deviceId !== undefined && !DEVICE_ID_PATTERN.test(deviceId)) {
    throw new HttpError('invalid_request', { message: 'X-JTS-Device-ID must be 1 to 128 printable ASCII characters.' });
  }
  return { userAgent: req.get('user-agent'), ip: req.ip, deviceId, stateProofVia: req.get(STATE_PROOF_HEADER) === undefined ? 'cookie' : 'header' };
}

/** Credentials: never stored, by HTTP/1.1 caches or HTTP/1.0 ones. */
const CREDENTIALS_HEADERS = { ...NO_STORE, Pragma: 'no-cache' };

/**
 * The BearerPass goes in the body, the StateProof in the HttpOnly cookie; `extra` members join the
 * body (the recovery codes of a sign-in completed by enrolling an authenticator). Native clients keep the
 * StateProof themselves, so `stateProofInBody` adds it to the body for them: at login when they
 * bind a device (X-JTS-Device-ID), at renewal when they presented it in X-JTS-StateProof.
 */
export function sendCredentials(res: Response, issued: IssuedCredentials, status: number, cookies: CookieSettings, stateProofInBody: boolean, extra: Record<string, unknown> = {}): void {
  setStateProofCookie(res, issued.stateProof, issued.stateProofMaxAge, cookies);
  sendJson(
    res,
    status,
    {
      bearerPass: issued.bearerPass,
      expiresIn: issued.expiresIn,
      tokenType: 'Bearer',
      ...(stateProofInBody ? { stateProof: issued.stateProof } : {}),
      ...extra,
    },
    CREDENTIALS_HEADERS,
  );
}
