import express from 'express';
import request from 'supertest';
import { requireAnyPermission, requireOrg, requirePermissions } from '../../src/verifier/guards';
import type { BearerPassClaims } from '../../src/jts/bearer-pass/claims';
import { JtsError } from '../../src/jts/errors';

/** An app whose "authentication" sets fixed claims, so only the guards are under test. */
function appWith(claims: Partial<BearerPassClaims>, guard: express.RequestHandler) {
  const app = express();
  app.use((req, _res, next) => {
    req.jts = { payload: { prn: 'p', aid: 'a', tkn_id: 't', iat: 0, exp: 0, ...claims }, header: { alg: 'ES256', typ: 'JTS-S/v1', kid: 'k' }, bearerPass: 'x' };
    next();
  });
  app.get('/', guard, (_req, res) => res.json({ ok: true }));
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const e = error as JtsError;
    res.status(e.status).json(e.toBody());
  });
  return app;
}

describe('permission and tenant guards', () => {
  it('requirePermissions needs every permission', async () => {
    await request(appWith({ perm: ['a', 'b'] }, requirePermissions(['a', 'b']))).get('/').expect(200);
    const res = await request(appWith({ perm: ['a'] }, requirePermissions(['a', 'b']))).get('/');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'JTS-403-02', action: 'none' });
    await request(appWith({}, requirePermissions(['a']))).get('/').expect(403);
  });

  it('requireAnyPermission needs one of them', async () => {
    await request(appWith({ perm: ['b'] }, requireAnyPermission(['a', 'b']))).get('/').expect(200);
    const res = await request(appWith({ perm: ['c'] }, requireAnyPermission(['a', 'b']))).get('/');
    expect(res.body).toMatchObject({ error_code: 'JTS-403-02' });
  });

  it('requireOrg needs the tenant', async () => {
    await request(appWith({ org: 'acme' }, requireOrg('acme'))).get('/').expect(200);
    for (const claims of [{ org: 'globex' }, {}]) {
      const res = await request(appWith(claims, requireOrg('acme'))).get('/');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'org_mismatch', error_code: 'JTS-403-03' });
    }
  });

  it('refuses to be built without permissions', () => {
    expect(() => requirePermissions([])).toThrow();
    expect(() => requireAnyPermission([])).toThrow();
  });
});

describe('guards in another service’s app, with no error handler of ours', () => {
  /** A bare Express app: Express's own final handler would answer a thrown error with HTML. */
  function bareApp(claims: Partial<BearerPassClaims> | undefined, guard: express.RequestHandler) {
    const app = express();
    if (claims) {
      app.use((req, _res, next) => {
        req.jts = { payload: { prn: 'p', aid: 'a', tkn_id: 't', iat: 0, exp: 0, ...claims }, header: { alg: 'ES256', typ: 'JTS-S/v1', kid: 'k' }, bearerPass: 'x' };
        next();
      });
    }
    app.get('/', guard, (_req, res) => res.json({ ok: true }));
    return app;
  }

  it.each([
    ['requirePermissions', requirePermissions(['admin:access']), 'JTS-403-02'],
    ['requireAnyPermission', requireAnyPermission(['admin:access', 'ops']), 'JTS-403-02'],
    ['requireOrg', requireOrg('acme'), 'JTS-403-03'],
  ])('%s answers a refusal as the JSON error body, never an HTML page or a stack', async (_name, guard, code) => {
    const res = await request(bareApp({ perm: ['read:profile'] }, guard)).get('/');
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ error_code: code, action: 'none', timestamp: expect.any(Number) as number });
    expect(res.text).not.toMatch(/<html|<pre|\n\s+at /i);
  });

  it('fails closed with JTS-401-03 when no authentication ran before the guard', async () => {
    const res = await request(bareApp(undefined, requirePermissions(['read:profile']))).get('/');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'stateproof_invalid', error_code: 'JTS-401-03' });
    expect(res.headers['www-authenticate']).toBe('Bearer error="stateproof_invalid"');
  });
});
