import type { BearerPassClaims, BearerPassHeader } from '../jts/bearer-pass/claims.js';

/** A BearerPass whose signature, claims and times were checked. */
export interface VerifiedBearerPass {
  payload: BearerPassClaims;
  header: BearerPassHeader;
  /** The compact JWS as it was presented. */
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
