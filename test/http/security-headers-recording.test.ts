import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { listRoutes } from '../../src/http/route-table';
import { helmetPolicies, isApiPath, securityHeaders } from '../../src/http/middleware/security-headers';
import { buildTestApp } from '../support/test-app';

/**
 * securityHeaders() replays headers recorded from helmet at start-up instead of running helmet
 * per request. These tests fail when a helmet upgrade makes the recording differ from what
 * helmet itself sets on a real response, so the security headers can never change silently.
 */

/** Everything but what Node and the transport add. */
function headersOf(res: request.Response): Record<string, string> {
  const transport = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
  return Object.fromEntries(Object.entries(res.headers as Record<string, string>).filter(([name]) => !transport.has(name)));
}

async function realHelmet(options: Parameters<typeof helmet>[0], path: string) {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet(options));
  app.use((_req, res) => res.end());
  return headersOf(await request(app).get(path));
}

async function recorded(production: boolean, path: string) {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders({ production }));
  app.use((_req, res) => res.end());
  return headersOf(await request(app).get(path));
}

describe('the recorded helmet headers (helmet internals)', () => {
  describe.each([false, true])('production %s', (production) => {
    const policies = helmetPolicies({ production });

    it.each([
      ['the API policy', 'api', '/api/profile'],
      ['the API policy', 'api', '/.well-known/jts-jwks'],
      ['the page policy', 'page', '/'],
      ['the page policy', 'page', '/assets/app.js'],
      ['the docs policy', 'docs', '/docs'],
      ['the docs policy', 'docs', '/docs/assets/swagger-ui-bundle.js'],
    ] as const)('equal what helmet itself sets for %s (%s, %s)', async (_name, policy, path) => {
      const fromHelmet = await realHelmet(policies[policy], path);
      expect(Object.keys(fromHelmet).length).toBeGreaterThan(8);
      expect(fromHelmet['content-security-policy']).toContain("default-src 'none'");
      expect(await recorded(production, path)).toEqual(fromHelmet);
    });
  });

  it('gives HSTS and upgrade-insecure-requests only in production', async () => {
    expect((await recorded(false, '/'))['strict-transport-security']).toBeUndefined();
    expect((await recorded(true, '/api/x'))['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect((await recorded(true, '/'))['content-security-policy']).toContain('upgrade-insecure-requests');
  });

  it('gives the API policy to every route of the real app but the page at / and the reference at /docs', async () => {
    const t = await buildTestApp();
    const paths = [...new Set(listRoutes(t.app).map((route) => route.path))];
    expect(paths.filter((path) => !isApiPath(path.replace(/:[^/]+/g, 'x'))).sort()).toEqual(['/', '/docs']);
    await t.close();
  });
});
