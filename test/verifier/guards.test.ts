import express from 'express';
import request from 'supertest';
import { ManualClock } from '../../src/jts/clock';
import { requireAmr, requireAnyPermission, requireFreshAuth, requireOrg, requirePermissions } from '../../src/verifier/guards';
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

describe('step-up guards (RFC 9470): requireFreshAuth and requireAmr', () => {
  const START = Date.UTC(2026, 10, 30, 12, 0, 0);
  const STEP_UP = 'insufficient_user_authentication';
  /** A bare app (no error handler of ours) whose BearerPass carries `claims`. */
  function appWith(claims: Partial<BearerPassClaims> | undefined, guard: express.RequestHandler) {
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

  it('requireFreshAuth lets a sign-in through up to maxAge seconds old, and refuses it one second later', async () => {
    const clock = new ManualClock(START);
    const guard = requireFreshAuth(300, { clock });
    const app = appWith({ auth_time: START / 1000, amr: ['pwd'] }, guard);
    await request(app).get('/').expect(200, { ok: true });
    clock.advance(300_999);
    await request(app).get('/').expect(200);
    clock.advance(1);
    const res = await request(app).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: STEP_UP, message: 'This needs a recent sign-in: sign in again, then retry.', action: 'reauth', timestamp: START / 1000 + 301 });
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", max_age="300"');
  });

  it('requireFreshAuth refuses a BearerPass without auth_time (a service token shows no sign-in)', async () => {
    const res = await request(appWith({ scope: 'orders:read' }, requireFreshAuth(60, { clock: new ManualClock(START) }))).get('/');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: STEP_UP, action: 'reauth' });
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", max_age="60"');
  });

  it('requireFreshAuth counts an auth_time a little ahead of the clock (skew between machines) as fresh', async () => {
    await request(appWith({ auth_time: START / 1000 + 5 }, requireFreshAuth(0, { clock: new ManualClock(START) }))).get('/').expect(200);
  });

  it('requireFreshAuth reads the system clock by default', async () => {
    const now = Math.floor(Date.now() / 1000);
    await request(appWith({ auth_time: now }, requireFreshAuth(60))).get('/').expect(200);
    expect((await request(appWith({ auth_time: now - 3600 }, requireFreshAuth(60))).get('/')).status).toBe(401);
  });

  it('requireAmr needs every named method in amr', async () => {
    const guard = requireAmr('otp', 'mfa');
    await request(appWith({ amr: ['pwd', 'otp', 'mfa'] }, guard)).get('/').expect(200);
    const res = await request(appWith({ amr: ['pwd', 'otp'] }, guard)).get('/');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: STEP_UP, message: 'This needs a sign-in with: mfa. Sign in again with them, then retry.', action: 'reauth', timestamp: expect.any(Number) as number });
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication"');
  });

  it('requireAmr refuses a BearerPass without amr, naming every method it needs', async () => {
    const res = await request(appWith({ auth_time: START / 1000 }, requireAmr('pwd', 'mfa'))).get('/');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: STEP_UP, message: 'This needs a sign-in with: pwd, mfa. Sign in again with them, then retry.', action: 'reauth' });
    expect(res.text).not.toMatch(/<html|<pre|\n\s+at /i);
  });

  it.each([
    ['requireFreshAuth', requireFreshAuth(300)],
    ['requireAmr', requireAmr('mfa')],
  ])('%s fails closed with JTS-401-03 when no authentication ran before it', async (_name, guard) => {
    const res = await request(appWith(undefined, guard)).get('/');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'stateproof_invalid', error_code: 'JTS-401-03', action: 'reauth' });
  });

  it('refuse to be built with a bad max age or no method', () => {
    expect(() => requireFreshAuth(-1)).toThrow('requireFreshAuth needs a whole number of seconds ≥ 0, got -1');
    expect(() => requireFreshAuth(1.5)).toThrow();
    expect(() => requireFreshAuth(Number.NaN)).toThrow();
    expect(() => requireAmr()).toThrow('requireAmr needs at least one method');
  });
});
