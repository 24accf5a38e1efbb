import { JWKS_PATHS } from '../routes/well-known.js';
import { ERROR_RESPONSES, PARAMETERS, SCHEMAS, SECURITY_SCHEMES, type ErrorResponseName } from './components.js';

/**
 * The OpenAPI 3.1 description of every endpoint the app serves. `test/ops/openapi.test.ts` walks
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

function credentialsResponse(status: string, description: string): Json {
  return { [status]: { description, headers: setsStateProof, content: json(ref('schemas', 'Credentials')) } };
}

const preflight = (tag: string): Json => ({
  tags: [tag],
  summary: 'CORS preflight (open to every origin, no credentials)',
  security: [],
  responses: { '204': { description: 'Preflight answer, cached for a day.' } },
});

function wellKnownPaths(): Record<string, Partial<Record<Method, Json>>> {
  const jwks = (alias: boolean): Json => ({
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
  for (const path of JWKS_PATHS) paths[path] = { get: jwks(path !== '/.well-known/jts-jwks'), options: preflight('discovery') };
  paths['/.well-known/jts-configuration'] = {
    get: { tags: ['discovery'], summary: 'Discovery document: issuer, endpoints, algorithms', security: [], responses: ok('Discovery document.', { type: 'object', required: ['issuer', 'jwks_uri'] }) },
    options: preflight('discovery'),
  };
  return paths;
}

function authPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  return {
    '/jts/login': {
      post: {
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
        tags: ['auth'],
        summary: 'End the session of the presented StateProof (idempotent)',
        security: [{ stateProofCookie: [] }, { stateProofHeader: [] }, {}],
        parameters: [csrf, ref('parameters', 'StateProofCookie'), ref('parameters', 'StateProofHeader')],
        responses: { ...ok('Logged out; the cookie is cleared.', ref('schemas', 'Success')), ...errors('Forbidden', 'ServiceUnavailable') },
      },
    },
    '/jts/password': {
      post: {
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
    '/api/public': { get: { tags: ['demo api'], summary: 'Public demo endpoint', security: [], responses: ok('Public message.', message) } },
    '/api/health': { get: { tags: ['demo api'], summary: 'Demo API health', security: [], responses: ok('Healthy.', message) } },
    '/api/profile': {
      get: {
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
        tags: ['demo api'],
        summary: 'Needs the admin:access permission',
        security: bearer,
        responses: { ...ok('Welcome.', { type: 'object', required: ['message', 'user'] }), ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'ServiceUnavailable') },
      },
    },
  };
}

function opsPaths(): Record<string, Partial<Record<Method, Json>>> {
  return {
    '/': {
      get: {
        tags: ['ops'],
        summary: 'Server name, version and discovery links (or the demo page)',
        security: [],
        responses: { '200': { description: 'Description or page.', content: { 'application/json': { schema: { type: 'object' } }, 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/healthz': { get: { tags: ['ops'], summary: 'Liveness: the process answers', security: [], responses: ok('Alive.', { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }) } },
    '/readyz': {
      get: {
        tags: ['ops'],
        summary: 'Readiness: store reachable, keys loaded, not shutting down',
        security: [],
        responses: { ...ok('Ready.', ref('schemas', 'Readiness')), '503': { description: 'Not ready (or draining for shutdown).', content: json(ref('schemas', 'Readiness')) } },
      },
    },
    '/metrics': {
      get: {
        tags: ['ops'],
        summary: 'Prometheus metrics',
        security: [{ metricsToken: [] }, {}],
        responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors('Unauthorized') },
      },
    },
    '/openapi.json': { get: { tags: ['ops'], summary: 'This document', security: [], responses: ok('OpenAPI 3.1 document.', { type: 'object' }) } },
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
    paths: { ...opsPaths(), ...wellKnownPaths(), ...authPaths(), ...apiPaths() },
    components: { schemas: SCHEMAS, parameters: PARAMETERS, securitySchemes: SECURITY_SCHEMES, responses: ERROR_RESPONSES },
  };
}

/** The documented operations as `{ method, path }` in Express syntax (`/jts/sessions/:aid`). */
export function documentedRoutes(document: Json): { method: string; path: string }[] {
  const paths = document.paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{([^}]+)\}/g, ':$1') })),
  );
}
