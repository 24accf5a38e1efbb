import { bearer, body, bodyErrors, credentialsResponse, errors, ok, ref, setsKnownDevice, type Json, type Method } from './parts.js';

/** The /jts endpoints of the OpenAPI document: sign-in, renewal, logout, password and sessions. */
export function authPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  return {
    '/jts/login': {
      post: {
        operationId: 'login',
        tags: ['auth'],
        summary: 'Log in with email and password',
        security: [],
        parameters: [csrf, ref('parameters', 'DeviceId'), ref('parameters', 'KnownDevice')],
        requestBody: body('LoginRequest'),
        responses: { ...credentialsResponse('200', 'Logged in.', setsKnownDevice), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/register': {
      post: {
        operationId: 'register',
        tags: ['auth'],
        summary: 'Create an account and log in',
        security: [],
        parameters: [csrf, ref('parameters', 'DeviceId')],
        requestBody: body('RegisterRequest'),
        responses: { ...credentialsResponse('201', 'Account created and logged in.'), ...errors(...bodyErrors, 'Forbidden', 'Conflict', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/renew': {
      post: {
        operationId: 'renewSession',
        tags: ['auth'],
        summary: 'Rotate the StateProof and get a new BearerPass',
        description: 'Inside the grace window a just-consumed StateProof gets the same answer again; later it is a replay (JTS-401-05) and the session is revoked.',
        security: [{ stateProofCookie: [] }, { stateProofHeader: [] }],
        parameters: [csrf, ref('parameters', 'StateProofCookie'), ref('parameters', 'StateProofHeader'), ref('parameters', 'DeviceId')],
        responses: { ...credentialsResponse('200', 'Renewed.'), ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/logout': {
      post: {
        operationId: 'logout',
        tags: ['auth'],
        summary: 'End the session of the presented StateProof (idempotent)',
        security: [{ stateProofCookie: [] }, { stateProofHeader: [] }, {}],
        parameters: [csrf, ref('parameters', 'StateProofCookie'), ref('parameters', 'StateProofHeader')],
        responses: { ...ok('Logged out; the cookie is cleared.', ref('schemas', 'Success')), ...errors('Forbidden', 'ServiceUnavailable') },
      },
    },
    '/jts/password': {
      post: {
        operationId: 'changePassword',
        tags: ['auth'],
        summary: 'Change the password; every other session of the user ends',
        description: '`400 invalid_request` when the new password breaks the policy or is the current one (compared after NFKC normalisation), checked after the current password.',
        security: bearer,
        parameters: [csrf],
        requestBody: body('ChangePasswordRequest'),
        responses: {
          ...ok('Changed.', { type: 'object', required: ['success', 'revokedSessions'], properties: { success: { const: true }, revokedSessions: { type: 'integer' } } }),
          ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/reauth': {
      post: {
        operationId: 'reauthenticate',
        tags: ['auth'],
        summary: 'Step up: prove a credential again and get a BearerPass with a new auth_time on the same session',
        description:
          'For a `401 insufficient_user_authentication` (`action: "reauth"`). The answer is a BearerPass only: same `aid`, `auth_time` now, `amr` `["pwd"]` for the password, `["pwd", "otp", "mfa"]` for a code on a password session (`["otp", "mfa"]` on an emailed-code one), `["pwd", "swk", "user", "mfa"]` for a passkey on a password session (`["swk", "user", "mfa"]` on a session without a password; options from POST /jts/reauth/webauthn/options; a refused assertion is `400 passkey_challenge_invalid` or `401 passkey_rejected`). No StateProof is issued or rotated (the cookie is left alone) and later renewals carry the step-up. `401 invalid_credentials` (wrong password), `401 mfa_code_invalid` (wrong, used or out-of-window code), JTS-401-04/05/06 for an ended, compromised or other-device session, a token issued by /jts/token is refused (`403`, JTS-403-01 for a service audience, or `reauth_needs_session`); wrong credentials count per account as at POST /jts/password (`429`).',
        security: bearer,
        parameters: [csrf, ref('parameters', 'DeviceId')],
        requestBody: body('ReauthRequest'),
        responses: {
          ...ok('A fresh BearerPass of the same session.', {
            type: 'object',
            required: ['bearerPass', 'expiresIn', 'tokenType'],
            properties: { bearerPass: { type: 'string' }, expiresIn: { type: 'integer' }, tokenType: { const: 'Bearer' } },
          }),
          ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/sessions': {
      get: {
        operationId: 'listSessions',
        tags: ['sessions'],
        summary: "The caller's sessions",
        description:
          'The live sessions, and under `ended` the sessions a detected replay ended recently (newest first, at most 20, each for JTS_ENDED_SESSIONS_LISTED_FOR after it ended; README, "Token theft alerts").',
        security: bearer,
        responses: {
          ...ok('Sessions.', {
            type: 'object',
            required: ['sessions', 'ended'],
            properties: { sessions: { type: 'array', items: ref('schemas', 'Session') }, ended: { type: 'array', maxItems: 20, items: ref('schemas', 'EndedSession') } },
          }),
          ...errors('BadRequest', 'Unauthorized', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/sessions/revoke-others': {
      post: {
        operationId: 'revokeOtherSessions',
        tags: ['sessions'],
        summary: 'End every session of the caller but the current one',
        security: bearer,
        parameters: [csrf],
        responses: {
          ...ok('Ended.', { type: 'object', required: ['success', 'revokedSessions'], properties: { success: { const: true }, revokedSessions: { type: 'integer', minimum: 0, description: 'How many sessions ended.' } } }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/sessions/{aid}': {
      delete: {
        operationId: 'revokeSession',
        tags: ['sessions'],
        summary: 'End one of the caller’s sessions',
        security: bearer,
        parameters: [csrf, { name: 'aid', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          ...ok('Ended.', { type: 'object', required: ['success', 'current'], properties: { success: { const: true }, current: { type: 'boolean' } } }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable'),
        },
      },
    },
  };
}
