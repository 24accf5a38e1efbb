/**
 * Verify JTS BearerPasses knowing only the auth server's JWKS URL, and (with `events`) refuse
 * those of sessions the server revoked. Framework-free; Express middleware is in
 * `@jts-auth/verifier/express`.
 *
 * Tokens from /jts/token (client credentials, token exchange) verify the same way with the
 * service's own audience; the payload then carries `atm`, `scope` and, for an exchange, `act`.
 * A user's BearerPass also carries `amr` (RFC 8176), `auth_time` and `email_verified`.
 */
export { createVerifier, type Verifier, type VerifierOptions } from './remote-verifier.js';
export type { EventFeedOptions, FeedState, FeedStatus, VerifierCounter, VerifierGauge, VerifierMetrics } from './events/subscriber.js';
export { createBearerPassVerifier, type BearerPassVerifierOptions, type VerifyResult } from './bearer-pass/verify.js';
export type { BearerPassClaims, BearerPassHeader } from './bearer-pass/claims.js';
export type { VerificationKey, PublishedJwk } from './keys.js';
export { CodedError, JtsError, isCodedError, isJtsCode, type JtsCode, type ErrorBody, type JtsAction } from './errors.js';
export type { Clock } from './clock.js';
