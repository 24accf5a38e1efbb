import type { CookieOptions, Request, Response } from 'express';

/** JTS.md, "Cookie and CSRF". */
export const STATE_PROOF_COOKIE = 'jts_state_proof';
export const STATE_PROOF_HEADER = 'x-jts-stateproof';
/** The StateProof is only ever sent to /jts/renew and /jts/logout. */
const COOKIE_PATH = '/jts';

export interface CookieSettings {
  secure: boolean;
}

function attributes(settings: CookieSettings): CookieOptions {
  return { httpOnly: true, secure: settings.secure, sameSite: 'strict', path: COOKIE_PATH };
}

export function setStateProofCookie(res: Response, stateProof: string, maxAgeSeconds: number, settings: CookieSettings): void {
  res.cookie(STATE_PROOF_COOKIE, stateProof, { ...attributes(settings), maxAge: maxAgeSeconds * 1000 });
}

export function clearStateProofCookie(res: Response, settings: CookieSettings): void {
  res.clearCookie(STATE_PROOF_COOKIE, attributes(settings));
}

/**
 * The StateProof of a request: the cookie for browsers, the header for native clients.
 * Several `jts_state_proof` cookies (or a non-string value) are refused outright, because which
 * one a parser keeps is not something to rely on.
 */
export function stateProofOf(req: Request): unknown {
  const header = req.get(STATE_PROOF_HEADER);
  if (header !== undefined) return header;
  const raw = req.headers.cookie ?? '';
  const occurrences = raw.split(';').filter((part) => part.trim().startsWith(`${STATE_PROOF_COOKIE}=`)).length;
  if (occurrences > 1) return undefined;
  const cookies = req.cookies as Record<string, unknown> | undefined;
  return cookies?.[STATE_PROOF_COOKIE];
}
