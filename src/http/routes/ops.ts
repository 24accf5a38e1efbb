import { Router } from 'express';
import { packageInfo } from '../../version.js';

export interface Readiness {
  /** Resolves when the server can serve: store reachable, keys loaded, not shutting down. */
  check(): Promise<{ ready: boolean; checks: Record<string, 'ok' | string> }>;
}

/** GET /healthz (process alive) and /readyz (able to serve). */
export function opsRoutes(deps: { readiness: Readiness }): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await deps.readiness.check();
    res.set('Cache-Control', 'no-store').status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  return router;
}

export function describeServer(): { name: string; version: string; profile: string; jwks: string; discovery: string } {
  return { name: packageInfo.name, version: packageInfo.version, profile: 'JTS-S/v1', jwks: '/.well-known/jts-jwks', discovery: '/.well-known/jts-configuration' };
}
