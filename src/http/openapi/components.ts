import { z } from 'zod';
import { JTS_TYP } from '../../jts/bearer-pass/claims.js';
import { isJtsCode } from '../../jts/errors.js';
import { changeEmailBody, changePasswordBody, codeSignInBody, confirmEmailChangeBody, notMeBody, createUserBody, emailBody, loginBody, mfaVerifyBody, reauthBody, registerBody, resetPasswordBody, totpConfirmBody, totpConfirmWithTicketBody, totpStartWithTicketBody, updateUserBody, verifyEmailBody } from '../body.js';
import { STATE_PROOF_COOKIE } from '../cookies.js';
import { errorCatalog } from '../errors.js';
import { deviceId } from '../fields.js';

/**
 * Reusable parts of the OpenAPI document: schemas, shared parameters, error responses and
 * security schemes. The Error schema mirrors `ErrorBody` in src/jts/errors.ts and takes its enums
 * from every layer's error table (`errorCatalog`), and the request bodies are generated from the zod schemas that
 * parse them, so neither can drift from what the server does.
 */

type Json = Record<string, unknown>;

/** The JSON Schema of a value as a client sends it (zod's input side: before trimming, extra keys allowed). */
export function requestSchema(schema: z.ZodType): Json {
  const json: Json = z.toJSONSchema(schema, { io: 'input' });
  // The document's dialect is OpenAPI 3.1's (JSON Schema 2020-12, zod's default), stated once.
  delete json.$schema;
  return json;
}

const table = errorCatalog();
const jtsCodes = table.filter((row) => isJtsCode(row.code)).map((row) => row.code);
const errorKeys = [...new Set(table.map((row) => row.key))];

// Two layers may answer with one key (`invalid_request` for a bad field and a refused password).
const describe = (status: number) => [...new Set(table.filter((row) => row.status === status).map((row) => `\`${row.key}\`${isJtsCode(row.code) ? ` (${row.code})` : ''}`))].join(', ');

const errorResponse = (status: number, summary: string): Json => ({
  description: `${summary}. Possible \`error\` values: ${describe(status)}.`,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

export const ERROR_RESPONSES = {
  BadRequest: errorResponse(400, 'The request body or a header is invalid'),
  Unauthorized: {
    ...errorResponse(401, 'No valid credential, or (`insufficient_user_authentication`, RFC 9470) a valid one whose sign-in is too old or lacks a required method'),
    headers: {
      'WWW-Authenticate': {
        schema: { type: 'string' },
        description: '`Bearer error="<error>"` (RFC 6750 §3); for a sign-in too old, RFC 9470\'s `Bearer error="insufficient_user_authentication", max_age="<seconds>"`; `Basic realm="jts"` for `invalid_client`.',
      },
    },
  },
  Forbidden: errorResponse(403, 'CSRF check failed, or not allowed'),
  NotFound: errorResponse(404, 'Not found'),
  Conflict: errorResponse(409, 'Conflict (`email_taken`: the email has an account; `last_admin`: the change would leave no enabled account with admin:users; `client_id_taken`, `audience_taken`, `rotation_in_progress`: see /admin/clients)'),
  PayloadTooLarge: errorResponse(413, 'The body exceeds BODY_LIMIT'),
  UnsupportedMediaType: errorResponse(415, 'The body is not JSON'),
  TooManyRequests: {
    ...errorResponse(429, 'A rate limit was reached; `retry_after` says when to try again'),
    headers: {
      'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' },
      RateLimit: { schema: { type: 'string' }, description: 'IETF draft-8 RateLimit header, one item per limiter.' },
      'RateLimit-Policy': { schema: { type: 'string' }, description: 'IETF draft-8 RateLimit-Policy header.' },
    },
  },
  InternalError: errorResponse(500, 'Unexpected failure (details only in the server log)'),
  ServiceUnavailable: {
    ...errorResponse(503, 'A backing store is unreachable; nothing was written; retry after `retry_after` seconds'),
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
} as const;

export type ErrorResponseName = keyof typeof ERROR_RESPONSES;

export const SCHEMAS: Json = {
  Error: {
    type: 'object',
    description: 'The body of every error response (JTS.md, "Errors").',
    required: ['error', 'message', 'action', 'timestamp'],
    properties: {
      error: { type: 'string', enum: errorKeys },
      error_code: { type: 'string', enum: jtsCodes, description: 'Present for the JTS error table only.' },
      message: { type: 'string' },
      action: { type: 'string', enum: ['reauth', 'renew', 'retry', 'mfa', 'mfa_enroll', 'none'] },
      retry_after: { type: 'integer', minimum: 0, description: 'Seconds; on 429 and 503.' },
      timestamp: { type: 'integer', description: 'Seconds since the epoch.' },
      mfa_ticket: { type: 'string', description: '`mfa_required`: send it to POST /jts/mfa/verify; `mfa_enrollment_required`: to POST /jts/mfa/totp and its /confirm (single use, this client only).' },
      methods: { type: 'array', items: { type: 'string', enum: ['totp', 'recovery_code', 'webauthn'] }, description: '`mfa_required` and `mfa_enrollment_required` only: the second factors that complete the sign-in, or that can be enrolled (`webauthn`: a passkey, options from POST /jts/mfa/webauthn/options).' },
      expires_in: { type: 'integer', description: '`mfa_required` and `mfa_enrollment_required` only: seconds the ticket lives (300).' },
    },
    additionalProperties: false,
  },
  LoginRequest: requestSchema(loginBody),
  RegisterRequest: requestSchema(registerBody),
  ChangePasswordRequest: requestSchema(changePasswordBody),
  ReauthRequest: { ...requestSchema(reauthBody), description: 'Exactly one of `password`, `code` (the authenticator’s 6 digits), `recoveryCode` and `webauthn` (a passkey’s assertion for options from POST /jts/reauth/webauthn/options).' },
  CreateUserRequest: requestSchema(createUserBody),
  UpdateUserRequest: { ...requestSchema(updateUserBody), minProperties: 1, description: 'At least one of `name`, `permissions`, `disabled`, `mfaRequired`.' },
  User: {
    type: 'object',
    description: 'An account as the admin API shows it (never its password hash).',
    required: ['id', 'email', 'name', 'permissions', 'disabled', 'mfaRequired', 'createdAt', 'updatedAt'],
    properties: {
      id: { type: 'string' },
      email: { type: 'string', description: 'Normalised: trimmed and lower-cased.' },
      name: { type: 'string' },
      permissions: { type: 'array', items: { type: 'string' } },
      disabled: { type: 'boolean' },
      mfaRequired: { type: 'boolean', description: 'A second factor is required: a sign-in without one answers `mfa_enrollment_required` and only enrols one.' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  EmailRequest: requestSchema(emailBody),
  ResetPasswordRequest: requestSchema(resetPasswordBody),
  VerifyEmailRequest: requestSchema(verifyEmailBody),
  CodeSignInRequest: requestSchema(codeSignInBody),
  NotMeRequest: requestSchema(notMeBody),
  ChangeEmailRequest: requestSchema(changeEmailBody),
  ConfirmEmailChangeRequest: requestSchema(confirmEmailChangeBody),
  TotpConfirmRequest: requestSchema(totpConfirmBody),
  TotpStartWithTicketRequest: { ...requestSchema(totpStartWithTicketBody), description: 'Without a BearerPass: the ticket of a `mfa_enrollment_required` answer.' },
  TotpConfirmWithTicketRequest: { ...requestSchema(totpConfirmWithTicketBody), description: 'Without a BearerPass: the ticket of a `mfa_enrollment_required` answer and the first code.' },
  MfaVerifyRequest: { ...requestSchema(mfaVerifyBody), description: 'Exactly one of `code`, `recoveryCode` and `webauthn` (what startAuthentication() resolved to, for options from POST /jts/mfa/webauthn/options).' },
  TotpEnrolment: {
    type: 'object',
    description: 'Shown once. Add the secret to an authenticator app (scan the QR code or type the secret), then confirm with a code.',
    required: ['secret', 'otpauthUri', 'qrSvg'],
    properties: {
      secret: { type: 'string', description: 'Base32 (RFC 4648), 160 bits. HMAC-SHA-1, 6 digits, 30 s.' },
      otpauthUri: { type: 'string', description: 'otpauth://totp/<issuer>:<email>?secret=…&issuer=…' },
      qrSvg: { type: 'string', description: 'The URI as an SVG QR code.' },
    },
  },
  SecondFactors: {
    type: 'object',
    required: ['factors', 'recoveryCodesLeft'],
    properties: {
      factors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['type', 'confirmed', 'createdAt'],
          properties: { type: { const: 'totp' }, confirmed: { type: 'boolean', description: 'False: an enrolment not confirmed yet (guards nothing).' }, createdAt: { type: 'string', format: 'date-time' }, confirmedAt: { type: 'string', format: 'date-time' } },
        },
      },
      recoveryCodesLeft: { type: 'integer', minimum: 0 },
    },
  },
  Credentials: {
    type: 'object',
    description: 'The StateProof is set as the `jts_state_proof` cookie; native clients (X-JTS-Device-ID or X-JTS-StateProof sent) also get it in the body.',
    required: ['bearerPass', 'expiresIn', 'tokenType'],
    properties: {
      bearerPass: { type: 'string', description: 'Compact JWS, typ JTS-S/v1. Claims (README, "BearerPass claims"): prn, aid, tkn_id, iat, exp, iss, aud, perm, spl, atm, ath, dfp?, and `amr` (RFC 8176: pwd | otp | swk | user | mfa), `auth_time` (the sign-in, seconds; a renewal keeps both) and `email_verified` (the account\'s, as of this token).' },
      expiresIn: { type: 'integer', description: 'Seconds.' },
      tokenType: { type: 'string', const: 'Bearer' },
      stateProof: { type: 'string' },
    },
  },
  Success: { type: 'object', required: ['success'], properties: { success: { type: 'boolean', const: true } } },
  Session: {
    type: 'object',
    required: ['aid', 'device', 'ipPrefix', 'createdAt', 'lastActiveAt', 'current'],
    properties: {
      aid: { type: 'string' },
      device: { type: 'string' },
      ipPrefix: { type: 'string', description: 'Masked address: IPv4 as a.b.c.x, IPv6 as its first three groups ::/48.' },
      createdAt: { type: 'string', format: 'date-time' },
      lastActiveAt: { type: 'string', format: 'date-time', description: 'The last sign-in or renewal.' },
      current: { type: 'boolean' },
    },
  },
  EndedSession: {
    type: 'object',
    required: ['aid', 'device', 'endedAt', 'reason'],
    properties: {
      aid: { type: 'string' },
      device: { type: 'string', description: "The session's device description; empty when not known (another session a JTS_REPLAY_REVOKE=principal revocation ended, which the detecting instance did not remember)." },
      endedAt: { type: 'string', format: 'date-time' },
      reason: { type: 'string', enum: ['token_theft'], description: '`token_theft`: an earlier StateProof of the session was presented after its grace window (a replay), so the session was ended (JTS-401-05).' },
    },
  },
  Jwks: {
    type: 'object',
    required: ['keys'],
    properties: { keys: { type: 'array', items: { type: 'object', required: ['kty', 'kid', 'alg', 'use'], properties: { kty: { type: 'string' }, kid: { type: 'string' }, alg: { type: 'string' }, use: { type: 'string', const: 'sig' } } } } },
  },
  Readiness: {
    type: 'object',
    required: ['status', 'checks'],
    properties: { status: { type: 'string', enum: ['ready', 'not_ready'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
  },
};

export const PARAMETERS: Json = {
  Csrf: { name: 'X-JTS-Request', in: 'header', required: true, schema: { type: 'string', const: '1' }, description: 'CSRF guard (JTS.md, "Cookie and CSRF").' },
  DeviceId: { name: 'X-JTS-Device-ID', in: 'header', required: false, schema: requestSchema(deviceId), description: 'Native clients: binds the session to this device.' },
  KnownDevice: {
    name: 'X-JTS-Known-Device',
    in: 'header',
    required: false,
    schema: { type: 'string' },
    description: 'Native clients: the value a previous login to this account answered in X-JTS-Known-Device (browsers send the jts_known_device cookie instead).',
  },
  StateProofHeader: { name: 'X-JTS-StateProof', in: 'header', required: false, schema: { type: 'string' }, description: 'Native clients: the StateProof instead of the cookie.' },
  StateProofCookie: { name: STATE_PROOF_COOKIE, in: 'cookie', required: false, schema: { type: 'string' } },
  UserId: { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The user id (`prn`); an unknown one is 404 `not_found`.' },
  RequestId: { name: 'X-Request-Id', in: 'header', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' }, description: 'Echoed back; generated when absent.' },
};

export const SECURITY_SCHEMES: Json = {
  bearerPass: { type: 'http', scheme: 'bearer', bearerFormat: `${JTS_TYP} JWS` },
  stateProofCookie: { type: 'apiKey', in: 'cookie', name: STATE_PROOF_COOKIE },
  stateProofHeader: { type: 'apiKey', in: 'header', name: 'X-JTS-StateProof' },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when configured (or the X-Metrics-Token header).' },
  clientBasic: { type: 'http', scheme: 'basic', description: 'A service client: id and secret, each form-urlencoded (RFC 6749 §2.3.1).' },
};
