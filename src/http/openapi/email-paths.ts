import { bearer, body, bodyErrors, credentialsResponse, errors, ok, ref, setsKnownDevice, type Json, type Method } from './parts.js';

/** The 202 of every "mail me" request: the same body whether or not the address has an account. */
const accepted = (description: string): Json =>
  ok(description, { type: 'object', required: ['success', 'message'], properties: { success: { const: true }, message: { type: 'string' } } }, '202');

const TOKEN_ERRORS = 'A refused link is `400` with `error` one of `token_invalid` (unknown, tampered, or made for the other flow), `token_expired`, `token_used` (used, or replaced by a newer link), `token_voided` (the password changed since).';

/** Password reset, email verification and sign-in by emailed code (README, "Email recovery"). */
export function emailPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  return {
    '/jts/password/forgot': {
      post: {
        operationId: 'forgotPassword',
        tags: ['email'],
        summary: 'Mail a password-reset link',
        description: 'Always `202` with the same body and timing: the lookup and the mail happen after the answer, only when the address has an enabled account. The link is `<PUBLIC_URL>/#reset=<token>` and works once, for JTS_RESET_TOKEN_LIFETIME seconds.',
        security: [],
        parameters: [csrf],
        requestBody: body('EmailRequest'),
        responses: { ...accepted('Accepted (whether or not the account exists).'), ...errors(...bodyErrors, 'Forbidden', 'TooManyRequests') },
      },
    },
    '/jts/password/reset': {
      post: {
        operationId: 'resetPassword',
        tags: ['email'],
        summary: 'Set a new password from a reset link',
        description: `Every session of the account ends (its BearerPasses are refused from now on), every other reset link dies with the credential epoch, and the address counts as verified. ${TOKEN_ERRORS}`,
        security: [],
        parameters: [csrf],
        requestBody: body('ResetPasswordRequest'),
        responses: {
          ...ok('Password set.', { type: 'object', required: ['success', 'revokedSessions'], properties: { success: { const: true }, revokedSessions: { type: 'integer' } } }),
          ...errors(...bodyErrors, 'Forbidden', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/email/verify': {
      post: {
        operationId: 'verifyEmail',
        tags: ['email'],
        summary: 'Verify the address from a verification link',
        description: `The BearerPass is optional. The first verification of an address ends a possible pre-hijack (someone registered the address before its owner): unless the request carries a BearerPass of a live session of the link's own account, or the account's \`password\` in the body (the registrant, who chose the password and reads the mailbox, keeps password and sessions), the password set at registration is voided and every session of the account ends; the answer says \`passwordReset: "required"\` and the owner sets a password with forgotPassword (or signs in with a code). A presented BearerPass that is not valid is refused as on any authenticated route, and a wrong \`password\` is \`401 invalid_credentials\`; neither spends the link. An address verified already changes nothing (\`not_required\`). ${TOKEN_ERRORS}`,
        security: [{}, ...bearer],
        parameters: [csrf],
        requestBody: body('VerifyEmailRequest'),
        responses: {
          ...ok('Verified.', {
            type: 'object',
            required: ['success', 'emailVerified', 'passwordReset'],
            properties: {
              success: { const: true },
              emailVerified: { const: true },
              passwordReset: { enum: ['required', 'not_required'], description: '`required`: the password was voided and every session ended; tell the user to set one with "forgot password".' },
            },
          }),
          ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/email/verify/resend': {
      post: {
        operationId: 'resendVerification',
        tags: ['email'],
        summary: 'Mail the signed-in user a new verification link',
        description: 'No mail when the address is verified already; the answer is the same.',
        security: bearer,
        parameters: [csrf],
        responses: { ...accepted('Accepted.'), ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/login/code': {
      post: {
        operationId: 'requestSignInCode',
        tags: ['email'],
        summary: 'Mail a one-time sign-in code',
        description:
          'Always `202`, as for forgotPassword. The code has 6 digits, works once, for JTS_LOGIN_CODE_LIFETIME seconds and at most 5 wrong guesses; a new code replaces the previous one. `429`: mails per address (RATE_LIMIT_MAIL_ACCOUNT) are counted for unknown clients together and apart for each known device of the account (the jts_known_device cookie or X-JTS-Known-Device), so a stranger who spends the address\'s budget does not stop its owner.',
        security: [],
        parameters: [csrf, ref('parameters', 'KnownDevice')],
        requestBody: body('EmailRequest'),
        responses: { ...accepted('Accepted (whether or not the account exists).'), ...errors(...bodyErrors, 'Forbidden', 'TooManyRequests') },
      },
    },
    '/jts/login/code/verify': {
      post: {
        operationId: 'signInWithCode',
        tags: ['email'],
        summary: 'Sign in with an emailed code',
        description:
          'The answer of a password login. A wrong, expired, used-up or replaced code, and an unknown address, are all `401 code_invalid`; failures count against the account like wrong passwords (`429`), and over a day (RATE_LIMIT_CODE_ACCOUNT): for unknown clients together, apart for each known device of the account.',
        security: [],
        parameters: [csrf, ref('parameters', 'DeviceId'), ref('parameters', 'KnownDevice')],
        requestBody: body('CodeSignInRequest'),
        responses: { ...credentialsResponse('200', 'Signed in.', setsKnownDevice), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/not-me': {
      post: {
        operationId: 'reportNotMe',
        tags: ['email'],
        summary: 'Say a new sign-in was not yours (the notice\'s "this wasn\'t me" link)',
        description:
          'The token of a `new-sign-in` notice\'s link (`#not-me=…`): single use, valid for `JTS_NOT_ME_TOKEN_LIFETIME` (7 days), still valid after a password change and after later notices. Ends every session of the account (each published on the security-event feed), replaces the password by a random one (voiding every outstanding reset link and code), and answers a fresh reset token for POST /jts/password/reset: the holder proved the mailbox as with a reset link. If the password changed since the notice was mailed, the sessions still end and the password is still voided, but the answer holds no `resetToken` (nor `expiresIn`): an old notice kept from a mailbox must not set the password; the owner uses POST /jts/password/forgot. Send it only on the user\'s click, never when the link is merely opened (mail scanners open links). A refused link is `400` with `error` one of `token_invalid`, `token_expired`, `token_used`, `token_voided` (the account is disabled or gone).',
        security: [],
        parameters: [csrf],
        requestBody: body('NotMeRequest'),
        responses: {
          ...ok('Every session ended; choose a new password with the reset token.', {
            type: 'object',
            required: ['success', 'revokedSessions'],
            properties: {
              success: { const: true },
              revokedSessions: { type: 'integer', description: 'Sessions ended.' },
              resetToken: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'A reset-password token, as a reset link carries; absent when the password changed since the notice.' },
              expiresIn: { type: 'integer', description: 'Seconds the reset token works (JTS_RESET_TOKEN_LIFETIME).' },
            },
          }),
          ...errors(...bodyErrors, 'Forbidden', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/account/email': {
      post: {
        operationId: 'requestEmailChange',
        tags: ['email'],
        summary: "Change the account's address: mail a confirmation link to the new one",
        description:
          "Needs a recent sign-in: the BearerPass's `auth_time` at most JTS_FRESH_AUTH_MAX_AGE seconds ago (default 300), else `401 insufficient_user_authentication` with `action: \"reauth\"` (RFC 9470): step up with POST /jts/reauth, then retry. `newEmail` follows registration's rules (trimmed, lower-cased, at most 254 characters). Always `202` with the same body and timing whether or not the new address has an account: the lookup and the mail run after the answer. A free address is mailed `<PUBLIC_URL>/#email-change=<token>` (single use, JTS_VERIFY_TOKEN_LIFETIME seconds, bound to this account and that address; a newer request replaces it; a password change voids it); a taken one is mailed a notice that someone tried, and nothing else happens. The account keeps its address until the link is confirmed. `400 invalid_request` when `newEmail` is already the account's address.",
        security: bearer,
        parameters: [csrf],
        requestBody: body('ChangeEmailRequest'),
        responses: { ...accepted('Accepted (whether or not the address is taken).'), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/account/email/confirm': {
      post: {
        operationId: 'confirmEmailChange',
        tags: ['email'],
        summary: "Confirm the new address from the link mailed to it",
        description: `With a BearerPass of the account that asked for the change (a link opened while signed in to another account, or presented by it, is \`token_invalid\` and stays unspent). The address becomes the account's, verified; every other outstanding link and code (mailed to the old address) stops working; sessions stay. The old address is mailed a notice (\`email-changed\`) whose "this wasn't me" link (POST /jts/not-me, when the old address was verified) restores it, ends every session and voids the password. \`409 email_taken\` when another account took the address since the request (the link is spent). ${TOKEN_ERRORS}`,
        security: bearer,
        parameters: [csrf],
        requestBody: body('ConfirmEmailChangeRequest'),
        responses: {
          ...ok('The address changed.', {
            type: 'object',
            required: ['success', 'email', 'emailVerified'],
            properties: { success: { const: true }, email: { type: 'string', description: "The account's address now (normalised)." }, emailVerified: { const: true } },
          }),
          ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'Conflict', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
  };
}
