import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { AuditSink } from './auth/audit.js';
import type { JTSAuthServer } from './auth/auth-server.js';
import type { ClientAdministration } from './auth/client-admin.js';
import type { ClientDirectory } from './auth/client-directory.js';
import type { Introspection } from './auth/introspection.js';
import type { OAuthGrants } from './auth/oauth-grants.js';
import type { JTSResourceServer } from './auth/resource-server.js';
import type { UserAdministration } from './auth/user-administration.js';
import type { Clock } from './jts/clock.js';
import type { RateLimitSettings } from './config/load.js';
import type { KeyRing } from './jts/key-ring.js';
import { authenticate } from './http/middleware/authenticate.js';
import { corsPolicy } from './http/middleware/cors.js';
import { requireCsrf } from './http/middleware/csrf.js';
import { errorHandler, notFound } from './http/middleware/errors.js';
import { knownDevices } from './http/middleware/known-device.js';
import { oauthRateLimits } from './http/middleware/oauth-rate-limit.js';
import { authRateLimits } from './http/middleware/rate-limit.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { auditStoreOutages } from './http/middleware/store-outage.js';
import { parseQueryString } from './http/query-string.js';
import { listRoutes, routeMethodsMatcher, routeTemplateMatcher } from './http/route-table.js';
import { adminClientRoutes } from './http/routes/admin-clients.js';
import { adminRoutes } from './http/routes/admin.js';
import { apiRoutes } from './http/routes/api.js';
import { authRoutes } from './http/routes/auth.js';
import { oauthRoutes } from './http/routes/oauth.js';
import { devOutboxRoutes, type OutboxListing } from './http/routes/dev-outbox.js';
import { emailRoutes } from './http/routes/email.js';
import { accountRoutes } from './http/routes/account.js';
import { eventRoutes } from './http/routes/events.js';
import type { EventFeed } from './auth/event-feed.js';
import { mfaRoutes } from './http/routes/mfa.js';
import { passkeyRoutes } from './http/routes/passkeys.js';
import { openApiRoutes } from './http/routes/openapi.js';
import { docsRoutes } from './http/routes/docs.js';
import { homeRoutes } from './http/routes/home.js';
import { opsRoutes, type Readiness } from './http/routes/ops.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { wellKnownRoutes } from './http/routes/well-known.js';
import type { Metrics } from './observability/metrics.js';
import { observeRequests } from './observability/request-observer.js';
import type { RateLimitStoreFactory } from './redis/rate-limit-store.js';
import type { MirroredUserStore } from './auth/mirrored-users.js';

export interface AppSettings {
  issuer: string;
  cookieSecure: boolean;
  corsOrigins: readonly string[];
  trustProxy: boolean | number | string;
  bodyLimit: string;
  production: boolean;
  corsMaxAgeSeconds: number;
  rateLimits: RateLimitSettings;
  metricsToken: string | undefined;
  /** Serve the browser demo page (DEMO_PAGE); off: / answers only the JSON server description. */
  demoPage: boolean;
  /** Whether the demo users are seeded (JTS_DEMO_USERS), which the page learns from GET / as JSON. */
  demoUsers: boolean;
}

export interface AppDeps {
  settings: AppSettings;
  keyRing: KeyRing;
  authServer: JTSAuthServer;
  resourceServer: JTSResourceServer;
  /** The admin API's service (/admin/users). */
  administration: UserAdministration;
  /** The /admin/clients service (the same class as `npm run client`). */
  clientAdministration: ClientAdministration;
  /** /jts/token and /jts/introspect (README "For services"). */
  oauth: { grants: OAuthGrants; introspection: Introspection; clients: ClientDirectory };
  users: MirroredUserStore;
  clock: Clock;
  logger: Logger;
  readiness: Readiness;
  /** Security events; already counted in `metrics` when built by buildServices. */
  audit: AuditSink;
  metrics: Metrics;
  /** Where rate-limit counters live: Redis when configured, else memory. */
  rateLimitStores: RateLimitStoreFactory;
  /** Signs the known-device cookie that exempts an owner's browser from others' login failures. */
  knownDeviceKey: Buffer;
  /** The security-event feed of GET /jts/events (README "Security events"). */
  events: EventFeed;
  /** The development outbox (no SMTP_URL), listed at GET /dev/outbox; never in production. */
  outbox?: OutboxListing;
}

/** Builds the Express application from its collaborators; `server.ts` does the listening. */
export function createApp(deps: AppDeps): Express {
  const { settings, logger, clock, metrics } = deps;
  const app = express();
  // Route templates for metric labels, read from the router once every route is registered (below).
  let matchRoute: (path: string) => string | undefined = () => undefined;
  const routeOf = (path: string) => matchRoute(path);
  app.disable('x-powered-by');
  // Express's automatic ETags mean nothing on no-store responses; the JWKS sets its own.
  app.set('etag', false);
  app.set('trust proxy', settings.trustProxy);
  app.set('query parser', parseQueryString);

  app.use(observeRequests({ logger, histogram: metrics.httpDuration, routeOf }));
  app.use(securityHeaders({ production: settings.production }));

  const csrf = requireCsrf({ allowedOrigins: [new URL(settings.issuer).origin, ...settings.corsOrigins], allowRequestHost: !settings.production });
  const requireBearer = authenticate(deps.resourceServer);
  const cookies = { secure: settings.cookieSecure };
  const devices = knownDevices({ key: deps.knownDeviceKey, secure: settings.cookieSecure });
  const limits = authRateLimits({
    rules: settings.rateLimits,
    stores: deps.rateLimitStores,
    audit: deps.audit,
    logger,
    knownDevices: devices,
    stillKnown: (email, nonce) => deps.authServer.knownDeviceStillRecorded(email, nonce),
  });
  const cors = corsPolicy({ allowedOrigins: settings.corsOrigins, maxAgeSeconds: settings.corsMaxAgeSeconds });
  // Only the routes that take a body parse one: login, register, password, and the admin API's
  // create and update (renew and logout take none).
  const parseJson = express.json({ limit: settings.bodyLimit, strict: true });

  // The API routers come first, each on its own prefix, so an API request walks only the
  // middleware its route needs. The JWKS and discovery documents are open to every origin
  // (publicCors) and come before /jts, whose router applies the credentialed policy once for
  // itself and /jts/sessions.
  app.use('/api', apiRoutes({ users: deps.users, resourceServer: deps.resourceServer, authenticate: requireBearer, clock, cors }));
  app.use(wellKnownRoutes({ keyRing: deps.keyRing, issuer: settings.issuer }));
  // Ahead of the browser routes of /jts: no CSRF header, no cookie, no CORS (servers call these).
  const oauthLimits = oauthRateLimits({ rules: settings.rateLimits, stores: deps.rateLimitStores, audit: deps.audit, logger });
  app.use('/jts', eventRoutes({ feed: deps.events, clients: deps.oauth.clients, audit: deps.audit }));
  app.use('/jts', oauthRoutes({ ...deps.oauth, audit: deps.audit, bodyLimit: settings.bodyLimit, limits: oauthLimits }));
  const sessions = sessionRoutes({ authServer: deps.authServer, authenticate: requireBearer, csrf });
  const email = emailRoutes({ authServer: deps.authServer, cookies, csrf, parseJson, authenticate: requireBearer, limits, knownDevices: devices });
  const mfa = mfaRoutes({ authServer: deps.authServer, cookies, csrf, parseJson, authenticate: requireBearer, limits, clock });
  const passkeys = passkeyRoutes({ authServer: deps.authServer, cookies, csrf, parseJson, authenticate: requireBearer, limits, clock });
  const account = accountRoutes({ authServer: deps.authServer, csrf, parseJson, authenticate: requireBearer, limits, clock });
  app.use('/jts', authRoutes({ authServer: deps.authServer, cookies, csrf, cors, sessions, email, mfa, passkeys, account, parseJson, authenticate: requireBearer, limits, knownDevices: devices }));
  app.use('/admin/clients', adminClientRoutes({ administration: deps.clientAdministration, clock, authenticate: requireBearer, csrf, cors, parseJson }));
  app.use('/admin', adminRoutes({ administration: deps.administration, authenticate: requireBearer, csrf, cors, parseJson }));
  // Development only: the outbox exists only without SMTP_URL, which production refuses.
  if (deps.outbox && !settings.production) app.use(devOutboxRoutes({ outbox: deps.outbox }));
  app.use(homeRoutes({ demoPage: settings.demoPage, demoUsers: settings.demoUsers }));
  app.use(opsRoutes({ readiness: deps.readiness, metrics: { registry: metrics.registry, token: settings.metricsToken } }));
  app.use(openApiRoutes({ issuer: settings.issuer }));
  app.use(docsRoutes());

  let methodsAt: (path: string) => string[] = () => [];
  app.use(notFound((path) => methodsAt(path)));
  app.use(auditStoreOutages({ audit: deps.audit, routeOf }));
  app.use(errorHandler({ logger, clock }));
  // Now, not at the first request: a router layout listRoutes cannot read stops the start.
  const routes = listRoutes(app);
  matchRoute = routeTemplateMatcher(routes);
  methodsAt = routeMethodsMatcher(routes);
  return app;
}
