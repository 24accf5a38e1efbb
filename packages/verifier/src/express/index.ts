/**
 * Express middleware for services that verify BearerPasses: `requireBearerPass(verifier)` and
 * the guards after it. Every refusal is the JTS JSON error body; `jtsErrorHandler()` answers the
 * service's own errors the same way. Express is an optional peer dependency: only this entry point
 * needs it, and only its types (nothing here imports Express at run time).
 */
export { requireBearerPass } from './require-bearer-pass.js';
export { requirePermissions, requireAnyPermission, requireOrg, requireScopes, requireFreshAuth, requireAmr, type FreshAuthOptions } from './guards.js';
export { StepUpError, type StepUpCode } from './step-up.js';
export { jtsErrorHandler, type ErrorHandlerOptions } from './error-handler.js';
export { errorKeyOf } from './send-json.js';
export type { VerifiedBearerPass } from './request-context.js';
