import request from 'supertest';
import { loadConfig } from '../../src/config/load';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, stateProofFrom } from '../support/http';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

describe('CORS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { CORS_ORIGINS: `${APP},https://admin.example.com` } });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('a listed origin', () => {
    it('is echoed with credentials allowed on an API response', async () => {
      const res = await request(t.app).get('/api/public').set('Origin', APP);
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers.vary).toMatch(/Origin/);
      expect(res.headers['access-control-expose-headers']).toContain('X-Request-Id');
    });

    it('gets a cached preflight for a credentialed POST /jts/login with the JTS headers', async () => {
      const res = await request(t.app)
        .options('/jts/login')
        .set('Origin', APP)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type,x-jts-request');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers['access-control-allow-methods']).toContain('POST');
      expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('x-jts-request');
    });

    it('can log in cross-origin: CORS and the CSRF origin check agree', async () => {
      const user = await createUser(t);
      const res = await request(t.app).post('/jts/login').set(CSRF).set('Origin', APP).send({ email: user.email, password: user.password });
      expect(res.status).toBe(200);
      expect(stateProofFrom(res)).toBeDefined();
      expect(res.headers['access-control-allow-origin']).toBe(APP);
    });
  });

  describe('an origin that is not listed', () => {
    it('gets no CORS header at all, so the browser hides the response (and still Vary: Origin)', async () => {
      const res = await request(t.app).get('/api/public').set('Origin', EVIL);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers.vary).toMatch(/Origin/);
    });

    it('gets a preflight answer without any CORS grant', async () => {
      const res = await request(t.app).options('/jts/login').set('Origin', EVIL).set('Access-Control-Request-Method', 'POST');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });

    it('cannot log in: the CSRF check refuses the origin', async () => {
      const res = await request(t.app).post('/jts/login').set(CSRF).set('Origin', EVIL).send({ email: 'a@example.com', password: 'whatever pass' });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'csrf_origin' });
    });

    it('is not confused with a listed origin that it merely starts with', async () => {
      const res = await request(t.app).get('/api/public').set('Origin', `${APP}.evil.net`);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  it('a same-origin request without Origin gets no CORS headers', async () => {
    const res = await request(t.app).get('/api/public');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  describe.each(['/.well-known/jts-jwks', '/.well-known/jts-configuration', '/openapi.json'])('the public document %s', (path) => {
    it.each([APP, EVIL])('is readable from %s, without credentials', async (origin) => {
      const res = await request(t.app).get(path).set('Origin', origin);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });

  it('with CORS_ORIGINS=* (development only) opens reads to every origin but never with credentials', async () => {
    const open = await buildTestApp({ env: { CORS_ORIGINS: '*' } });
    const res = await request(open.app).get('/api/public').set('Origin', EVIL);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    await open.close();
  });
});

describe('CORS configuration rules', () => {
  const production = { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://jts@127.0.0.1:5432/jts', SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Auth <no-reply@example.com>' };

  it('refuses * in production', () => {
    expect(() => loadConfig({ ...production, CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS="\*"/);
  });

  it('refuses an empty list in production when the audience is on another origin than the issuer', () => {
    expect(() => loadConfig({ ...production, JTS_ISSUER: 'https://auth.example.com', JTS_AUDIENCE: 'https://api.example.com' })).toThrow(/CORS_ORIGINS="": .*CORS_ORIGINS=none/);
  });

  it('accepts that deployment with an explicit list, or with none', () => {
    const cross = { ...production, JTS_ISSUER: 'https://auth.example.com', JTS_AUDIENCE: 'https://api.example.com' };
    expect(loadConfig({ ...cross, CORS_ORIGINS: APP }).corsOrigins).toEqual([APP]);
    expect(loadConfig({ ...cross, CORS_ORIGINS: 'none' }).corsOrigins).toEqual([]);
  });

  it('accepts an empty list in production when issuer and audience share an origin (same-origin clients only)', () => {
    expect(loadConfig({ ...production, JTS_ISSUER: 'https://auth.example.com', JTS_AUDIENCE: 'https://auth.example.com/api' }).corsOrigins).toEqual([]);
  });

  it.each(['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'https://*.example.com'])('refuses %s, which can never equal an Origin header', (origin) => {
    expect(() => loadConfig({ CORS_ORIGINS: origin })).toThrow(/CORS_ORIGINS=.*exact origin/);
  });
});
