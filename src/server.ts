import 'dotenv/config';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { systemClock } from './jts/clock.js';
import { loadKeyRing, loadStateProofSecret, KeyFileError } from './keys/files.js';
import { createLogger } from './observability/logger.js';
import { createRedisClient, waitForReady } from './redis/connect.js';
import { buildServices } from './services.js';
import { seedDemoUsers } from './users/demo-users.js';
import type { AuditEvent } from './auth/audit.js';

/** How long SIGTERM waits for in-flight requests before cutting connections. */
const SHUTDOWN_TIMEOUT_MS = Number(process.env.SHUTDOWN_TIMEOUT ?? 10_000);

export interface RunningServer {
  server: Server;
  config: Config;
  shutdown(signal: string): Promise<void>;
}

export async function start(config: Config, logger: Logger): Promise<RunningServer> {
  const production = config.env === 'production';
  let redis: Redis | undefined;
  if (config.redis.url) {
    redis = createRedisClient({ url: config.redis.url, commandTimeoutMs: config.redis.commandTimeoutMs });
    redis.on('error', (error: Error) => {
      logger.warn({ err: { message: error.message } }, 'redis connection problem');
    });
    await waitForReady(redis, 5000).catch((error: unknown) => {
      // Not fatal: the server starts, /readyz says 503, and requests get 503 until Redis answers.
      logger.error({ err: error }, 'redis is not reachable yet; serving 503 until it is');
    });
  } else {
    logger.warn('REDIS_URL is not set: sessions and users live in memory and vanish on restart (development only)');
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

  let shuttingDown = false;
  const audit = (event: AuditEvent) => {
    logger[event.event === 'replay.detected' || event.event === 'store.unavailable' ? 'warn' : 'info'](event, event.event);
  };
  const services = buildServices({ config, keyRing, stateProofSecret, clock: systemClock, logger, audit, ...(redis ? { redis } : {}), isShuttingDown: () => shuttingDown });
  if (config.jts.demoUsers) {
    await seedDemoUsers(services.users, services.hasher, { now: Date.now(), logger }).catch((error: unknown) => {
      logger.error({ err: error }, 'could not create the demo users');
    });
  }

  const app = createApp(services);
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Deliberate limits: a slow client cannot hold a socket for ever, and idle keep-alive sockets
  // outlive a typical load balancer's 60 s idle timeout so it never reuses a closed one.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 61_000;
  logger.info({ port: config.port, kid: keyRing.signer.kid, alg: keyRing.signer.alg, store: redis ? 'redis' : 'memory' }, 'jts auth server listening');

  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const forced = setTimeout(() => {
      logger.warn('shutdown timeout reached: closing remaining connections');
      server.closeAllConnections();
    }, SHUTDOWN_TIMEOUT_MS);
    forced.unref();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      server.closeIdleConnections();
    });
    clearTimeout(forced);
    await redis?.quit().catch(() => undefined);
    logger.info('shutdown complete');
  }

  return { server, config, shutdown };
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
  let running: RunningServer;
  try {
    running = await start(config, logger);
  } catch (error) {
    if (error instanceof KeyFileError || error instanceof ConfigError) logger.fatal(error.message);
    else logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void running.shutdown(signal).then(() => process.exit(0));
    });
  }
}

if (require.main === module) void main();
