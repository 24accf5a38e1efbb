import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import onHeaders from 'on-headers';
import { normaliseEmail } from '../../users/types.js';
import { cookieAttributes, cookieOf, DEVICE_ID_HEADER } from '../cookies.js';
import { signInEmailOf } from './sign-in-account.js';

/**
 * "Device cookies" (OWASP, Slow Down Online Guessing Attacks with Device Cookies): a browser that
 * has logged in to an account gets a signed cookie naming that account. The per-account failure
 * limit then counts that browser's failures apart from everyone else's, so somebody hammering
 * the account from elsewhere throttles only unknown clients and never its owner's own browser.
 *
 * The cookie proves nothing about identity and grants nothing but that separate counter; it is
 * HttpOnly, sent only to /jts/login, and signed with a key derived from the StateProof secret so
 * every instance recognises it. Value: `<nonce>.<HMAC(key, email|nonce)>`.
 *
 * Native clients keep no cookies, so without more they would all share the unknown clients'
 * counter, and anyone could throttle an app's owner out of their account (review F6). A login that
 * binds a device (X-JTS-Device-ID) therefore gets the same signed value in the
 * `X-JTS-Known-Device` response header, and the app sends it back in that request header.
 */
export const KNOWN_DEVICE_COOKIE = 'jts_known_device';
/** Request and response header carrying the known-device value for native clients. */
export const KNOWN_DEVICE_HEADER = 'X-JTS-Known-Device';
const COOKIE_PATH = '/jts/login';
const MAX_AGE_MS = 365 * 24 * 3600 * 1000;
const NONCE = /^[A-Za-z0-9_-]{22}$/;

/** `res.locals` key of the nonce a sign-in route chose for this answer (see KnownDevices.deviceOf). */
const ISSUED_NONCE = 'knownDeviceNonce';

export interface KnownDevices {
  /** The device nonce when the request carries a valid cookie for `email`; undefined otherwise. */
  recognise(req: Request, email: string): string | undefined;
  /**
   * For a sign-in route, before it signs in: the nonce the request proved for `email` (`known`), or
   * a fresh one that `remember` will set if the sign-in answers 200 — so the sign-in can record the
   * device under the value the browser will hold from now on.
   */
  deviceOf(req: Request, res: Response, email: string): { nonce: string; known: boolean };
  /**
   * When the login it guards answers 200: sets (or renews) the cookie, or for a native client
   * (one that sent X-JTS-Device-ID) sets the X-JTS-Known-Device response header instead.
   */
  remember: RequestHandler;
}

export function knownDevices(options: { key: Buffer; secure: boolean }): KnownDevices {
  if (options.key.length < 32) throw new Error('knownDevices needs a key of at least 32 bytes');
  const { key } = options;
  const attributes = { ...cookieAttributes(COOKIE_PATH, options), maxAge: MAX_AGE_MS };
  const mac = (email: string, nonce: string) => createHmac('sha256', key).update(`${normaliseEmail(email)}|${nonce}`).digest();

  function recognise(req: Request, email: string): string | undefined {
    const raw = req.get(KNOWN_DEVICE_HEADER) ?? cookieOf(req, KNOWN_DEVICE_COOKIE);
    if (raw === undefined) return undefined;
    const [nonce = '', signature = ''] = raw.split('.');
    if (!NONCE.test(nonce)) return undefined;
    const given = Buffer.from(signature, 'base64url');
    const expected = mac(email, nonce);
    return given.length === expected.length && timingSafeEqual(given, expected) ? nonce : undefined;
  }

  return {
    recognise,
    deviceOf(req, res, email) {
      const known = recognise(req, email);
      if (known !== undefined) return { nonce: known, known: true };
      const nonce = randomBytes(16).toString('base64url');
      res.locals[ISSUED_NONCE] = nonce;
      return { nonce, known: false };
    },
    remember: function rememberKnownDevice(req, res, next) {
      onHeaders(res, () => {
        const email = signInEmailOf(req);
        if (res.statusCode !== 200 || typeof email !== 'string') return;
        const issued: unknown = res.locals[ISSUED_NONCE];
        const nonce = recognise(req, email) ?? (typeof issued === 'string' ? issued : randomBytes(16).toString('base64url'));
        const value = `${nonce}.${mac(email, nonce).toString('base64url')}`;
        if (req.get(DEVICE_ID_HEADER) === undefined) res.cookie(KNOWN_DEVICE_COOKIE, value, attributes);
        else res.setHeader(KNOWN_DEVICE_HEADER, value);
      });
      next();
    },
  };
}

/** The cookie key, derived so the StateProof secret itself is never used for two purposes. */
export function deriveKnownDeviceKey(stateProofSecret: Buffer): Buffer {
  return createHmac('sha256', stateProofSecret).update('jts-known-device-cookie/v1').digest();
}
