// Moved to the verifier package (packages/verifier), which the server imports like any service:
// one copy of the verification code. This path stays so the server's modules need not change.
export * from '@jts-auth/verifier/internal/authorization-header.js';
