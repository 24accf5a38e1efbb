import { parse } from 'cookie';
import type { CookieOptions, Request, Response } from 'express';

/** JTS.md, "Cookie and CSRF". */
export const STATE_PROOF_COOKIE = 'jts_state_proof';
export const STATE_PROOF_HEADER = 'x-jts-stateproof';
/** Native clients name their device with it; the session is then bound to it (JTS.md). */
export const DEVICE_ID_HEADER = 'x-jts-device-id';
/** The StateProof is only ever sent to /jts/renew and /jts/logout. */
const COOKIE_PATH = '/jts';

export interface CookieSettings {
  secure: boolean;
}

/**
 * The attributes of every cookie this server sets: out of scripts' reach (HttpOnly), never sent
 * cross-site (SameSite=Strict), Secure unless turned off outside production, and sent only to
 * the path that reads it.
 */
export function cookieAttributes(path: string, settings: CookieSettings): CookieOptions {
  return { httpOnly: true, secure: settings.secure, sameSite: 'strict', path };
}

export function setStateProofCookie(res: Response, stateProof: string, maxAgeSeconds: number, settings: CookieSettings): void {
  res.cookie(STATE_PROOF_COOKIE, stateProof, { ...cookieAttributes(COOKIE_PATH, settings), maxAge: maxAgeSeconds * 1000 });
}

export function clearStateProofCookie(res: Response, settings: CookieSettings): void {
  res.clearCookie(STATE_PROOF_COOKIE, cookieAttributes(COOKIE_PATH, settings));
}

/**
 * The StateProof of a request: the header for native clients, else the cookie for browsers.
 * Several `jts_state_proof` cookies are refused outright, because which one a parser keeps is not
 * something to rely on. Names are compared as the parser reads them, spaces around them trimmed.
 */
export function stateProofOf(req: Request): string | undefined {
  const header = req.get(STATE_PROOF_HEADER);
  if (header !== undefined) return header;
  const raw = req.headers.cookie ?? '';
  const occurrences = raw.split(';').filter((part) => {
    const equals = part.indexOf('=');
    return equals > 0 && part.slice(0, equals).trim() === STATE_PROOF_COOKIE;
  }).length;
  if (occurrences > 1) return undefined;
  return cookieOf(req, STATE_PROOF_COOKIE);
}

/**
 * One cookie of the request. Parsed where a route asks rather than for every request by
 * cookie-parser: only /jts/renew, /jts/logout and login read cookies, and cookie-parser's
 * per-request work showed up at ~8 µs in renew's CPU profile.
 */
export function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  return header === undefined ? undefined : parse(header)[name];
}
