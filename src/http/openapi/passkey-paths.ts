import { mfaWebAuthnOptionsBody, passkeyLoginBody, passkeyRegisterBody, passkeyRenameBody } from '../webauthn-bodies.js';
import { requestSchema } from './components.js';
import { bearer, bodyErrors, credentialsResponse, errors, json, ok, ref, type Json, type Method } from './parts.js';

const FRESH = 'Needs a recent sign-in: the BearerPass\'s `auth_time` at most JTS_FRESH_AUTH_MAX_AGE seconds ago (default 300), else `401 insufficient_user_authentication` with `action: "reauth"` (RFC 9470).';

const REFUSALS =
  '`400 passkey_challenge_invalid`: the challenge the answer signed is unknown, used, older than 5 minutes, or was issued for another purpose, account, ticket or client: ask for new options. `401 passkey_rejected`: anything else about the answer (another origin or RP ID, a bad signature, no user verification where required, another account\'s passkey, a signature counter that did not move on — a cloned authenticator); the reason is in the audit log only.';

const passkey: Json = {
  type: 'object',
  description: 'A passkey as its owner sees it (never its public key or credential id).',
  required: ['id', 'name', 'deviceType', 'backedUp', 'transports', 'createdAt'],
  properties: {
    id: { type: 'string', description: 'Names it in PATCH and DELETE /jts/passkeys/{id}.' },
    name: { type: 'string' },
    deviceType: { type: 'string', enum: ['singleDevice', 'multiDevice'], description: '`multiDevice`: a synced passkey.' },
    backedUp: { type: 'boolean' },
    transports: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time' },
  },
};

const creationOptions: Json = { type: 'object', description: 'PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3): pass to @simplewebauthn/browser startRegistration({ optionsJSON }) or PublicKeyCredential.parseCreationOptionsFromJSON().' };
const requestOptions: Json = { type: 'object', description: 'PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3): pass to startAuthentication({ optionsJSON }) or PublicKeyCredential.parseRequestOptionsFromJSON().' };
const request = (schema: Json) => ({ required: true, content: json(schema) });
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The passkey id; one the caller does not own is `404 not_found`.' };

/** Passkeys (README, "Passkeys"). */
export function passkeyPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  return {
    '/jts/passkeys': {
      get: {
        operationId: 'listPasskeys',
        tags: ['passkeys'],
        summary: "The caller's passkeys, oldest first",
        security: bearer,
        responses: { ...ok('Passkeys.', { type: 'object', required: ['passkeys'], properties: { passkeys: { type: 'array', items: passkey } } }), ...errors('Unauthorized', 'ServiceUnavailable') },
      },
    },
    '/jts/passkeys/register/options': {
      post: {
        operationId: 'startPasskeyRegistration',
        tags: ['passkeys'],
        summary: 'Options to create a passkey (a discoverable credential, user verification required)',
        description: `The challenge lives 5 minutes and works once. Already registered passkeys are excluded. An address not verified yet is \`403 email_unverified\` (unless JTS_EMAIL_VERIFICATION=off). ${FRESH}`,
        security: bearer,
        parameters: [csrf],
        responses: { ...ok('Options.', creationOptions), ...errors('Unauthorized', 'Forbidden', 'ServiceUnavailable') },
      },
    },
    '/jts/passkeys/register/verify': {
      post: {
        operationId: 'finishPasskeyRegistration',
        tags: ['passkeys'],
        summary: 'Store the passkey the browser created',
        description: `\`credential\`: what startRegistration() resolved to; \`name\`: the owner's label (default "Passkey"). From now on a password sign-in answers \`mfa_required\` with \`webauthn\` among its methods. The account is mailed a notice. \`409 passkey_already_registered\`: this credential is registered already. ${REFUSALS} ${FRESH}`,
        security: bearer,
        parameters: [csrf],
        requestBody: request(requestSchema(passkeyRegisterBody)),
        responses: { ...ok('Registered.', passkey, '201'), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'Conflict', 'ServiceUnavailable') },
      },
    },
    '/jts/passkeys/{id}': {
      patch: {
        operationId: 'renamePasskey',
        tags: ['passkeys'],
        summary: 'Rename a passkey',
        security: bearer,
        parameters: [csrf, idParameter],
        requestBody: request(requestSchema(passkeyRenameBody)),
        responses: { ...ok('Renamed.', ref('schemas', 'Success')), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
      delete: {
        operationId: 'removePasskey',
        tags: ['passkeys'],
        summary: 'Remove a passkey',
        description: `The account is mailed a notice. ${FRESH} That sign-in must also have used a second factor (\`amr\` holds \`mfa\`: a passkey sign-in does), else \`401 insufficient_user_authentication\`, as for removing an authenticator app.`,
        security: bearer,
        parameters: [csrf, idParameter],
        responses: { ...ok('Removed.', ref('schemas', 'Success')), ...errors('Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
    },
    '/jts/passkeys/login/options': {
      post: {
        operationId: 'startPasskeySignIn',
        tags: ['passkeys'],
        summary: 'Options for a sign-in with a passkey alone',
        description: 'No allowCredentials: the authenticator offers its passkeys for this RP ID. The challenge lives 5 minutes, works once, and only for the client that asked (same X-JTS-Device-ID and User-Agent). Each call counts toward the per-address sign-in limits.',
        security: [],
        parameters: [csrf, ref('parameters', 'DeviceId')],
        responses: { ...ok('Options.', requestOptions), ...errors('Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/passkeys/login/verify': {
      post: {
        operationId: 'finishPasskeySignIn',
        tags: ['passkeys'],
        summary: 'Sign in with a passkey alone',
        description: `\`credential\`: what startAuthentication() resolved to. Answers exactly as a login (BearerPass, StateProof cookie; in the body too for native clients); \`amr\` is \`swk, user, mfa\`. \`401 passkey_unknown\`: no account has this passkey (removed here, still on the device). A disabled account is \`401 passkey_rejected\`. ${REFUSALS}`,
        security: [],
        parameters: [csrf, ref('parameters', 'DeviceId')],
        requestBody: request(requestSchema(passkeyLoginBody)),
        responses: { ...credentialsResponse('200', 'Signed in.'), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/reauth/webauthn/options': {
      post: {
        operationId: 'startPasskeyStepUp',
        tags: ['auth'],
        summary: 'Options for a step-up (POST /jts/reauth) with a passkey',
        description: 'The challenge is bound to the caller\'s session: send the assertion as `webauthn` to POST /jts/reauth with the same BearerPass. `404 not_found`: the account has no passkey; `403 reauth_needs_session`: a token issued to a service.',
        security: bearer,
        parameters: [csrf],
        responses: { ...ok('Options.', requestOptions), ...errors('Unauthorized', 'Forbidden', 'NotFound', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
    '/jts/mfa/webauthn/options': {
      post: {
        operationId: 'startPasskeySecondFactor',
        tags: ['mfa'],
        summary: 'Options for a passkey as the second factor of a sign-in that answered mfa_required',
        description: 'The challenge is bound to the ticket: send the assertion as `webauthn` to POST /jts/mfa/verify with the same `mfa_ticket`, from the same client. `401 mfa_ticket_invalid`: as at POST /jts/mfa/verify; `404 not_found`: the account has no passkey.',
        security: [],
        parameters: [csrf],
        requestBody: request(requestSchema(mfaWebAuthnOptionsBody)),
        responses: { ...ok('Options.', requestOptions), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'NotFound', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
  };
}
