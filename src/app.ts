import { randomUUID } from 'node:crypto';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { JTSAuthServer } from './auth/auth-server.js';
import type { JTSResourceServer } from './auth/resource-server.js';
import type { Clock } from './jts/clock.js';
import type { KeyRing } from './jts/key-ring.js';
import { authenticate } from './http/middleware/authenticate.js';
import { requireCsrf } from './http/middleware/csrf.js';
import { errorHandler, notFound } from './http/middleware/errors.js';
import { apiRoutes } from './http/routes/api.js';
import { authRoutes } from './http/routes/auth.js';
import { describeServer, opsRoutes, type Readiness } from './http/routes/ops.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { wellKnownRoutes } from './http/routes/well-known.js';
import type { UserStore } from './users/types.js';

export interface AppSettings {
  issuer: string;
  cookieSecure: boolean;
  corsOrigins: readonly string[];
  trustProxy: boolean | number | string;
  bodyLimit: string;
  production: boolean;
}

export interface AppDeps {
  settings: AppSettings;
  keyRing: KeyRing;
  authServer: JTSAuthServer;
  resourceServer: JTSResourceServer;
  users: UserStore;
  clock: Clock;
  logger: Logger;
  readiness: Readiness;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the Express application from its collaborators; `server.ts` does the listening. */
export function createApp(deps: AppDeps): Express {
  const { settings, logger, clock } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Express's automatic ETags mean nothing on no-store responses; the JWKS sets its own.
  app.set('etag', false);
  app.set('trust proxy', settings.trustProxy);

  app.use(
    pinoHttp({
      logger,
      genReqId(req, res) {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0] }),
      },
    }),
  );
  app.use(
    helmet({
      hsts: settings.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      crossOriginResourcePolicy: { policy: 'same-site' },
    }),
  );
  app.use(cookieParser());
  app.use(express.json({ limit: settings.bodyLimit, strict: true }));

  const csrf = requireCsrf({ allowedOrigins: settings.corsOrigins });
  const requireBearer = authenticate(deps.resourceServer);
  const cookies = { secure: settings.cookieSecure };

  app.get('/', (_req, res) => {
    res.json(describeServer());
  });
  app.use(opsRoutes({ readiness: deps.readiness }));
  app.use(wellKnownRoutes({ keyRing: deps.keyRing, issuer: settings.issuer }));
  app.use('/jts/sessions', sessionRoutes({ authServer: deps.authServer, authenticate: requireBearer, csrf }));
  app.use('/jts', authRoutes({ authServer: deps.authServer, cookies, csrf, authenticate: requireBearer, limits: {} }));
  app.use('/api', apiRoutes({ users: deps.users, authenticate: requireBearer, clock }));

  app.use(notFound());
  app.use(errorHandler({ logger, clock }));
  return app;
}
