import { JWKS_PATHS, OAUTH_METADATA_PATH, SIGNING_KEY_PEM_PATH } from '../routes/well-known.js';
import { adminClientPaths } from './admin-client-paths.js';
import { mfaPaths } from './mfa-paths.js';
import { passkeyPaths } from './passkey-paths.js';
import { adminPaths } from './admin-paths.js';
import { authPaths } from './auth-paths.js';
import { oauthPaths } from './oauth-paths.js';
import { eventPaths } from './event-paths.js';
import { emailPaths } from './email-paths.js';
import { ERROR_RESPONSES, PARAMETERS, SCHEMAS, SECURITY_SCHEMES } from './components.js';
import { bearer, errors, json, ok, ref, type Json, type Method } from './parts.js';

/**
 * The OpenAPI 3.1 description of every endpoint the app serves. `test/http/openapi.test.ts` walks
 * the Express router and fails when a route is missing here or documented but not served.
 */


/** The JWKS and its aliases: `getJwks`, `getJwksJtsAlias`, `getJwksWellKnownAlias` (and `preflight…`). */
const JWKS_OPERATION_NAMES: Record<(typeof JWKS_PATHS)[number], string> = {
  '/.well-known/jts-jwks': 'Jwks',
  '/jts/.well-known/jwks.json': 'JwksJtsAlias',
  '/.well-known/jwks.json': 'JwksWellKnownAlias',
};

const PUBLIC_NO_4XX = 'Public, reads no body, credential or path parameter and has no rate limit: every request to this path gets the 2xx answer (a malformed path is another path, the generic 404).';
const PREFLIGHT_NO_4XX = 'Public CORS preflight: answered 204 for every origin, before any check.';

/**
 * The operations that have no 4xx answer of their own, each with the reason. Redocly's
 * `operation-4xx-response` rule is off for exactly these (redocly.yaml), and
 * test/http/openapi.test.ts checks that every other operation documents a 4xx.
 */
export const OPERATIONS_WITHOUT_4XX: Readonly<Record<string, string>> = {
  getServerInfo: PUBLIC_NO_4XX,
  checkLiveness: PUBLIC_NO_4XX,
  checkReadiness: 'Public, takes nothing: not ready is the documented 503, never a 4xx.',
  getOpenApiDocument: PUBLIC_NO_4XX,
  getOpenApiDocumentYaml: PUBLIC_NO_4XX,
  getApiReference: PUBLIC_NO_4XX,
  getSigningKeyPem: `${PUBLIC_NO_4XX} If-None-Match only selects 200 or 304.`,
  preflightSigningKeyPem: PREFLIGHT_NO_4XX,
  getJwks: `${PUBLIC_NO_4XX} If-None-Match only selects 200 or 304.`,
  getJwksJtsAlias: `${PUBLIC_NO_4XX} If-None-Match only selects 200 or 304.`,
  getJwksWellKnownAlias: `${PUBLIC_NO_4XX} If-None-Match only selects 200 or 304.`,
  getConfiguration: PUBLIC_NO_4XX,
  getPublicMessage: PUBLIC_NO_4XX,
  getApiHealth: PUBLIC_NO_4XX,
  preflightJwks: PREFLIGHT_NO_4XX,
  preflightJwksJtsAlias: PREFLIGHT_NO_4XX,
  preflightJwksWellKnownAlias: PREFLIGHT_NO_4XX,
  preflightConfiguration: PREFLIGHT_NO_4XX,
  getAuthorizationServerMetadata: PUBLIC_NO_4XX,
  preflightAuthorizationServerMetadata: PREFLIGHT_NO_4XX,
};

const preflight = (tag: string, operationId: string): Json => ({
  operationId,
  tags: [tag],
  summary: 'CORS preflight (open to every origin, no credentials)',
  security: [],
  responses: { '204': { description: 'Preflight answer, cached for a day.' } },
});

function wellKnownPaths(): Record<string, Partial<Record<Method, Json>>> {
  const jwks = (alias: boolean, operationId: string): Json => ({
    operationId,
    tags: ['discovery'],
    summary: alias ? 'JWKS (alias of /.well-known/jts-jwks)' : 'The public keys that verify BearerPasses',
    security: [],
    parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
    responses: {
      '200': { description: 'Key set; cacheable for an hour.', headers: { ETag: { schema: { type: 'string' } } }, content: { 'application/jwk-set+json': { schema: ref('schemas', 'Jwks') } } },
      '304': { description: 'Not modified.' },
    },
  });
  const paths: Record<string, Partial<Record<Method, Json>>> = {};
  for (const path of JWKS_PATHS) {
    const name = JWKS_OPERATION_NAMES[path];
    paths[path] = { get: jwks(path !== '/.well-known/jts-jwks', `get${name}`), options: preflight('discovery', `preflight${name}`) };
  }
  const url = { type: 'string', format: 'uri' };
  const strings = { type: 'array', items: { type: 'string' } };
  const configuration = {
    type: 'object',
    required: ['issuer', 'jwks_uri'],
    properties: {
      issuer: { type: 'string' },
      jwks_uri: url,
      token_endpoint: { ...url, description: 'The OAuth 2.0 token endpoint, /jts/token (client credentials, token exchange).' },
      introspection_endpoint: url,
      login_endpoint: { ...url, description: 'Where users sign in, /jts/login (JTS).' },
      registration_endpoint: url,
      renewal_endpoint: url,
      revocation_endpoint: url,
      sessions_endpoint: url,
      events_endpoint: { ...url, description: 'The security events (RFC 8417 SETs) as Server-Sent Events, /jts/events (service clients with the scope `jts:events`).' },
      events_poll_endpoint: { ...url, description: 'The same events as JSON pages, /jts/events/poll.' },
      jts_versions_supported: strings,
      jts_profiles_supported: strings,
      token_signing_alg_values_supported: strings,
      active_signing_alg: { type: 'string' },
      stateproof_cookie_name: { type: 'string' },
    },
  };
  paths[SIGNING_KEY_PEM_PATH] = {
    get: {
      operationId: 'getSigningKeyPem',
      tags: ['discovery'],
      summary: 'The current signing public key as PEM, for tools that cannot read a JWKS',
      description:
        'The SubjectPublicKeyInfo of the key that signs new BearerPasses (its `kid` is in the JWKS). Only that key: during a key rotation BearerPasses signed by the previous key are still valid, and the JWKS lists every key that verifies — prefer it where you can.',
      security: [],
      parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
      responses: {
        '200': {
          description: 'PEM text (`-----BEGIN PUBLIC KEY-----`); cacheable for an hour, like the JWKS.',
          headers: { ETag: { schema: { type: 'string' } } },
          content: { 'application/x-pem-file': { schema: { type: 'string' } } },
        },
        '304': { description: 'Not modified.' },
      },
    },
    options: preflight('discovery', 'preflightSigningKeyPem'),
  };
  const metadata = {
    type: 'object',
    required: ['issuer', 'token_endpoint', 'introspection_endpoint', 'jwks_uri', 'grant_types_supported', 'token_endpoint_auth_methods_supported', 'response_types_supported'],
    properties: {
      issuer: { type: 'string' },
      token_endpoint: url,
      introspection_endpoint: url,
      jwks_uri: url,
      grant_types_supported: strings,
      token_endpoint_auth_methods_supported: strings,
      introspection_endpoint_auth_methods_supported: strings,
      response_types_supported: { type: 'array', maxItems: 0, description: 'Empty: no authorization endpoint (RFC 8414 §2 requires the member).' },
      service_documentation: url,
    },
  };
  paths[OAUTH_METADATA_PATH] = {
    get: {
      operationId: 'getAuthorizationServerMetadata',
      tags: ['discovery'],
      summary: 'RFC 8414 Authorization Server Metadata, for OAuth 2.0 client libraries',
      description: 'No `scopes_supported` (scopes belong to clients and are not published), no `revocation_endpoint` (/jts/logout is not RFC 7009).',
      security: [],
      responses: ok('Metadata.', metadata),
    },
    options: preflight('discovery', 'preflightAuthorizationServerMetadata'),
  };
  paths['/.well-known/jts-configuration'] = {
    get: { operationId: 'getConfiguration', tags: ['discovery'], summary: 'Discovery document: issuer, endpoints, algorithms', security: [], responses: ok('Discovery document.', configuration) },
    options: preflight('discovery', 'preflightConfiguration'),
  };
  return paths;
}


function apiPaths(): Record<string, Partial<Record<Method, Json>>> {
  const message = { type: 'object', required: ['timestamp'], properties: { message: { type: 'string' }, status: { type: 'string' }, timestamp: { type: 'integer', description: 'Seconds since the epoch.' } } };
  return {
    '/api/public': { get: { operationId: 'getPublicMessage', tags: ['demo api'], summary: 'Public demo endpoint', security: [], responses: ok('Public message.', message) } },
    '/api/health': { get: { operationId: 'getApiHealth', tags: ['demo api'], summary: 'Demo API health', security: [], responses: ok('Healthy.', message) } },
    '/api/profile': {
      get: {
        operationId: 'getProfile',
        tags: ['demo api'],
        summary: "The caller's profile",
        security: bearer,
        responses: {
          ...ok('Profile.', { type: 'object', required: ['id', 'email', 'name', 'permissions'], properties: { id: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } } } }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'ServiceUnavailable'),
        },
      },
    },
    '/api/admin': {
      get: {
        operationId: 'getAdmin',
        tags: ['demo api'],
        summary: 'Needs the admin:access permission',
        description: 'The permission must be in the BearerPass\'s `perm`. With `JTS_MFA_REQUIRED_FOR` naming it, a session signed in without a second factor (`mfa` not in `amr`) does not carry it: `403 permission_denied` (JTS-403-02) until the user signs in with password and authenticator code.',
        security: bearer,
        responses: {
          ...ok('Welcome.', {
            type: 'object',
            required: ['message', 'user', 'timestamp'],
            properties: {
              message: { type: 'string' },
              user: { type: 'object', required: ['id', 'permissions'], properties: { id: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } } } },
              timestamp: { type: 'integer', description: 'Seconds since the epoch.' },
            },
          }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'ServiceUnavailable'),
        },
      },
    },
  };
}

function opsPaths(): Record<string, Partial<Record<Method, Json>>> {
  return {
    '/': {
      get: {
        operationId: 'getServerInfo',
        tags: ['ops'],
        summary: 'Server name, version and discovery links (or, with DEMO_PAGE=on, the demo page for browsers)',
        security: [],
        responses: {
          '200': {
            description: 'Description, or the demo page when DEMO_PAGE is on and the client prefers HTML.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['name', 'version', 'profile', 'jwks', 'discovery', 'demoUsers'],
                  properties: {
                    name: { type: 'string' },
                    version: { type: 'string' },
                    profile: { type: 'string' },
                    jwks: { type: 'string' },
                    discovery: { type: 'string' },
                    demoUsers: { type: 'boolean', description: 'Whether the well-known demo accounts exist (JTS_DEMO_USERS).' },
                  },
                },
              },
              'text/html': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    '/healthz': { get: { operationId: 'checkLiveness', tags: ['ops'], summary: 'Liveness: the process answers', security: [], responses: ok('Alive.', { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }) } },
    '/readyz': {
      get: {
        operationId: 'checkReadiness',
        tags: ['ops'],
        summary: 'Readiness: store reachable, keys loaded, not shutting down',
        security: [],
        responses: { ...ok('Ready.', ref('schemas', 'Readiness')), '503': { description: 'Not ready (or draining for shutdown).', content: json(ref('schemas', 'Readiness')) } },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['ops'],
        summary: 'Prometheus metrics',
        security: [{ metricsToken: [] }, {}],
        responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors('Unauthorized') },
      },
    },
    '/openapi.json': { get: { operationId: 'getOpenApiDocument', tags: ['ops'], summary: 'This document', security: [], responses: ok('OpenAPI 3.1 document.', { type: 'object' }) } },
    '/openapi.yaml': {
      get: {
        operationId: 'getOpenApiDocumentYaml',
        tags: ['ops'],
        summary: 'This document, as YAML',
        security: [],
        responses: { '200': { description: 'The same OpenAPI 3.1 document as /openapi.json, in YAML 1.2.', content: { 'application/yaml': { schema: { type: 'string' } } } } },
      },
    },
    '/docs': {
      get: {
        operationId: 'getApiReference',
        tags: ['ops'],
        summary: 'Interactive API reference (Swagger UI) rendered from this document',
        security: [],
        responses: { '200': { description: 'HTML page; its script and styles are under /docs/assets/.', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
  };
}

export function openApiDocument(options: { issuer: string; version: string }): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'JTS auth server',
      version: options.version,
      description: 'JTS-S/v1: short-lived BearerPasses, rotating StateProofs with replay detection. Every error has the body of the Error schema.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.issuer }],
    security: [],
    paths: withCommonParts({ ...opsPaths(), ...wellKnownPaths(), ...authPaths(), ...emailPaths(), ...mfaPaths(), ...passkeyPaths(), ...oauthPaths(), ...eventPaths(), ...apiPaths(), ...adminPaths(), ...adminClientPaths() }),
    components: { schemas: SCHEMAS, parameters: PARAMETERS, securitySchemes: SECURITY_SCHEMES, responses: ERROR_RESPONSES },
  };
}

/**
 * What every operation shares: the optional X-Request-Id (request-observer.ts reads it on every
 * request, before routing) and the 500 `internal_error` of the error handler.
 */
function withCommonParts(paths: Record<string, Partial<Record<Method, Json>>>): Record<string, Partial<Record<Method, Json>>> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, operation]) => [
          method,
          {
            ...operation,
            parameters: [...((operation.parameters as unknown[] | undefined) ?? []), ref('parameters', 'RequestId')],
            responses: { ...(operation.responses as Json), ...errors('InternalError') },
          },
        ]),
      ),
    ]),
  );
}

/** The documented operations as `{ method, path }` in Express syntax (`/jts/sessions/:aid`). */
export function documentedRoutes(document: Json): { method: string; path: string }[] {
  const paths = document.paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{([^}]+)\}/g, ':$1') })),
  );
}
