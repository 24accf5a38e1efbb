import express from 'express';
import request from 'supertest';
import { requireAnyPermission, requireOrg, requirePermissions } from '../../src/http/middleware/guards';
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
