import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import request, { type Response, type Test } from 'supertest';
import { listRoutes } from '../../src/http/route-table';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type StoreKind, type TestApp } from '../support/test-app';

/**
 * Hostile HTTP over every endpoint of the real app (supertest, both stores): random, oversized
 * and badly encoded JSON, wrong content types and encodings, random headers, many cookies,
 * duplicate jts_state_proof, a 10 KB cookie, odd query strings, every method on every path, bad
 * percent-encoding. Invariant: never a 5xx, never a stack trace or an HTML error, always the
 * JSON error shape, and the server still serves afterwards. fast-check with a fixed seed.
 */
const SEED = 8_088;
const RUNS = 300;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;
type Method = (typeof METHODS)[number];
const ACTIONS = ['reauth', 'renew', 'retry', 'none'];
/** application/json, or a JSON-based type such as application/jwk-set+json. */
const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/;
const STACK_FRAME = /\n\s+at .+[:(]\d+:\d+\)?|\.ts:\d+:\d+|\.js:\d+:\d+/;

interface FuzzRequest {
  method: Method;
  path: string;
  headers: Record<string, string>;
  body?: { contentType: string | undefined; data: string | Buffer };
}

function send(app: TestApp['app'], req: FuzzRequest): Test {
  const agent = request(app) as unknown as Record<string, (url: string) => Test>;
  let test = agent[req.method.toLowerCase()]!(req.path);
  for (const [name, value] of Object.entries(req.headers)) test = test.set(name, value);
  if (req.body) {
    if (req.body.contentType !== undefined) test = test.set('content-type', req.body.contentType);
    test = test.send(req.body.data);
  }
  return test;
}

/** A response the invariant allows to be something other than JSON (by design, not an error). */
function nonJsonByDesign(req: FuzzRequest, res: Response): boolean {
  const path = req.path.split('?')[0] ?? '';
  if (res.status >= 400) return false;
  // The demo page and its files, Prometheus text, the API reference and its files, the YAML
  // document and the PEM signing key (each its own media type).
  const documents = ['/', '/metrics', '/docs', '/openapi.yaml', '/.well-known/jts-signing-key.pem'];
  if ((req.method === 'GET' || req.method === 'HEAD') && (documents.includes(path) || path.startsWith('/assets/') || path.startsWith('/docs/assets/'))) return true;
  return false;
}

/** Express answers OPTIONS on a path with routes by itself: 200 text/plain with the method list. */
function isAutomaticOptions(req: FuzzRequest, res: Response): boolean {
  return req.method === 'OPTIONS' && res.status === 200 && /^text\/plain/.test(String(res.headers['content-type']));
}

/** Everything the invariant says, as a list of problems (empty = fine). */
function problemsOf(req: FuzzRequest, res: Response, options: { allowAutomaticOptions: boolean }): string[] {
  const problems: string[] = [];
  const type = res.headers['content-type'] ?? '';
  // HEAD answers have no text at all.
  const text = (res.text as string | undefined) ?? '';
  if (res.status >= 500) problems.push(`status ${res.status}`);
  if (STACK_FRAME.test(text)) problems.push('stack trace in the body');
  const hasBody = req.method !== 'HEAD' && text.length > 0;
  if (res.status >= 400) {
    if (/<html|<!doctype/i.test(text)) problems.push('HTML error page');
    if (req.method !== 'HEAD') {
      if (!JSON_TYPE.test(type)) problems.push(`error with content-type ${type || 'none'}`);
      const body = res.body as Record<string, unknown>;
      if (typeof body.error !== 'string' || typeof body.message !== 'string' || !ACTIONS.includes(String(body.action)) || typeof body.timestamp !== 'number') {
        problems.push(`error body without the JSON shape: ${text.slice(0, 200)}`);
      }
    }
  } else if (hasBody && !JSON_TYPE.test(type) && !nonJsonByDesign(req, res) && !(options.allowAutomaticOptions && isAutomaticOptions(req, res))) {
    problems.push(`a ${res.status} body with content-type ${type || 'none'}`);
  }
  return problems;
}

describe.each<StoreKind>(['memory', 'redis'])('HTTP fuzz (%s store)', (store) => {
  let t: TestApp;
  let user: { email: string; password: string };
  let bearer: string;
  let stateProof: string;
  let paths: string[];
  let routes: { method: string; path: string }[];
  const seen = new Map<number, number>();

  beforeAll(async () => {
    // Rate limits on for the Redis run, so the limiter's paths are fuzzed too (429 is fine).
    t = await buildTestApp({ store, env: store === 'redis' ? { RATE_LIMIT_ENABLED: 'true' } : {} });
    user = await createUser(t, { permissions: ['read:profile', 'admin:access'] });
    ({ bearerPass: bearer, stateProof } = await login(t.app, user.email, user.password));
    // listRoutes spells routes mounted at the root '//healthz' (see findings.test.ts).
    routes = listRoutes(t.app).map((r) => ({ method: r.method, path: r.path.replace(/^\/\/+/, '/') }));
    paths = [...new Set(routes.map((r) => r.path))];
  });
  afterAll(async () => {
    await t.close();
  });

  async function check(req: FuzzRequest, options = { allowAutomaticOptions: true }): Promise<Response> {
    const res = await send(t.app, req);
    seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
    const problems = problemsOf(req, res, options);
    if (problems.length > 0) throw new Error(`${req.method} ${req.path} -> ${res.status}: ${problems.join('; ')}\nrequest: ${JSON.stringify({ ...req, body: req.body && { ...req.body, data: String(req.body.data).slice(0, 300) } })}`);
    return res;
  }

  const concrete = (path: string, aid: string) => path.replace(/:aid/g, aid);

  it('answers every method on every route (with and without credentials) within the invariant', async () => {
    const variants: Record<string, string>[] = [{}, CSRF, { ...CSRF, authorization: `Bearer ${bearer}` }, { ...CSRF, authorization: 'Bearer x.y.z', cookie: 'jts_state_proof=sp1.a.b.1.xyz' }];
    for (const path of paths) {
      for (const method of METHODS) {
        for (const headers of variants) {
          await check({ method, path: concrete(path, randomBytes(16).toString('base64url')), headers, body: { contentType: 'application/json', data: '{}' } });
        }
      }
    }
  });

  it('answers hand-picked hostile requests within the invariant', async () => {
    const sp = `jts_state_proof=${stateProof}`;
    const cases: [string, FuzzRequest, number?][] = [
      ['a 10 KB cookie', { method: 'POST', path: '/jts/renew', headers: { ...CSRF, cookie: `big=${'x'.repeat(10_240)}` } }, 401],
      ['a 10 KB StateProof cookie', { method: 'POST', path: '/jts/renew', headers: { ...CSRF, cookie: `jts_state_proof=${'A'.repeat(10_240)}` } }, 401],
      ['300 cookies', { method: 'POST', path: '/jts/renew', headers: { ...CSRF, cookie: Array.from({ length: 300 }, (_, i) => `c${i}=${i}`).join('; ') } }, 401],
      ['duplicate jts_state_proof', { method: 'POST', path: '/jts/renew', headers: { ...CSRF, cookie: `${sp}; ${sp}` } }, 401],
      ['duplicate jts_state_proof, one garbage', { method: 'POST', path: '/jts/renew', headers: { ...CSRF, cookie: `jts_state_proof=garbage; ${sp}` } }, 401],
      ['a JSON-looking cookie (j:…)', { method: 'POST', path: '/jts/renew', headers: { ...CSRF, cookie: 'jts_state_proof=j:{"a":1}' } }, 401],
      ['a badly percent-encoded cookie', { method: 'POST', path: '/jts/renew', headers: { ...CSRF, cookie: 'jts_state_proof=%E0%A4%A; x=%' } }, 401],
      ['a body over the limit', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json', data: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(20_000) }) } }, 413],
      ['invalid JSON', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json', data: '{"email": "a@b.c", "password": ' } }, 400],
      ['invalid UTF-8 in JSON', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json', data: Buffer.from([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x22, 0x7d]) } }],
      ['JSON in UTF-16', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json; charset=utf-16', data: Buffer.from('{"email":"a@b.c"}', 'utf16le') } }, 400],
      ['an unknown charset', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json; charset=klingon', data: '{}' } }, 415],
      ['gzip that is not gzip', { method: 'POST', path: '/jts/login', headers: { ...CSRF, 'content-encoding': 'gzip' }, body: { contentType: 'application/json', data: '{"not":"gzip"}' } }],
      ['an unknown content-encoding', { method: 'POST', path: '/jts/login', headers: { ...CSRF, 'content-encoding': 'x-klingon' }, body: { contentType: 'application/json', data: '{}' } }, 415],
      ['deeply nested JSON', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json', data: `${'['.repeat(5000)}${']'.repeat(5000)}` } }, 400],
      ['__proto__ in the body', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json', data: '{"__proto__":{"admin":true},"email":"a@example.com","password":"p"}' } }, 401],
      ['a top-level JSON string', { method: 'POST', path: '/jts/register', headers: CSRF, body: { contentType: 'application/json', data: '"hello"' } }, 400],
      ['form-encoded login', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/x-www-form-urlencoded', data: `email=${user.email}&password=${user.password}` } }, 415],
      ['multipart login', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'multipart/form-data; boundary=x', data: '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--x--' } }, 415],
      ['text/plain JSON', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'text/plain', data: '{"email":"a@b.c","password":"p"}' } }, 415],
      ['huge numbers', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json', data: '{"email":1e400,"password":-1e400}' } }, 400],
      ['an email of 5000 characters', { method: 'POST', path: '/jts/login', headers: CSRF, body: { contentType: 'application/json', data: JSON.stringify({ email: `${'a'.repeat(5000)}@b.c`, password: 'p' }) } }, 400],
      ['bad percent-encoding in a parameter', { method: 'DELETE', path: '/jts/sessions/%E0%A4%A', headers: { ...CSRF, authorization: `Bearer ${bearer}` } }, 400],
      ['a lone percent sign', { method: 'DELETE', path: '/jts/sessions/%', headers: { ...CSRF, authorization: `Bearer ${bearer}` } }, 400],
      ['an encoded slash and NUL', { method: 'DELETE', path: '/jts/sessions/a%2Fb%00', headers: { ...CSRF, authorization: `Bearer ${bearer}` } }, 404],
      ['overlong UTF-8 dots under /assets', { method: 'GET', path: '/assets/%C0%AE%C0%AE/%C0%AE%C0%AE/package.json', headers: {} }, 404],
      ['dot segments under /assets', { method: 'GET', path: '/assets/..%2F..%2Fpackage.json', headers: {} }],
      ['a query string of 1000 parameters', { method: 'GET', path: `/api/profile?${Array.from({ length: 1000 }, (_, i) => `a${i}=${i}`).join('&')}`, headers: { authorization: `Bearer ${bearer}` } }, 200],
      ['a nested query string', { method: 'GET', path: '/api/profile?a[b][c][d]=1&a[b]=2&__proto__[x]=1&constructor[prototype][y]=1', headers: { authorization: `Bearer ${bearer}` } }, 200],
      ['a BearerPass in the query string', { method: 'GET', path: `/api/profile?access_token=${bearer}`, headers: {} }, 401],
      ['two Authorization schemes', { method: 'GET', path: '/api/profile', headers: { authorization: `Basic abc, Bearer ${bearer}` } }, 401],
      ['a lower-case bearer scheme with spaces', { method: 'GET', path: '/api/profile', headers: { authorization: `bearer    ${bearer}   ` } }],
      ['an 8 KB Authorization header', { method: 'GET', path: '/api/profile', headers: { authorization: `Bearer ${'a'.repeat(8192)}` } }],
      ['a non-ASCII device id', { method: 'POST', path: '/jts/login', headers: { ...CSRF, 'x-jts-device-id': 'dévice' }, body: { contentType: 'application/json', data: JSON.stringify(user) } }, 400],
      ['a foreign Origin', { method: 'POST', path: '/jts/login', headers: { ...CSRF, origin: 'https://evil.example' }, body: { contentType: 'application/json', data: JSON.stringify(user) } }, 403],
      ['Origin: null', { method: 'POST', path: '/jts/logout', headers: { ...CSRF, origin: 'null' } }, 403],
      ['a CORS preflight from a foreign origin', { method: 'OPTIONS', path: '/jts/renew', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } }],
      ['TRACE with credentials', { method: 'TRACE', path: '/jts/renew', headers: { ...CSRF, cookie: sp, authorization: `Bearer ${bearer}` } }, 405],
      ['an odd X-Request-Id', { method: 'GET', path: '/api/health', headers: { 'x-request-id': '<script>alert(1)</script>' } }, 200],
      ['a forged X-Forwarded-For', { method: 'GET', path: '/api/health', headers: { 'x-forwarded-for': 'not-an-ip, ::ffff:999.1.1.1' } }, 200],
    ];
    for (const [name, req, status] of cases) {
      const res = await check(req).catch((error: unknown) => {
        throw new Error(`${name}: ${(error as Error).message}`);
      });
      if (status !== undefined) expect([name, res.status]).toEqual([name, status]);
    }
  });

  it(`survives ${RUNS} random requests (seed ${SEED}) within the invariant`, async () => {
    seen.clear();
    const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 }).map((v) => v.trim());
    const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade', 'content-encoding'].includes(n));
    const pathSegment = fc.oneof(
      printable.map((s) => encodeURIComponent(s)),
      fc.constantFrom('%', '%E0%A4%A', '%zz', '%00', '%2F', '..', '.', '%C0%AE', '~', ';', '%F0%9F%98%80', ''),
    );
    const path = fc.oneof(
      fc.constantFrom(...paths).chain((p) => pathSegment.map((seg) => concrete(p, seg === '' ? 'x' : seg))),
      fc.array(pathSegment, { minLength: 1, maxLength: 5 }).map((segs) => `/${segs.join('/')}`),
      fc.constantFrom(...paths).chain((p) => pathSegment.map((seg) => `${concrete(p, 'x')}/${seg}`)),
    );
    const query = fc.oneof(
      fc.constant(''),
      printable.map((q) => `?${q.replace(/#/g, '')}`),
      fc.array(fc.tuple(printable, printable), { maxLength: 30 }).map((pairs) => `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`),
    );
    const cookie = fc.oneof(
      fc.constant(undefined),
      fc.constant(`jts_state_proof=${stateProof}`),
      fc.constant(`jts_state_proof=${stateProof}; jts_state_proof=${stateProof}`),
      headerValue.map((v) => `jts_state_proof=${v.replace(/[;,]/g, '')}`),
      fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,10}$/), printable), { maxLength: 200 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v.replace(/[;,]/g, '')}`).join('; ')),
      fc.constant(`big=${'y'.repeat(10_240)}`),
    );
    const jsonBody = fc.oneof(
      fc.record({ email: fc.oneof(fc.constant(user.email), fc.emailAddress(), fc.string()), password: fc.oneof(fc.constant(user.password), fc.string()), name: fc.string() }, { requiredKeys: [] }),
      fc.record({ currentPassword: fc.oneof(fc.constant(user.password), fc.string()), newPassword: fc.string() }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    const body = fc.oneof(
      fc.constant(undefined),
      jsonBody.map((value) => ({ contentType: 'application/json', data: JSON.stringify(value) })),
      fc.tuple(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data', 'application/json; charset=latin1', 'application/vnd.api+json', undefined), fc.uint8Array({ maxLength: 2000 })).map(([contentType, bytes]) => ({ contentType, data: Buffer.from(bytes) })),
      fc.tuple(fc.constantFrom('application/json', 'text/plain'), fc.string({ unit: 'binary', maxLength: 2000 })).map(([contentType, text]) => ({ contentType, data: text })),
      fc.integer({ min: 16_000, max: 40_000 }).map((n) => ({ contentType: 'application/json', data: JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(n) }) })),
    );
    const headers = fc.record(
      {
        csrf: fc.oneof(fc.constant('1'), headerValue),
        authorization: fc.oneof(fc.constant(`Bearer ${bearer}`), headerValue.map((v) => `Bearer ${v}`), headerValue),
        origin: fc.oneof(fc.constant('http://127.0.0.1'), fc.constant('null'), headerValue),
        accept: fc.constantFrom('text/html', 'application/json', '*/*', 'image/png', 'text/html;q=0.1, application/json;q=0.9'),
        device: headerValue,
        stateProofHeader: fc.oneof(fc.constant(stateProof), headerValue),
        extra: fc.dictionary(headerName, headerValue, { maxKeys: 10 }),
      },
      { requiredKeys: [] },
    );
    // Mostly a route's own method and path, so most requests get past routing into the handlers.
    const routed = fc.constantFrom(...routes).map((r) => ({ method: (METHODS as readonly string[]).includes(r.method) ? (r.method as Method) : 'GET', path: concrete(r.path, 'x') }));
    const target = fc.oneof({ arbitrary: routed, weight: 3 }, { arbitrary: fc.record({ method: fc.constantFrom(...METHODS), path }), weight: 2 });
    const requestArb = fc.record({ target, query, cookie, body, headers });

    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const h: Record<string, string> = { ...r.headers.extra };
        if (r.headers.csrf !== undefined) h['x-jts-request'] = r.headers.csrf;
        if (r.headers.authorization !== undefined) h.authorization = r.headers.authorization;
        if (r.headers.origin !== undefined) h.origin = r.headers.origin;
        if (r.headers.accept !== undefined) h.accept = r.headers.accept;
        if (r.headers.device !== undefined) h['x-jts-device-id'] = r.headers.device;
        if (r.headers.stateProofHeader !== undefined) h['x-jts-stateproof'] = r.headers.stateProofHeader;
        if (r.cookie !== undefined) h.cookie = r.cookie;
        await check({ method: r.target.method, path: `${r.target.path}${r.query}`, headers: h, ...(r.body === undefined ? {} : { body: r.body }) });
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // For the report: what the random requests came to.
    console.log(`HTTP fuzz (${store}), ${RUNS} random requests: statuses ${JSON.stringify(Object.fromEntries([...seen.entries()].sort((x, y) => x[0] - y[0])))}`);
  });

  it('still serves afterwards', async () => {
    const health = await request(t.app).get('/api/health');
    expect(health.status).toBe(200);
    const other = await createUser(t);
    await expect(login(t.app, other.email, other.password)).resolves.toBeDefined();
  });

  it('answers a plain OPTIONS with no body, not Express’s text/plain method list', async () => {
    for (const path of ['/api/profile', '/jts/renew', '/jts/sessions/x']) {
      await check({ method: 'OPTIONS', path, headers: {} }, { allowAutomaticOptions: false });
    }
  });
});
