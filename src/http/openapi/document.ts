import { JWKS_PATHS } from '../routes/well-known.js';
import { ERROR_RESPONSES, PARAMETERS, SCHEMAS, SECURITY_SCHEMES, type ErrorResponseName } from './components.js';

/**
 * The OpenAPI 3.1 description of every endpoint the app serves. `test/http/openapi.test.ts` walks
 * the Express router and fails when a route is missing here or documented but not served.
 */

type Json = Record<string, unknown>;
type Method = 'get' | 'post' | 'delete' | 'options';

const ref = (kind: 'schemas' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const ok = (description: string, schema: Json, status = '200'): Json => ({ [status]: { description, content: json(schema) } });
const errors = (...names: ErrorResponseName[]): Json => {
  const status: Record<ErrorResponseName, string> = {
    BadRequest: '400',
    Unauthorized: '401',
    Forbidden: '403',
    NotFound: '404',
    Conflict: '409',
    PayloadTooLarge: '413',
    UnsupportedMediaType: '415',
    TooManyRequests: '429',
    InternalError: '500',
    ServiceUnavailable: '503',
  };
  return Object.fromEntries(names.map((name) => [status[name], { $ref: `#/components/responses/${name}` }]));
};
const body = (schema: string) => ({ required: true, content: json(ref('schemas', schema)) });
const setsStateProof = { 'Set-Cookie': { schema: { type: 'string' }, description: 'jts_state_proof=…; HttpOnly; Secure; SameSite=Strict; Path=/jts' } };
const bearer = [{ bearerPass: [] }];
const bodyErrors = ['BadRequest', 'PayloadTooLarge', 'UnsupportedMediaType'] as const;

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
};

function credentialsResponse(status: string, description: string): Json {
  return { [status]: { description, headers: setsStateProof, content: json(ref('schemas', 'Credentials')) } };
}

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
      token_endpoint: url,
      registration_endpoint: url,
      renewal_endpoint: url,
      revocation_endpoint: url,
      sessions_endpoint: url,
      jts_versions_supported: strings,
      jts_profiles_supported: strings,
      token_signing_alg_values_supported: strings,
      active_signing_alg: { type: 'string' },
      stateproof_cookie_name: { type: 'string' },
    },
  };
  paths['/.well-known/jts-configuration'] = {
    get: { operationId: 'getConfiguration', tags: ['discovery'], summary: 'Discovery document: issuer, endpoints, algorithms', security: [], responses: ok('Discovery document.', configuration) },
    options: preflight('discovery', 'preflightConfiguration'),
  };
  return paths;
}

function authPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  return {
    '/jts/login': {
      post: {
        operationId: 'login',
        tags: ['auth'],
        summary: 'Log in with email and password',
        security: [],
        parameters: [csrf, ref('parameters', 'DeviceId')],
        requestBody: body('LoginRequest'),
        responses: { ...credentialsResponse('200', 'Logged in.'), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable') },
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
        security: bearer,
        parameters: [csrf],
        requestBody: body('ChangePasswordRequest'),
        responses: {
          ...ok('Changed.', { type: 'object', required: ['success', 'revokedSessions'], properties: { success: { const: true }, revokedSessions: { type: 'integer' } } }),
          ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/sessions': {
      get: {
        operationId: 'listSessions',
        tags: ['sessions'],
        summary: "The caller's sessions",
        security: bearer,
        responses: {
          ...ok('Sessions.', { type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: ref('schemas', 'Session') } } }),
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
          ...ok('Ended.', { type: 'object', required: ['success', 'revoked'], properties: { success: { const: true }, revoked: { type: 'integer' } } }),
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

function apiPaths(): Record<string, Partial<Record<Method, Json>>> {
  const message = { type: 'object', required: ['timestamp'], properties: { message: { type: 'string' }, status: { type: 'string' }, timestamp: { type: 'string', format: 'date-time' } } };
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
        security: bearer,
        responses: {
          ...ok('Welcome.', {
            type: 'object',
            required: ['message', 'user', 'timestamp'],
            properties: {
              message: { type: 'string' },
              user: { type: 'object', required: ['id', 'permissions'], properties: { id: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } } } },
              timestamp: { type: 'string', format: 'date-time' },
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
        summary: 'Server name, version and discovery links (or the demo page)',
        security: [],
        responses: { '200': { description: 'Description or page.', content: { 'application/json': { schema: { type: 'object' } }, 'text/html': { schema: { type: 'string' } } } } },
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
    paths: withCommonParts({ ...opsPaths(), ...wellKnownPaths(), ...authPaths(), ...apiPaths() }),
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
