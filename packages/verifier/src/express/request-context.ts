import type { VerifyResult } from '../bearer-pass/verify.js';

/** A BearerPass that passed verification: what the verifier accepted, and the token as presented. */
export interface VerifiedBearerPass extends Pick<Extract<VerifyResult, { ok: true }>, 'header' | 'payload'> {
  bearerPass: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    /**
     * The verified BearerPass of this request: set by `requireBearerPass()` in other services and
     * by the server's `authenticate()` (which also checked that its session is alive).
     */
    jts?: VerifiedBearerPass;
  }
}
