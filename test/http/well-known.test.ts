import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request, { type Response } from 'supertest';
import { JTS_ALGORITHMS } from '../../src/jts/algorithms';
import { buildTestApp, type TestApp } from '../support/test-app';

const JWKS_PATHS = ['/.well-known/jts-jwks', '/jts/.well-known/jwks.json', '/.well-known/jwks.json'];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const ISSUER = 'http://localhost:3000';
const packageJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };

let testApp: TestApp;

beforeAll(async () => {
  testApp = await buildTestApp();
});

afterAll(async () => {
  await testApp.close();
});

const get = (path: string) => request(testApp.app).get(path);

/** The JSON of a response whatever its JSON media type. */
function jsonOf(res: Response): unknown {
  return JSON.parse(res.text);
}

function expectJsonError(res: Response, status: number, error: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error, message: expect.any(String), action: expect.any(String), timestamp: expect.any(Number) });
  expect(res.text).not.toMatch(/<html|<!DOCTYPE|\bat .+\.ts:\d+/i);
}

describe('GET /.well-known/jts-jwks', () => {
  test('answers 200 with the public signing key, cacheable, with an ETag, open to every origin', async () => {
    const res = await get('/.well-known/jts-jwks');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=3600, stale-while-revalidate=60');
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['content-type']).toMatch(/json/);
    const body = jsonOf(res) as { keys: Record<string, unknown>[] };
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    expect(body.keys[0]).toMatchObject({ kid: testApp.keyRing.signer.kid, alg: testApp.keyRing.signer.alg, kty: 'EC', use: 'sig' });
  });

  test('publishes no private key member', async () => {
    const body = jsonOf(await get('/.well-known/jts-jwks')) as { keys: Record<string, unknown>[] };
    for (const key of body.keys) {
      for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    }
  });

  test('answers 304 with no body when If-None-Match carries the ETag, plain or weak or in a list', async () => {
    const { headers } = await get('/.well-known/jts-jwks');
    const etag = headers.etag!;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"something-else", ${etag}`]) {
      const res = await get('/.well-known/jts-jwks').set('If-None-Match', ifNoneMatch);
      expect(res.status).toBe(304);
      expect(res.text).toBeFalsy();
      expect(res.headers.etag).toBe(etag);
    }
  });

  test('answers 200 when If-None-Match carries another ETag', async () => {
    const res = await get('/.well-known/jts-jwks').set('If-None-Match', '"stale-etag"');
    expect(res.status).toBe(200);
    expect((jsonOf(res) as { keys: unknown[] }).keys.length).toBeGreaterThanOrEqual(1);
  });

  test('serves the same document and ETag at /jts/.well-known/jwks.json and /.well-known/jwks.json', async () => {
    const [canonical, ...aliases] = await Promise.all(JWKS_PATHS.map((path) => get(path)));
    for (const alias of aliases) {
      expect(alias.status).toBe(200);
      expect(alias.text).toBe(canonical!.text);
      expect(alias.headers.etag).toBe(canonical!.headers.etag);
      expect(alias.headers['cache-control']).toBe('public, max-age=3600, stale-while-revalidate=60');
      expect(alias.headers['access-control-allow-origin']).toBe('*');
    }
  });

  test.each(JWKS_PATHS)('a CORS preflight from another origin to %s is answered with CORS headers', async (path) => {
    const res = await request(testApp.app)
      .options(path)
      .set('Origin', 'https://other-service.example')
      .set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toContain('GET');
  });

  test('a cross-origin GET is allowed without credentials', async () => {
    const res = await get('/.well-known/jts-jwks').set('Origin', 'https://other-service.example');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  test('names the OAuth endpoints, grants and client authentication of this server, open to every origin and cacheable', async () => {
    const res = await get('/.well-known/oauth-authorization-server');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.body).toEqual({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/jts/token`,
      introspection_endpoint: `${ISSUER}/jts/introspect`,
      jwks_uri: `${ISSUER}/.well-known/jts-jwks`,
      grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      response_types_supported: [],
      service_documentation: `${ISSUER}/docs`,
    });
  });

  test('every endpoint it names is served here', async () => {
    const metadata = (await get('/.well-known/oauth-authorization-server')).body as Record<string, string>;
    expect((await get(new URL(metadata.jwks_uri!).pathname)).status).toBe(200);
    for (const endpoint of [metadata.token_endpoint!, metadata.introspection_endpoint!]) {
      // Served: the OAuth answer to a request without client credentials, not the generic 404.
      const res = await request(testApp.app).post(new URL(endpoint).pathname).type('form').send({ grant_type: 'client_credentials', token: 'x' });
      expect({ endpoint, status: res.status, error: (res.body as { error: string }).error }).toEqual({ endpoint, status: 401, error: 'invalid_client' });
    }
  });
});

describe('GET /.well-known/jts-configuration', () => {
  test('describes the issuer, key set, endpoints and algorithms', async () => {
    const res = await get('/.well-known/jts-configuration');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jts-jwks`,
      token_endpoint: `${ISSUER}/jts/token`,
      introspection_endpoint: `${ISSUER}/jts/introspect`,
      login_endpoint: `${ISSUER}/jts/login`,
      renewal_endpoint: `${ISSUER}/jts/renew`,
      revocation_endpoint: `${ISSUER}/jts/logout`,
      events_endpoint: `${ISSUER}/jts/events`,
      events_poll_endpoint: `${ISSUER}/jts/events/poll`,
      jts_profiles_supported: expect.arrayContaining(['JTS-S/v1']),
      active_signing_alg: testApp.keyRing.signer.alg,
    });
    const algorithms = (res.body as { token_signing_alg_values_supported: string[] }).token_signing_alg_values_supported;
    expect([...algorithms].sort()).toEqual([...JTS_ALGORITHMS].sort());
    expect(algorithms).not.toContain('none');
    expect(algorithms).not.toContain('HS256');
  });

  test('its jwks_uri path serves the key set', async () => {
    const config = (await get('/.well-known/jts-configuration')).body as { jwks_uri: string };
    const res = await get(new URL(config.jwks_uri).pathname);
    expect(res.status).toBe(200);
    expect((jsonOf(res) as { keys: { kid: string }[] }).keys[0]!.kid).toBe(testApp.keyRing.signer.kid);
  });

  test('its events endpoints are the feed’s routes: they ask a service client to authenticate (not a 404)', async () => {
    const config = (await get('/.well-known/jts-configuration')).body as { events_endpoint: string; events_poll_endpoint: string };
    for (const endpoint of [config.events_endpoint, config.events_poll_endpoint]) {
      const res = await get(new URL(endpoint).pathname);
      expectJsonError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    }
  });
});

describe('GET /', () => {
  test('returns the server name and version as JSON', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ name: packageJson.name, version: packageJson.version });
  });
});

describe('errors are JSON', () => {
  test('an unknown route is a JSON 404 with error, message, action and timestamp', async () => {
    const res = await get('/no/such/route');
    expectJsonError(res, 404, 'not_found');
  });

  test('a method the JWKS does not serve is a JSON 405 naming the ones it does, not an HTML page', async () => {
    const post = await request(testApp.app).post('/.well-known/jts-jwks').send({});
    expectJsonError(post, 405, 'method_not_allowed');
    expect(post.headers.allow).toBe('OPTIONS, GET, HEAD');
    expectJsonError(await request(testApp.app).delete('/.well-known/jts-configuration'), 405, 'method_not_allowed');
  });

  test('malformed JSON on POST /jts/login is a JSON 400 invalid_request', async () => {
    const res = await request(testApp.app)
      .post('/jts/login')
      .set('x-jts-request', '1')
      .set('Content-Type', 'application/json')
      .send('{"email": "a@example.com", "password": ');
    expectJsonError(res, 400, 'invalid_request');
  });

  test('a body over 16kb is a JSON 413', async () => {
    const res = await request(testApp.app)
      .post('/jts/login')
      .set('x-jts-request', '1')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(17 * 1024) }));
    expectJsonError(res, 413, 'payload_too_large');
  });

  test('a path parameter with malformed percent-encoding is a JSON 400, not a 500', async () => {
    const res = await request(testApp.app).delete('/jts/sessions/%E0%A4%A').set('x-jts-request', '1');
    expectJsonError(res, 400, 'invalid_request');
  });

  test('no response carries X-Powered-By or an HTML body', async () => {
    const responses = await Promise.all([
      get('/'),
      get('/.well-known/jts-jwks'),
      get('/.well-known/jts-configuration'),
      get('/nope'),
      get('/%'),
      request(testApp.app).post('/jts/login').set('x-jts-request', '1').set('Content-Type', 'application/json').send('{'),
      request(testApp.app).post('/jts/login').send({}),
      request(testApp.app).options('/.well-known/jts-jwks'),
    ]);
    for (const res of responses) {
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['content-type'] ?? '').not.toMatch(/html/);
      expect(res.text).not.toMatch(/<html|<!DOCTYPE/i);
    }
  });
});
