import type { Request, Response } from 'express';

/**
 * `res.locals` keys the sign-in routes and the rate limiters share.
 *
 * SIGN_IN_ACCOUNT: the address of the account a request signs in to when its body names none
 * (POST /jts/mfa/verify sets it from the ticket), so the per-account limits count its failures with
 * the password's and a known device is remembered after it as after a login.
 */
export const SIGN_IN_ACCOUNT = 'signInAccount';

/**
 * FIRST_FACTOR_ACCEPTED: set by the error answer of `mfa_required` (action `mfa`): that 401 means
 * the first factor was right, so it is not a failure for the limiters.
 */
export const FIRST_FACTOR_ACCEPTED = 'firstFactorAccepted';

/** The address a sign-in request is for: the one its route found (SIGN_IN_ACCOUNT), else the body's `email`. */
export function signInEmailOf(req: Request): unknown {
  const account: unknown = (req.res as Response | undefined)?.locals[SIGN_IN_ACCOUNT];
  return typeof account === 'string' ? account : (req.body as { email?: unknown } | undefined)?.email;
}
