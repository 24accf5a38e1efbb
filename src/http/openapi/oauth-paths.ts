import { ACCESS_TOKEN_TYPE, CLIENT_CREDENTIALS_GRANT, TOKEN_EXCHANGE_GRANT } from '../routes/oauth.js';
import { FORM_MEDIA_TYPE } from '../oauth-form.js';
import { errors, ok, type Json, type Method } from './parts.js';

/** The OAuth 2.0 endpoints for services (README "For services"): /jts/token and /jts/introspect. */

const scope = { type: 'string', description: 'Space-separated scope-tokens (RFC 6749 §3.3).', examples: ['read:orders'] };
const clientBasic = [{ clientBasic: [] }];
const form = (schema: Json) => ({ required: true, content: { [FORM_MEDIA_TYPE]: { schema } } });
const REPEAT_RULE = 'A parameter sent twice is `invalid_request` (RFC 6749 §3.1); an empty one counts as absent. A body in any other media type (JSON included) is `invalid_request`.';

const clientCredentialsRequest: Json = {
  title: 'ClientCredentialsRequest',
  type: 'object',
  required: ['grant_type'],
  properties: { grant_type: { const: CLIENT_CREDENTIALS_GRANT }, scope: { ...scope, description: 'Default: every scope of the client.' } },
};

const tokenExchangeRequest: Json = {
  title: 'TokenExchangeRequest',
  type: 'object',
  required: ['grant_type', 'subject_token', 'subject_token_type', 'audience'],
  properties: {
    grant_type: { const: TOKEN_EXCHANGE_GRANT },
    subject_token: { type: 'string', description: 'A live BearerPass of a user of this server (not one /jts/token issued).' },
    subject_token_type: { const: ACCESS_TOKEN_TYPE },
    requested_token_type: { const: ACCESS_TOKEN_TYPE },
    audience: { type: 'string', format: 'uri', description: 'The audience of a registered service client.' },
    scope: { ...scope, description: 'Default: every permission of the user that the audience accepts.' },
  },
};

const tokenResponse: Json = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string', description: 'A BearerPass (JTS-S/v1 JWS) for the client’s audience, or the exchange’s.' },
    token_type: { const: 'Bearer' },
    expires_in: { type: 'integer', description: 'Seconds: JTS_CLIENT_TOKEN_LIFETIME, or JTS_EXCHANGE_TOKEN_LIFETIME (at most 900).' },
    scope,
    issued_token_type: { const: ACCESS_TOKEN_TYPE, description: 'Token exchange only (RFC 8693 §2.2.1).' },
  },
};

const introspectionResponse: Json = {
  type: 'object',
  required: ['active'],
  properties: {
    active: { type: 'boolean' },
    sub: { type: 'string', description: 'The user id, or the client id of a client-credentials token.' },
    prn: { type: 'string', description: 'Same as `sub` (the JTS name).' },
    aid: { type: 'string', description: 'The session of a user’s token.' },
    scope,
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    client_id: { type: 'string', description: 'The client the token was issued to, or that exchanged it.' },
    token_type: { const: 'Bearer' },
    aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    iss: { type: 'string' },
    atm: { type: 'string', description: '`client_credentials`, `token_exchange`, or how the user signed in.' },
    org: { type: 'string' },
    act: { type: 'object', required: ['sub'], properties: { sub: { type: 'string' } } },
  },
};

export function oauthPaths(): Record<string, Partial<Record<Method, Json>>> {
  return {
    '/jts/token': {
      post: {
        operationId: 'requestToken',
        tags: ['services'],
        summary: 'OAuth 2.0 token endpoint: client credentials (RFC 6749 §4.4) and token exchange (RFC 8693)',
        description: `Errors carry RFC 6749 §5.2 / RFC 8693 codes in \`error\`; \`invalid_client\` is a 401 with \`WWW-Authenticate: Basic\`. Client authentication is HTTP Basic only (client_secret_basic), required for client credentials and optional for token exchange (then \`act\` names the client). No CSRF header and no cookie. ${REPEAT_RULE}`,
        security: [...clientBasic, {}],
        requestBody: form({ oneOf: [clientCredentialsRequest, tokenExchangeRequest] }),
        responses: {
          '200': { description: 'A token; never cached.', headers: { 'Cache-Control': { schema: { const: 'no-store' } } }, content: { 'application/json': { schema: tokenResponse } } },
          ...errors('BadRequest', 'Unauthorized', 'PayloadTooLarge', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/introspect': {
      post: {
        operationId: 'introspectToken',
        tags: ['services'],
        summary: 'Token introspection (RFC 7662) for authenticated service clients',
        description: `\`{"active": false}\` for anything not valid right now (bad signature, expired, session ended or revoked, disabled client) or not meant for the calling client. Rate-limited per client (RATE_LIMIT_INTROSPECT). ${REPEAT_RULE}`,
        security: clientBasic,
        requestBody: form({
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string' }, token_type_hint: { type: 'string', description: 'Accepted and ignored (RFC 7662 §2.1).' } },
        }),
        responses: { ...ok('Introspection answer; never cached.', introspectionResponse), ...errors('BadRequest', 'Unauthorized', 'PayloadTooLarge', 'TooManyRequests', 'ServiceUnavailable') },
      },
    },
  };
}
