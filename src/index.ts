/**
 * The library surface for other Node services: verify BearerPasses knowing only the JWKS URL.
 *
 *     import { createVerifier, requireBearerPass } from 'jts-auth-server';
 *     const verifier = createVerifier({ jwksUrl: 'https://auth.example.com/.well-known/jts-jwks', audience: 'https://api.example.com' });
 *     app.get('/orders', requireBearerPass(verifier), handler);
 *
 * Tokens from /jts/token (client credentials, token exchange) verify the same way with the
 * service's own audience; `req.jts.payload` then carries `atm`, `scope` and, for an exchange, `act`
 * (guard with `requireScopes`). A user's BearerPass also carries `amr` (RFC 8176), `auth_time` and
 * `email_verified`, typed as optional claims of BearerPassClaims (README, "BearerPass claims").
 */
export { createVerifier, type Verifier, type VerifierOptions } from './jts/remote-verifier.js';
export { requireBearerPass } from './verifier/express.js';
export { createBearerPassVerifier, type VerifyResult } from './jts/bearer-pass/verify.js';
export type { BearerPassClaims, BearerPassHeader } from './jts/bearer-pass/claims.js';
export { CodedError, JtsError, isJtsCode, type JtsCode, type ErrorBody, type JtsAction } from './jts/errors.js';
export { requirePermissions, requireAnyPermission, requireOrg, requireScopes, requireFreshAuth, requireAmr, type FreshAuthOptions } from './verifier/guards.js';
export { StepUpError, type StepUpCode } from './verifier/step-up.js';
export type { Clock } from './jts/clock.js';
