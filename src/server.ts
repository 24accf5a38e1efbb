import 'dotenv/config';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Express } from 'express';
import { createApp } from './app.js';
import { answerClientErrors } from './http/client-error.js';
import { loadConfig, type Config } from './config/load.js';
import { issuerOriginProblem } from './config/issuer-origin.js';
import { DatabaseStartupError, StartupError } from './config/startup-error.js';
import { openAccounts, SchemaBehindError, type Accounts } from './accounts/open.js';
import { isDatabaseOutage } from './accounts/sql-guard.js';
import { DataDirBusyError } from './accounts/data-dir-lock.js';
import { systemClock, type Clock } from './jts/clock.js';
import { redactRedisError } from './config/redact.js';
import { shownUrl } from './config/webhooks.js';
import { loadKeyRing, loadStateProofSecret } from './key-files/files.js';
import { auditLog } from './observability/audit-log.js';
import { createLogger } from './observability/logger.js';
import { logRedisHealth } from './observability/redis-health.js';
import { routeConsoleToLog } from './observability/console-to-log.js';
import { connectRedis, describeRedis, waitForReady, type RedisClient } from './redis/connect.js';
import { buildServices } from './services.js';
import { seedDemoUsers } from './users/demo-users.js';
import { lowerThreadPoolPriority, THREAD_POOL_NICENESS } from './thread-pool.js';

export interface RunningServer {
  server: Server;
  config: Config;
  /** Resolves true when every in-flight request finished before SHUTDOWN_TIMEOUT. */
  shutdown(signal: string): Promise<boolean>;
}

export interface HttpServerSettings {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above; Node's default (30 s) unless a test sets it. */
  connectionsCheckingIntervalMs?: number;
}

/**
 * The HTTP server around `app`, not yet listening. Deliberate limits: a slow client cannot hold a
 * socket for ever (requestTimeout, headersTimeout), and idle keep-alive sockets outlive a typical
 * load balancer's 60 s idle timeout, so the balancer never reuses a socket the server has just
 * closed. Header size: Node's 16 KiB default. A request Node cannot parse gets the JSON error body
 * too (client-error.ts), not Node's empty 400.
 */
export function createHttpServer(app: Express, settings: HttpServerSettings, clock: Clock): Server {
  const server = createServer(
    {
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      ...(settings.connectionsCheckingIntervalMs === undefined ? {} : { connectionsCheckingInterval: settings.connectionsCheckingIntervalMs }),
    },
    app,
  );
  answerClientErrors(server, clock);
  return server;
}

export async function start(config: Config, logger: Logger): Promise<RunningServer> {
  const production = config.env === 'production';
  // First, before anything uses libuv's pool: bcrypt's threads there must yield to the event loop.
  const reniced = await lowerThreadPoolPriority();
  if (reniced > 0) logger.debug({ threads: reniced, niceness: THREAD_POOL_NICENESS }, 'thread pool runs below the event loop');
  // REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS (+ REDIS_SENTINEL_NAME); every command bounded.
  const redis: RedisClient | undefined = connectRedis(config.redis);
  if (redis) {
    logger.info({ redis: describeRedis(config.redis) }, 'connecting to redis');
    // ioredis's errors may quote the URL, password included: every one is logged through redactRedisError.
    const redisSecrets = { url: config.redis.url, password: config.redis.password };
    // State changes only (down once, back up with the outage's length), not every reconnect attempt.
    logRedisHealth(redis, logger, { redis: describeRedis(config.redis), secrets: redisSecrets });
    await waitForReady(redis, 5000).catch((error: unknown) => {
      // Not fatal: the server starts, /readyz says 503, and requests get 503 until Redis answers.
      logger.error({ err: redactRedisError(error, redisSecrets), redis: describeRedis(config.redis) }, 'redis is not reachable yet; serving 503 until it is');
    });
  } else {
    logger.warn('REDIS_URL (or REDIS_CLUSTER_NODES, REDIS_SENTINELS) is not set: sessions and users live in memory and vanish on restart (development only)');
  }

  const keyRing = await loadKeyRing(
    {
      algorithm: config.jts.algorithm,
      privateKeyPath: config.jts.privateKeyPath,
      publicKeyPath: config.jts.publicKeyPath,
      previousPublicKeys: config.jts.previousPublicKeys,
    },
    { production, logger },
  );
  const stateProofSecret = await loadStateProofSecret({ value: config.jts.stateProofSecret, path: config.jts.stateProofSecretPath }, { production, logger });

  const accounts = await openAccountsOrExplain(config);
  logger.info({ accounts: accounts.database.description, migrated: accounts.applied }, 'accounts database ready');
  if (accounts.database.kind === 'pglite') logger.warn({ dataDir: config.database.dataDir }, 'DATABASE_URL is not set: accounts live in the embedded PGlite database under DATA_DIR (one process; development only)');

  let shuttingDown = false;
  const audit = auditLog(logger);
  const services = buildServices({ config, keyRing, stateProofSecret, clock: systemClock, logger, audit, ...(redis ? { redis } : {}), accounts, accountsDb: accounts.database.db, isShuttingDown: () => shuttingDown });
  // Before listening: the first token request must find the registered clients.
  await services.clientDirectory.start();
  if (config.jts.demoUsers) {
    await seedDemoUsers(services.users, services.hasher, { now: Date.now(), logger }).catch((error: unknown) => {
      logger.error({ err: error }, 'could not create the demo users');
    });
  }

  if (services.webhooks) {
    // Before the first request can trim the stream: what was published while no instance ran is
    // copied now, as far as the stream still holds it (a gap is sent as security_events.gap).
    await services.webhooks.catchUp().catch((error: unknown) => {
      logger.warn({ err: error }, 'webhooks: could not copy the security-event stream at start-up; the relay retries');
    });
    services.webhooks.start();
    logger.info({ endpoints: config.webhooks?.endpoints.map(shownUrl), maxAttempts: config.webhooks?.retry.maxAttempts }, 'operator webhooks on');
  }
  // Notices other instances (or this one before a restart) queued and could not send yet, and the
  // outboxes' retention.
  services.email.start();
  if (production && config.metricsToken === undefined) logger.warn('METRICS_TOKEN is not set: /metrics is open to anyone who can reach this port');
  for (const problem of config.webauthn.unusable ?? []) logger.warn(`passkeys will not work in browsers: ${problem}`);
  if (!config.rateLimits.enabled) logger.warn('RATE_LIMIT_ENABLED=false: login, register, renew and password change are not rate limited');

  const app = createApp(services);
  const server = createHttpServer(app, config.http, systemClock);
  // While draining, every answer closes its connection, so keep-alive clients reconnect elsewhere.
  // Prepended: it must run before the app, which may answer synchronously.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (shuttingDown) res.setHeader('Connection', 'close');
  });
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  logger.info({ port: config.port, kid: keyRing.signer.kid, alg: keyRing.signer.alg, store: redis ? 'redis' : 'memory' }, 'jts auth server listening');
  warnOfForeignIssuer(config, server, logger);

  /**
   * SIGTERM: /readyz turns 503 at once; after SHUTDOWN_DELAY (time for the load balancer to
   * notice) the event streams end and the listener closes; in-flight requests finish, bounded by SHUTDOWN_TIMEOUT; then
   * Redis closes. Resolves true when every request finished, false when some had to be cut.
   */
  async function shutdown(signal: string): Promise<boolean> {
    if (shuttingDown) return true;
    shuttingDown = true;
    logger.info({ signal, delayMs: config.shutdown.delayMs }, 'shutting down: readiness is now 503');
    if (config.shutdown.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdown.delayMs));
    logger.info('closing the listener; draining in-flight requests');
    // Event streams never finish by themselves: end them, and their subscribers resume elsewhere.
    services.events.close();
    let drained = true;
    const forced = setTimeout(() => {
      drained = false;
      logger.warn({ timeoutMs: config.shutdown.timeoutMs }, 'shutdown timeout reached: closing remaining connections');
      server.closeAllConnections();
    }, config.shutdown.timeoutMs);
    forced.unref();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeIdleConnections();
    });
    clearTimeout(forced);
    // Before Redis and the database close: the relay stops reading, and deliveries in flight finish
    // (bounded by JTS_WEBHOOK_TIMEOUT) and are recorded, so none is sent again after a clean stop.
    await services.webhooks?.stop();
    // QUIT needs a connection; with Redis down, close the socket and stop reconnecting instead.
    await redis?.quit().catch(() => {
      redis.disconnect();
    });
    services.clientDirectory.stop();
    // Mails already accepted get the rest of the shutdown budget to leave (retries included).
    const mailBudget = new Promise((resolve) => setTimeout(resolve, config.shutdown.timeoutMs).unref());
    await Promise.race([services.email.idle(), mailBudget]);
    // A notice still failing stays in the outbox for the next instance; the one in flight is recorded.
    await Promise.race([services.email.stop(), mailBudget]);
    services.email.close();
    await accounts.database.close().catch(() => undefined);
    logger.info({ drained }, 'shutdown complete');
    return drained;
  }

  return { server, config, shutdown };
}

/** Opens (and outside production migrates) the accounts database; a known problem becomes one start-up line. */
async function openAccountsOrExplain(config: Config): Promise<Accounts> {
  const variable = config.database.url === undefined ? `DATA_DIR=${config.database.dataDir}` : 'DATABASE_URL';
  try {
    return await openAccounts(config.database, { production: config.env === 'production' });
  } catch (error) {
    if (error instanceof SchemaBehindError) throw new DatabaseStartupError(`${variable}: ${error.message}`, { cause: error });
    if (error instanceof DataDirBusyError) throw new DatabaseStartupError(error.message, { cause: error });
    if (isDatabaseOutage(error)) throw new DatabaseStartupError(`${variable}: the accounts database is not reachable (${(error as Error).message}); start PostgreSQL or fix the URL`, { cause: error });
    throw error;
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, pretty: config.env === 'development' && process.stdout.isTTY });
  // Libraries' console output (ioredis's [WARN] lines) joins the JSON stream instead of breaking it.
  routeConsoleToLog(logger);
  let running: RunningServer;
  try {
    running = await start(config, logger);
  } catch (error) {
    // A known start-up problem is one line each, naming the variable or file and the fix; anything
    // else is a bug and keeps its stack.
    if (error instanceof StartupError) for (const problem of error.problems) logger.fatal({ code: error.code }, problem);
    else logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Exit 1 only when requests had to be cut, so an orchestrator's logs show it.
      void running.shutdown(signal).then((drained) => process.exit(drained ? 0 : 1));
    });
  }
}

if (require.main === module) void main();

/**
 * Logs a warning when the issuer cannot be this server's origin (issuer-origin.ts), compared with
 * the port actually bound, so PORT=0 is checked against the port the OS chose.
 */
function warnOfForeignIssuer(config: Config, server: Server, logger: Logger): void {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const problem = issuerOriginProblem(config.jts.issuer, { host: config.host, port });
  if (problem !== undefined) logger.warn({ issuer: config.jts.issuer, host: config.host, port }, `issuer origin mismatch: ${problem}`);
}
