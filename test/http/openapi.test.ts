import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { documentedRoutes, OPERATIONS_WITHOUT_4XX } from '../../src/http/openapi/document';
import { listRoutes } from '../../src/http/route-table';
import { buildTestApp, type TestApp } from '../support/test-app';

type Json = Record<string, unknown>;
type Operation = { operationId?: string; parameters?: Json[]; responses: Record<string, unknown>; security?: Record<string, unknown>[] };

/** Every operation of the document as `[label, operation]`, label `get /path`. */
function operationsOf(doc: Json): [string, Operation][] {
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, operations]) => Object.entries(operations).map(([method, operation]): [string, Operation] => [`${method} ${path}`, operation]));
}

/** Calls `visit` on every object inside `value`, with its JSON pointer. */
function walkObjects(value: unknown, visit: (node: Json, pointer: string) => void, pointer = '#'): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      walkObjects(item, visit, `${pointer}/${i}`);
    });
  } else if (value !== null && typeof value === 'object') {
    visit(value as Json, pointer);
    for (const [k, v] of Object.entries(value)) walkObjects(v, visit, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
}

describe('GET /openapi.json', () => {
  let t: TestApp;
  let doc: Json;
  beforeAll(async () => {
    t = await buildTestApp();
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.body as Json;
  });
  afterAll(async () => {
    await t.close();
  });

  const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

  it('is an OpenAPI 3.1 document naming this server', () => {
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String), version: expect.any(String) }, servers: [{ url: t.config.jts.issuer }] });
  });

  it('documents every route the app registers, and nothing else', () => {
    // The development outbox (no SMTP_URL, never in production) is not part of the API.
    const served = listRoutes(t.app)
      .filter((route) => !route.path.startsWith('/dev/'))
      .map(key)
      .sort();
    const documented = documentedRoutes(doc).map(key).sort();
    expect(served.length).toBeGreaterThan(20);
    expect(documented).toEqual(served);
  });

  it('documents only operations that are really served (none answers the generic 404)', async () => {
    for (const route of documentedRoutes(doc)) {
      const path = route.path.replace(/:[^/]+/g, 'x');
      const res = await request(t.app)[route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete' | 'options'](path);
      expect({ route: key(route), notFound: res.status === 404 && (res.body as { message?: string }).message === 'No such endpoint.' }).toEqual({ route: key(route), notFound: false });
    }
  });

  it('and a path it does not document is the generic JSON 404', async () => {
    const res = await request(t.app).get('/jts/not-documented');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_found', message: 'No such endpoint.' });
  });

  it('and a documented path asked with another method is a JSON 405 naming the methods it takes in Allow', async () => {
    const token = await request(t.app).get('/jts/token');
    expect(token.status).toBe(405);
    expect(token.headers.allow).toBe('POST');
    expect(token.body).toMatchObject({ error: 'method_not_allowed', message: 'This endpoint takes POST, not GET.' });
    const login = await request(t.app).put('/jts/login').set('x-jts-request', '1');
    expect([login.status, login.headers.allow]).toEqual([405, 'POST']);
    const totp = await request(t.app).get('/jts/mfa/totp');
    expect([totp.status, totp.headers.allow]).toEqual([405, 'POST, DELETE']);
    // A parameterised path too; GET routes also take HEAD.
    const session = await request(t.app).post('/admin/users/some-id').set('x-jts-request', '1');
    expect(session.status).toBe(405);
    expect(session.headers.allow).toMatch(/^GET, .*HEAD$/);
  });

  it('resolves every $ref', () => {
    const refs: string[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else collect(v);
        }
      }
    };
    collect(doc);
    expect(refs.length).toBeGreaterThan(30);
    for (const ref of new Set(refs)) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, part) => (node as Json | undefined)?.[part], doc);
      expect({ ref, found: target !== undefined }).toEqual({ ref, found: true });
    }
  });

  it('gives every operation at least one documented response and every error one the Error schema', () => {
    const paths = doc.paths as Record<string, Record<string, { responses: Record<string, Json> }>>;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect({ op: `${method} ${path}`, responses: Object.keys(operation.responses).length > 0 }).toEqual({ op: `${method} ${path}`, responses: true });
      }
    }
    const responses = (doc.components as { responses: Record<string, { content: Record<string, { schema: Json }> }> }).responses;
    for (const response of Object.values(responses)) expect(response.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('describes the error body exactly as the server sends it', async () => {
    const schema = (doc.components as { schemas: { Error: { properties: Json; required: string[] } } }).schemas.Error;
    const bodies = [
      (await request(t.app).get('/api/profile')).body as Json,
      (await request(t.app).get('/nope')).body as Json,
    ];
    for (const body of bodies) {
      for (const field of Object.keys(body)) expect(Object.keys(schema.properties)).toContain(field);
      for (const field of schema.required) expect(body).toHaveProperty(field);
    }
    expect((schema.properties.error_code as { enum: string[] }).enum).toContain('JTS-401-05');
    expect((schema.properties.error as { enum: string[] }).enum).toEqual(expect.arrayContaining(['rate_limited', 'service_unavailable', 'session_compromised']));
  });

  // The faults `npx @redocly/cli lint` reports (README, "Endpoints"), checked here without it.

  it('names every operation with a unique operationId, the names generated clients use', () => {
    const ids = operationsOf(doc).map(([label, operation]) => ({ label, id: operation.operationId }));
    for (const { label, id } of ids) expect({ label, id: typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id) }).toEqual({ label, id: true });
    const seen = ids.map(({ id }) => id);
    expect(seen.filter((id, i) => seen.indexOf(id) !== i)).toEqual([]);
    // Renaming one breaks every generated client: this list changes only on purpose.
    expect(Object.fromEntries(ids.map(({ label, id }) => [label, id]))).toEqual({
      'get /': 'getServerInfo',
      'get /healthz': 'checkLiveness',
      'get /readyz': 'checkReadiness',
      'get /metrics': 'getMetrics',
      'get /openapi.json': 'getOpenApiDocument',
      'get /openapi.yaml': 'getOpenApiDocumentYaml',
      'get /docs': 'getApiReference',
      'get /.well-known/jts-signing-key.pem': 'getSigningKeyPem',
      'options /.well-known/jts-signing-key.pem': 'preflightSigningKeyPem',
      'get /.well-known/jts-jwks': 'getJwks',
      'options /.well-known/jts-jwks': 'preflightJwks',
      'get /jts/.well-known/jwks.json': 'getJwksJtsAlias',
      'get /jts/events': 'streamSecurityEvents',
      'get /jts/events/poll': 'pollSecurityEvents',
      'options /jts/.well-known/jwks.json': 'preflightJwksJtsAlias',
      'get /.well-known/jwks.json': 'getJwksWellKnownAlias',
      'options /.well-known/jwks.json': 'preflightJwksWellKnownAlias',
      'get /.well-known/jts-configuration': 'getConfiguration',
      'options /.well-known/jts-configuration': 'preflightConfiguration',
      'get /.well-known/oauth-authorization-server': 'getAuthorizationServerMetadata',
      'options /.well-known/oauth-authorization-server': 'preflightAuthorizationServerMetadata',
      'post /jts/introspect': 'introspectToken',
      'post /jts/login': 'login',
      'post /jts/register': 'register',
      'post /jts/renew': 'renewSession',
      'post /jts/logout': 'logout',
      'post /jts/password': 'changePassword',
      'get /jts/sessions': 'listSessions',
      'post /jts/sessions/revoke-others': 'revokeOtherSessions',
      'post /jts/token': 'requestToken',
      'delete /jts/sessions/{aid}': 'revokeSession',
      'post /jts/password/forgot': 'forgotPassword',
      'post /jts/password/reset': 'resetPassword',
      'post /jts/reauth': 'reauthenticate',
      'post /jts/reauth/webauthn/options': 'startPasskeyStepUp',
      'post /jts/email/verify': 'verifyEmail',
      'post /jts/email/verify/resend': 'resendVerification',
      'post /jts/login/code': 'requestSignInCode',
      'post /jts/login/code/verify': 'signInWithCode',
      'post /jts/not-me': 'reportNotMe',
      'get /jts/mfa': 'listSecondFactors',
      'post /jts/mfa/totp': 'startTotpEnrolment',
      'delete /jts/mfa/totp': 'removeTotp',
      'post /jts/mfa/totp/confirm': 'confirmTotp',
      'post /jts/mfa/verify': 'verifySecondFactor',
      'post /jts/mfa/webauthn/options': 'startPasskeySecondFactor',
      'get /jts/passkeys': 'listPasskeys',
      'post /jts/passkeys/register/options': 'startPasskeyRegistration',
      'post /jts/passkeys/register/verify': 'finishPasskeyRegistration',
      'patch /jts/passkeys/{id}': 'renamePasskey',
      'delete /jts/passkeys/{id}': 'removePasskey',
      'post /jts/passkeys/login/options': 'startPasskeySignIn',
      'post /jts/passkeys/login/verify': 'finishPasskeySignIn',
      'get /api/public': 'getPublicMessage',
      'get /api/health': 'getApiHealth',
      'get /api/profile': 'getProfile',
      'get /api/admin': 'getAdmin',
      'get /admin/users': 'searchUsers',
      'post /admin/users': 'createUser',
      'post /jts/account/email': 'requestEmailChange',
      'post /jts/account/email/confirm': 'confirmEmailChange',
      'get /admin/users/{id}': 'getUser',
      'patch /admin/users/{id}': 'updateUser',
      'delete /admin/users/{id}': 'deleteUser',
      'delete /admin/users/{id}/factors': 'resetUserFactors',
      'get /admin/users/{id}/sessions': 'listUserSessions',
      'delete /admin/users/{id}/sessions': 'revokeUserSessions',
      'get /admin/clients': 'listClients',
      'post /admin/clients': 'registerClient',
      'get /admin/clients/{id}': 'getClient',
      'patch /admin/clients/{id}': 'updateClient',
      'delete /admin/clients/{id}': 'deleteClient',
      'post /admin/clients/{id}/rotate-secret': 'rotateClientSecret',
      'post /admin/clients/{id}/finish-rotation': 'finishClientSecretRotation',
    });
  });

  it('uses every component it defines', () => {
    const refs = new Set<string>();
    const schemes = new Set<string>();
    walkObjects(doc, (node, pointer) => {
      if (typeof node.$ref === 'string') refs.add(node.$ref);
      if (/\/security\/\d+$/.test(pointer)) Object.keys(node).forEach((name) => schemes.add(name));
    });
    const components = doc.components as Record<string, Json>;
    const unused: string[] = [];
    for (const [kind, entries] of Object.entries(components)) {
      for (const name of Object.keys(entries)) {
        const used = kind === 'securitySchemes' ? schemes.has(name) : refs.has(`#/components/${kind}/${name}`);
        if (!used) unused.push(`${kind}/${name}`);
      }
    }
    expect(unused).toEqual([]);
  });

  it('lets every operation take X-Request-Id and answer 500 internal_error', () => {
    for (const [label, operation] of operationsOf(doc)) {
      expect({ label, requestId: operation.parameters ?? [] }).toEqual({ label, requestId: expect.arrayContaining([{ $ref: '#/components/parameters/RequestId' }]) });
      expect({ label, internalError: operation.responses['500'] }).toEqual({ label, internalError: { $ref: '#/components/responses/InternalError' } });
    }
  });

  it('gives every schema with `required` the properties it requires', () => {
    const faults: string[] = [];
    walkObjects(doc, (node, pointer) => {
      if (!Array.isArray(node.required)) return;
      const properties = (node.properties ?? {}) as Json;
      for (const name of node.required as string[]) if (!(name in properties)) faults.push(`${pointer}: ${name}`);
    });
    expect(faults).toEqual([]);
  });

  it('documents a 4xx for every operation but those listed, with a reason, as having none', () => {
    const without = operationsOf(doc)
      .filter(([, operation]) => !Object.keys(operation.responses).some((status) => /^4(\d\d|XX)$/.test(status)))
      .map(([label, operation]) => ({ label, id: operation.operationId }));
    expect(without.map(({ id }) => id).sort()).toEqual(Object.keys(OPERATIONS_WITHOUT_4XX).sort());
    for (const reason of Object.values(OPERATIONS_WITHOUT_4XX)) expect(reason.length).toBeGreaterThan(20);
    expect(without.map(({ label }) => label)).not.toContain('get /metrics');
  });

  it('switches redocly’s 4xx rule off for exactly those operations (redocly.yaml)', () => {
    const config = readFileSync(join(__dirname, '..', '..', 'redocly.yaml'), 'utf8');
    expect(config).toMatch(/^\s+operation-4xx-response: off$/m);
    const pattern = /^\s+notPattern: \/\^\(([A-Za-z|]+)\)\$\/$/m.exec(config);
    expect(pattern).not.toBeNull();
    expect(pattern![1]!.split('|').sort()).toEqual(Object.keys(OPERATIONS_WITHOUT_4XX).sort());
  });
});
