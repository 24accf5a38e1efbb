import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import request from 'supertest';
import { parse } from 'yaml';
import { KeyRing } from '../../src/jts/key-ring';
import { buildTestApp, type TestApp } from '../support/test-app';

let testApp: TestApp;
const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

beforeAll(async () => {
  testApp = await buildTestApp({ keyRing: await KeyRing.from([{ alg: 'ES256', privateKey: signingKey.privateKey }]) });
});

afterAll(async () => {
  await testApp.close();
});

const get = (path: string) => request(testApp.app).get(path);

describe('GET /docs, the API reference', () => {
  it('is an HTML page whose every script, stylesheet and icon answers 200 with its type, from this origin', async () => {
    const page = await get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const urls = [...page.text.matchAll(/(?:src|href)="([^"#]+)"/g)].map((match) => match[1] ?? '').filter((url) => !url.startsWith('/openapi.'));
    expect(urls).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/docs.js']));
    // No CDN: everything the page loads is a path on this server.
    expect(urls.filter((url) => !url.startsWith('/'))).toEqual([]);
    const types: Record<string, RegExp> = { css: /^text\/css/, js: /^(text|application)\/javascript/, svg: /^image\/svg\+xml/ };
    for (const url of urls) {
      const res = await get(url);
      const type = types[url.split('.').pop() ?? ''] ?? /^$/;
      expect([url, res.status, type.test(String(res.headers['content-type']))]).toEqual([url, 200, true]);
    }
  });

  it("keeps the page policy (scripts and styles from 'self' only, no inline script), adding only data: images", async () => {
    const csp = String((await get('/docs')).headers['content-security-policy']);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("img-src 'self' data:;");
    expect(csp).not.toContain('unsafe');
    // Only /docs: the demo page keeps img-src 'self'.
    expect(String((await get('/assets/app.js')).headers['content-security-policy'])).toContain("img-src 'self';");
  });

  it('serves only the files it lists from swagger-ui-dist (not its Petstore start script, demo page or package.json)', async () => {
    for (const path of ['/docs/assets/swagger-initializer.js', '/docs/assets/index.html', '/docs/assets/package.json', '/docs/assets/../package.json', '/docs/assets/']) {
      const res = await get(path);
      expect([path, res.status, res.headers['content-type']]).toEqual([path, 404, expect.stringMatching(/^application\/json/)]);
    }
  });
});

describe('GET /openapi.yaml', () => {
  it('is the document of /openapi.json in YAML, readable from every origin', async () => {
    const yaml = await get('/openapi.yaml').set('Origin', 'https://elsewhere.example');
    expect(yaml.status).toBe(200);
    expect(yaml.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(yaml.headers['access-control-allow-origin']).toBe('*');
    expect(parse(yaml.text)).toEqual((await get('/openapi.json')).body);
  });
});

describe('GET /.well-known/jts-signing-key.pem', () => {
  it('is the current signing public key as PEM, cached like the JWKS, that verifies what the server signs', async () => {
    const res = await get('/.well-known/jts-signing-key.pem');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-pem-file/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600, stale-while-revalidate=60');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.text).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    const key = createPublicKey(res.text);
    const jwk = key.export({ format: 'jwk' });
    const jwks = (await get('/.well-known/jts-jwks')).body as { keys: Record<string, unknown>[] };
    expect(jwks.keys[0]).toMatchObject(jwk);
    // It is the signer's key: a signature by the server's private key checks out with it.
    const data = Buffer.from('signed by the server key');
    expect(verify('sha256', data, key, sign('sha256', data, signingKey.privateKey))).toBe(true);
  });

  it('answers 304 to its ETag', async () => {
    const etag = String((await get('/.well-known/jts-signing-key.pem')).headers.etag);
    const res = await get('/.well-known/jts-signing-key.pem').set('If-None-Match', etag);
    expect(res.status).toBe(304);
    expect(res.headers.etag).toBe(etag);
  });
});
