import { bearer, body, bodyErrors, credentialsResponse, errors, ok, ref, type Json, type Method } from './parts.js';

const FRESH = 'Needs a recent sign-in: the BearerPass\'s `auth_time` at most JTS_FRESH_AUTH_MAX_AGE seconds ago (default 300), else `401 insufficient_user_authentication` with `action: "reauth"` and `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age="<JTS_FRESH_AUTH_MAX_AGE>"` (RFC 9470): sign in again, then retry.';

const WITH_TICKET = ' Without a BearerPass, send the `mfa_ticket` of a `mfa_enrollment_required` answer in the body instead (an account an administrator requires a second factor of, signing in without one): the sign-in\'s limits apply then, and an unusable ticket is `401 mfa_ticket_invalid`.';

const recoveryCodes: Json = {
  type: 'object',
  required: ['recoveryCodes'],
  properties: { recoveryCodes: { type: 'array', minItems: 10, maxItems: 10, items: { type: 'string', example: 'K7QD-M2XA-P4ZR-T5WB' }, description: 'Shown once: only their hashes are kept. Each works once.' } },
};

/** Second factors (README, "Second factor (TOTP)"). */
export function mfaPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  return {
    '/jts/mfa': {
      get: {
        operationId: 'listSecondFactors',
        tags: ['mfa'],
        summary: "The caller's second factors and how many recovery codes are left (never a secret)",
        security: bearer,
        responses: { ...ok('Factors.', ref('schemas', 'SecondFactors')), ...errors('Unauthorized', 'ServiceUnavailable') },
      },
    },
    '/jts/mfa/totp': {
      post: {
        operationId: 'startTotpEnrolment',
        tags: ['mfa'],
        summary: 'Start setting up an authenticator app (TOTP, RFC 6238)',
        description: `Answers the secret, its otpauth:// URI and the URI as an SVG QR code; nothing guards sign-in until POST /jts/mfa/totp/confirm. A second call replaces an unconfirmed enrolment; with a confirmed authenticator it is \`409 mfa_already_enrolled\`; an address not verified yet is \`403 email_unverified\` (unless JTS_EMAIL_VERIFICATION=off). ${FRESH}${WITH_TICKET}`,
        security: [...bearer, {}],
        parameters: [csrf],
        requestBody: { required: false, content: { 'application/json': { schema: ref('schemas', 'TotpStartWithTicketRequest') } } },
        responses: { ...ok('Enrolment started.', ref('schemas', 'TotpEnrolment'), '201'), ...errors('Unauthorized', 'Forbidden', 'Conflict', 'ServiceUnavailable') },
      },
      delete: {
        operationId: 'removeTotp',
        tags: ['mfa'],
        summary: 'Remove the authenticator and its recovery codes',
        description: `\`404 mfa_not_enrolled\` when there is none. The account is mailed a notice. ${FRESH} A confirmed authenticator also needs that sign-in to have completed the second factor (\`amr\` holds \`mfa\`), else \`401 insufficient_user_authentication\`.`,
        security: bearer,
        parameters: [csrf],
        responses: { ...ok('Removed.', ref('schemas', 'Success')), ...errors('Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
    },
    '/jts/mfa/totp/confirm': {
      post: {
        operationId: 'confirmTotp',
        tags: ['mfa'],
        summary: 'Confirm the authenticator with its first code; get ten recovery codes',
        description: 'From now on a sign-in with the password (or an emailed code) answers `mfa_required`. `401 mfa_code_invalid`: a wrong code, one outside ±1 step of 30 s, or one already used. `404 mfa_not_enrolled`: no enrolment to confirm; `409 mfa_already_enrolled`: confirmed already. The account is mailed a notice. `429`: wrong codes count per account as a wrong current password at POST /jts/password does (and requests per address).' + WITH_TICKET + ' With the ticket the answer is a login\'s (the BearerPass, the StateProof cookie) plus `recoveryCodes`; an enrolment left unconfirmed for 15 minutes is `404 mfa_not_enrolled`.',
        security: [...bearer, {}],
        parameters: [csrf],
        requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref('schemas', 'TotpConfirmRequest'), ref('schemas', 'TotpConfirmWithTicketRequest')] } } } },
        responses: { ...ok('Confirmed (with a ticket: also signed in, `bearerPass`, `expiresIn`, `tokenType` and the cookie).', recoveryCodes), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/mfa/verify': {
      post: {
        operationId: 'verifySecondFactor',
        tags: ['mfa'],
        summary: 'Complete a sign-in that answered mfa_required',
        description:
          'Send the `mfa_ticket` of the `mfa_required` answer (POST /jts/login or /jts/login/code/verify) with either `code` (the authenticator\'s 6 digits), `recoveryCode`, or `webauthn` (a passkey\'s assertion for options from POST /jts/mfa/webauthn/options; a refused one is `400 passkey_challenge_invalid` or `401 passkey_rejected` and spends an attempt), from the same client (same X-JTS-Device-ID and User-Agent). Answers exactly as a login. `401 mfa_code_invalid`: wrong, used, or outside ±1 step (the ticket takes 5 wrong codes; each also counts as a failed sign-in for the per-IP and per-account limits). `401 mfa_ticket_invalid` (`action: "reauth"`): the ticket is unknown, used, older than 5 minutes, from another client, out of attempts, or the password changed since: sign in again.',
        security: [],
        parameters: [csrf, ref('parameters', 'DeviceId')],
        requestBody: body('MfaVerifyRequest'),
        responses: { ...credentialsResponse('200', 'Signed in.'), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
  };
}
