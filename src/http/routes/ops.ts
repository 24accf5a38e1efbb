import { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { JTS_TYP } from '../../jts/bearer-pass/claims.js';
import { packageInfo } from '../../version.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { requireMetricsToken } from '../middleware/metrics-token.js';
import { DISCOVERY_PATH, JWKS_PATH } from './well-known.js';

export interface Readiness {
  /** Resolves when the server can serve: store reachable, keys loaded, not shutting down. */
  check(): Promise<{ ready: boolean; /** `ok`, or what is wrong. */ checks: Record<string, string> }>;
}

export interface OpsRouteDeps {
  readiness: Readiness;
  /** Absent: no /metrics route. */
  metrics?: { registry: Registry; token: string | undefined };
}

/** GET /healthz (process alive), /readyz (able to serve) and /metrics (Prometheus). */
export function opsRoutes(deps: OpsRouteDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    sendJson(res, 200, { status: 'ok' }, NO_STORE);
  });

  router.get('/readyz', async (_req, res) => {
    const { ready, checks } = await deps.readiness.check();
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks }, NO_STORE);
  });

  if (deps.metrics) {
    const { registry, token } = deps.metrics;
    const guard: RequestHandler[] = token === undefined ? [] : [requireMetricsToken(token)];
    router.get('/metrics', ...guard, async (_req, res) => {
      const body = await registry.metrics();
      res.set('Cache-Control', 'no-store').type(registry.contentType).send(body);
    });
  }

  return router;
}

/** GET / as JSON. `demoUsers`: whether the well-known demo accounts exist, which the demo page shows only then. */
export interface ServerDescription {
  name: string;
  version: string;
  profile: string;
  jwks: string;
  discovery: string;
  demoUsers: boolean;
}

export function describeServer(options: { demoUsers: boolean }): ServerDescription {
  return { name: packageInfo.name, version: packageInfo.version, profile: JTS_TYP, jwks: JWKS_PATH, discovery: DISCOVERY_PATH, demoUsers: options.demoUsers };
}
