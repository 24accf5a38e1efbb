import express, { Router, type Express } from 'express';
import { listRoutes, RouteTableError, routeTemplateMatcher } from '../../src/http/route-table';
import { buildTestApp } from '../support/test-app';

/**
 * listRoutes() reads Express 5's private router stack (there is no public way to list routes).
 * These tests fail when an Express or router upgrade changes that layout: the real app's routes
 * stop coming out exactly, or a shape listRoutes does not know is passed over instead of refused.
 */
describe('listRoutes (Express internals)', () => {
  it('lists exactly the routes of the real app, mount prefixes included', async () => {
    const t = await buildTestApp({ env: { METRICS_TOKEN: 'x'.repeat(16) } });
    const routes = listRoutes(t.app).map((route) => `${route.method} ${route.path}`);
    expect(routes.sort()).toEqual(
      [
        'GET /',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /openapi.json',
        'GET /openapi.yaml',
        'GET /docs',
        'GET /api/public',
        'GET /api/health',
        'GET /api/profile',
        'GET /api/admin',
        'GET /.well-known/jts-jwks',
        'OPTIONS /.well-known/jts-jwks',
        'GET /.well-known/jts-signing-key.pem',
        'OPTIONS /.well-known/jts-signing-key.pem',
        'GET /jts/.well-known/jwks.json',
        'GET /jts/events',
        'GET /jts/events/poll',
        'OPTIONS /jts/.well-known/jwks.json',
        'GET /.well-known/jwks.json',
        'OPTIONS /.well-known/jwks.json',
        'GET /.well-known/jts-configuration',
        'OPTIONS /.well-known/jts-configuration',
        'GET /.well-known/oauth-authorization-server',
        'OPTIONS /.well-known/oauth-authorization-server',
        'POST /jts/introspect',
        'POST /jts/login',
        'POST /jts/register',
        'POST /jts/renew',
        'POST /jts/logout',
        'POST /jts/password',
        'GET /jts/sessions',
        'POST /jts/sessions/revoke-others',
        'POST /jts/token',
        'DELETE /jts/sessions/:aid',
        'GET /admin/clients',
        'POST /admin/clients',
        'GET /admin/clients/:id',
        'PATCH /admin/clients/:id',
        'DELETE /admin/clients/:id',
        'POST /admin/clients/:id/rotate-secret',
        'POST /admin/clients/:id/finish-rotation',
        'GET /admin/users',
        'POST /admin/users',
        'POST /jts/account/email',
        'POST /jts/account/email/confirm',
        'GET /admin/users/:id',
        'PATCH /admin/users/:id',
        'DELETE /admin/users/:id',
        'DELETE /admin/users/:id/factors',
        'GET /admin/users/:id/sessions',
        'DELETE /admin/users/:id/sessions',
        'POST /jts/password/forgot',
        'POST /jts/password/reset',
        'POST /jts/reauth',
        'POST /jts/reauth/webauthn/options',
        'POST /jts/email/verify',
        'POST /jts/email/verify/resend',
        'POST /jts/login/code',
        'POST /jts/login/code/verify',
        'POST /jts/not-me',
        'GET /jts/mfa',
        'POST /jts/mfa/totp',
        'POST /jts/mfa/totp/confirm',
        'DELETE /jts/mfa/totp',
        'POST /jts/mfa/verify',
        'POST /jts/passkeys/register/options',
        'POST /jts/passkeys/register/verify',
        'GET /jts/passkeys',
        'PATCH /jts/passkeys/:id',
        'DELETE /jts/passkeys/:id',
        'POST /jts/passkeys/login/options',
        'POST /jts/passkeys/login/verify',
        'POST /jts/mfa/webauthn/options',
        // Without SMTP_URL, outside production only.
        'GET /dev/outbox',
      ].sort(),
    );
    await t.close();
  });

  it('follows routers nested under routers, routes with several paths and all()', () => {
    const app = express();
    const inner = Router();
    inner.get('/:id', (_req, res) => res.end());
    const outer = Router();
    outer.use(express.json());
    outer.use('/inner', inner);
    outer.route(['/a', '/b']).post((_req, res) => res.end());
    outer.all('/any', (_req, res) => res.end());
    app.use('/outer', outer);
    app.get('/', (_req, res) => res.end());
    expect(listRoutes(app)).toEqual([
      { method: 'GET', path: '/outer/inner/:id' },
      { method: 'POST', path: '/outer/a' },
      { method: 'POST', path: '/outer/b' },
      { method: '*', path: '/outer/any' },
      { method: 'GET', path: '/' },
    ]);
  });

  const fakeApp = (router: unknown) => ({ router }) as unknown as Express;
  const handle = () => undefined;

  it.each([
    ['an app without router.stack', fakeApp({})],
    ['a layer without route or rawPath', fakeApp({ stack: [{ handle }] })],
    ['a layer whose handle is not a function', fakeApp({ stack: [{ handle: {}, route: undefined, rawPath: '/' }] })],
    ['a route without a methods object', fakeApp({ stack: [{ handle, rawPath: '/x', route: { path: '/x' } }] })],
    ['a route whose path is a RegExp', fakeApp({ stack: [{ handle, rawPath: /x/, route: { path: /x/, methods: { get: true } } }] })],
    ['a router mounted on a RegExp', fakeApp({ stack: [{ handle: Object.assign(() => undefined, { stack: [] }), rawPath: /x/, route: undefined }] })],
    ['a router whose stack is not an array', fakeApp({ stack: [{ handle: Object.assign(() => undefined, { stack: {} }), rawPath: '/x', route: undefined }] })],
  ])('refuses %s instead of leaving routes out', (_name, app) => {
    expect(() => listRoutes(app)).toThrow(RouteTableError);
  });

  it('refuses an Express app mounted inside the app, whose routes it would miss', () => {
    const app = express();
    const sub = express();
    sub.get('/x', (_req, res) => res.end());
    app.use('/sub', sub);
    expect(() => listRoutes(app)).toThrow(/Express app mounted at \/sub/);
  });
});

describe('routeTemplateMatcher', () => {
  it('labels routes of routers mounted at the root without a double slash', async () => {
    const t = await buildTestApp();
    const routes = listRoutes(t.app);
    const routeOf = routeTemplateMatcher(routes);
    await t.close();
    expect(routes.map((route) => route.path).filter((path) => path.startsWith('//'))).toEqual([]);
    expect(routeOf('/readyz')).toBe('/readyz');
    expect(routeOf('/.well-known/jts-jwks')).toBe('/.well-known/jts-jwks');
  });

  it('labels a route under a mount path with its template, and an unknown path with nothing', async () => {
    const t = await buildTestApp();
    const routeOf = routeTemplateMatcher(listRoutes(t.app));
    await t.close();
    expect(routeOf('/jts/sessions/abc')).toBe('/jts/sessions/:aid');
    expect(routeOf('/no/such/route')).toBeUndefined();
  });
});
