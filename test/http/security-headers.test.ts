import request from 'supertest';
import { buildTestApp, type TestApp } from '../support/test-app';

describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(['/healthz', '/api/public', '/.well-known/jts-jwks', '/openapi.json', '/jts/nope'])('gives the JSON API %s a CSP that loads nothing and forbids framing', async (path) => {
    const res = await request(t.app).get(path);
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
  });

  it('gives pages a same-origin CSP for scripts, styles, images, fonts and fetch, with no inline script', async () => {
    const res = await request(t.app).get('/').set('Accept', 'text/html');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(res.headers['content-security-policy']);
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "font-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it.each([
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['referrer-policy', 'no-referrer'],
    ['cross-origin-opener-policy', 'same-origin'],
    ['cross-origin-resource-policy', 'same-site'],
    ['x-dns-prefetch-control', 'off'],
    ['x-permitted-cross-domain-policies', 'none'],
    ['origin-agent-cluster', '?1'],
    ['x-xss-protection', '0'],
  ])('sets %s: %s', async (header, value) => {
    const res = await request(t.app).get('/healthz');
    expect(res.headers[header]).toBe(value);
  });

  it('never sends X-Powered-By, on success or error', async () => {
    for (const res of [await request(t.app).get('/healthz'), await request(t.app).get('/nope'), await request(t.app).post('/jts/login')]) {
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('sends no HSTS outside production (it would pin plain-http localhost to https)', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('sends HSTS in production, and upgrade-insecure-requests to pages', async () => {
    const production = await buildTestApp({ store: 'redis', env: { NODE_ENV: 'production', BCRYPT_ROUNDS: '12' } });
    const api = await request(production.app).get('/healthz');
    expect(api.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const page = await request(production.app).get('/').set('Accept', 'text/html');
    expect(page.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    await production.close();
  });
});

describe('request id', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('echoes a well-formed X-Request-Id and logs it', async () => {
    const res = await request(t.app).get('/healthz').set('X-Request-Id', 'trace-abc.123');
    expect(res.headers['x-request-id']).toBe('trace-abc.123');
    expect(t.logLines.some((line) => (JSON.parse(line) as { req?: { id?: string } }).req?.id === 'trace-abc.123')).toBe(true);
  });

  it.each([
    ['absent', undefined],
    ['malformed', 'not ok; injected\\nline'],
    ['too long', 'x'.repeat(129)],
  ])('generates a fresh id when the given one is %s', async (_name, given) => {
    const req = request(t.app).get('/healthz');
    const res = await (given === undefined ? req : req.set('X-Request-Id', given));
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
