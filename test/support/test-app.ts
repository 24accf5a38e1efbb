import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { AccountsDatabase } from '../../src/accounts/database';
import { accountStores } from '../../src/accounts/open';
import { createApp } from '../../src/app';
import type { AuditEvent } from '../../src/auth/audit';
import { loadConfig, type Config } from '../../src/config/load';
import { ManualClock } from '../../src/jts/clock';
import { KeyRing } from '../../src/jts/key-ring';
import { createRedisClient, type RedisClient } from '../../src/redis/connect';
import { buildServices, type Services } from '../../src/services';
import { createLogger } from '../../src/observability/logger';
import { auditLog } from '../../src/observability/audit-log';
import { openTestDatabase, urlWithSchema, type AccountsKind } from './accounts';

export type StoreKind = 'memory' | 'redis';

export interface TestAppOptions {
  store?: StoreKind;
  /** Accounts in SQL (a fresh schema of the run's PostgreSQL, or an in-memory PGlite) instead of the memory user store. */
  accounts?: AccountsKind;
  /** With `accounts: 'postgres'`: this server instead of the run's (e.g. one the test stops). */
  databaseUrl?: string;
  /** Environment overrides on top of the test defaults. */
  env?: Record<string, string>;
  clock?: ManualClock;
  /** Use this Redis URL instead of the shared test server. */
  redisUrl?: string;
  keyRing?: KeyRing;
  /**
   * Use this client (e.g. a Redis Cluster) for the Redis stores; implies `store: 'redis'`. The
   * caller owns it: `close()` leaves it open.
   */
  redis?: RedisClient;
  /** Use this StateProof secret instead of a random one (e.g. to share it with another app). */
  stateProofSecret?: Buffer;
  /** Readiness input: /readyz answers 503 while this returns true. */
  isShuttingDown?: () => boolean;
  /** Reuse this open accounts database (a restarted server on the same PostgreSQL); the caller closes it. */
  database?: AccountsDatabase;
  /** Sessions whose renewal facts the auth server remembers; 0 makes every renewal read the store. */
  renewFactsCapacity?: number;
  /** See ServiceInputs.onFailureThreshold. */
  onFailureThreshold?: (prn: string) => void;
}

export interface TestApp extends Services {
  app: ReturnType<typeof createApp>;
  config: Config;
  clock: ManualClock;
  /** The single-Redis client the stores use (undefined for memory stores and for an injected Cluster). */
  redis: Redis | undefined;
  /** Whatever client the Redis stores use, single or Cluster. */
  redisClient: RedisClient | undefined;
  audits: AuditEvent[];
  logLines: string[];
  /** With `accounts`: the database, and for PostgreSQL a URL other processes (the CLI) can use. */
  database: AccountsDatabase | undefined;
  databaseUrl: string | undefined;
  close(): Promise<void>;
}

let sharedRing: Promise<KeyRing> | undefined;

/** An ES256 key ring made once per test file. */
export function testKeyRing(): Promise<KeyRing> {
  sharedRing ??= KeyRing.from([{ alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }]);
  return sharedRing;
}

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: the jest global setup starts a private redis-server');
  return url;
}

/** Builds the real app with real stores; Redis keys get a random prefix so tests never collide. */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const store = options.redis ? 'redis' : (options.store ?? 'memory');
  const config = loadConfig({
    NODE_ENV: 'test',
    BCRYPT_ROUNDS: '4',
    JTS_DEMO_USERS: 'false',
    // Suites log in many times from one address; test/ops turns the limits on where it tests them.
    RATE_LIMIT_ENABLED: 'false',
    // Suites sign in from one unknown client many times: the notices and the risk step-up are off
    // unless a test turns them on (test/notices).
    JTS_SIGN_IN_NOTICES: 'off',
    JTS_RISK_FAILED_SIGN_INS: 'off',
    // Generous: a loaded CI machine (two jest workers, servers, Chromium on two cores) has stalled a
    // script past the default 1 s (register 503 in api-routes, token-exchange). Suites that test the
    // timeout set their own.
    REDIS_COMMAND_TIMEOUT: '5000',
    // Production refuses to start without one; the app gets a UserStore only when a test asks for it.
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://127.0.0.1:5432/jts',
    REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
    ...(store === 'redis' && !options.redis ? { REDIS_URL: options.redisUrl ?? testRedisUrl() } : {}),
    // Production refuses to start without SMTP; the sending itself is off the request path.
    ...(options.env?.NODE_ENV === 'production' ? { SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Auth <no-reply@example.com>' } : {}),
    ...options.env,
  });
  const clock = options.clock ?? new ManualClock(Date.now());
  const ownRedis = options.redis === undefined && store === 'redis' && config.redis.url ? createRedisClient({ url: config.redis.url, commandTimeoutMs: config.redis.commandTimeoutMs }) : undefined;
  const redis: RedisClient | undefined = options.redis ?? ownRedis;
  if (ownRedis) {
    const own = ownRedis;
    own.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      if (own.status === 'ready') resolve();
      else own.once('ready', () => { resolve(); });
    });
  }
  const logLines: string[] = [];
  // The production logger (with its redaction), writing to memory.
  const logger = createLogger({
    level: 'info',
    pretty: false,
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString());
        callback();
      },
    }),
  });
  const audits: AuditEvent[] = [];
  // The production audit log (request id, client address, levels) writing to the same memory.
  const auditLine = auditLog(logger);
  const database =
    options.database ??
    (options.accounts === undefined
      ? undefined
      : await openTestDatabase(options.accounts, { ...(options.databaseUrl === undefined ? {} : { url: options.databaseUrl }), timeoutMs: config.database.timeoutMs }));
  const services = buildServices({
    config,
    keyRing: options.keyRing ?? (await testKeyRing()),
    stateProofSecret: options.stateProofSecret ?? randomBytes(32),
    clock,
    logger,
    audit: (event) => {
      audits.push(event);
      auditLine(event);
    },
    ...(redis ? { redis } : {}),
    ...(database ? { accounts: accountStores(database.db), accountsDb: database.db } : {}),
    mailRetryDelayMs: 10,
    ...(options.isShuttingDown ? { isShuttingDown: options.isShuttingDown } : {}),
    ...(options.renewFactsCapacity === undefined ? {} : { renewFactsCapacity: options.renewFactsCapacity }),
    ...(options.onFailureThreshold ? { onFailureThreshold: options.onFailureThreshold } : {}),
  });
  // As server.ts does before listening, without the timer: tests call refresh() after changing clients.
  await services.clientDirectory.refresh();
  return {
    ...services,
    app: createApp(services),
    config,
    clock,
    redis: redis instanceof Redis ? redis : undefined,
    redisClient: redis,
    audits,
    logLines,
    database,
    databaseUrl: database?.kind === 'postgres' && database.schema !== undefined ? urlWithSchema(database.schema, options.databaseUrl) : undefined,
    async close() {
      await services.webhooks?.stop();
      services.events.close();
      await services.email.idle();
      services.email.close();
      ownRedis?.disconnect();
      if (options.database === undefined) await database?.close();
    },
  };
}

export async function createUser(app: TestApp, input: { email?: string; password?: string; permissions?: string[]; name?: string; emailVerified?: boolean; mfaRequired?: boolean } = {}) {
  const email = input.email ?? `u${randomBytes(4).toString('hex')}@example.com`;
  const password = input.password ?? 'correct horse battery';
  const id = randomBytes(16).toString('base64url');
  await app.users.create({
    id,
    email,
    name: input.name ?? 'Test User',
    passwordHash: await app.hasher.hash(password),
    permissions: input.permissions ?? ['read:profile'],
    disabled: false,
    credentialEpoch: 0,
    version: 1,
    emailVerified: input.emailVerified ?? false,
    mfaRequired: input.mfaRequired ?? false,
    createdAt: app.clock.now(),
    updatedAt: app.clock.now(),
  });
  return { id, email, password };
}
