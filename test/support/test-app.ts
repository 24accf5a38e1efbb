import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createApp } from '../../src/app';
import type { AuditEvent } from '../../src/auth/audit';
import { loadConfig, type Config } from '../../src/config/load';
import { ManualClock } from '../../src/jts/clock';
import { KeyRing } from '../../src/jts/key-ring';
import { createRedisClient } from '../../src/redis/connect';
import { buildServices, type Services } from '../../src/services';

export type StoreKind = 'memory' | 'redis';

export interface TestAppOptions {
  store?: StoreKind;
  /** Environment overrides on top of the test defaults. */
  env?: Record<string, string>;
  clock?: ManualClock;
  /** Use this Redis URL instead of the shared test server. */
  redisUrl?: string;
  keyRing?: KeyRing;
}

export interface TestApp extends Services {
  app: ReturnType<typeof createApp>;
  config: Config;
  clock: ManualClock;
  redis: Redis | undefined;
  audits: AuditEvent[];
  logLines: string[];
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
  const store = options.store ?? 'memory';
  const config = loadConfig({
    NODE_ENV: 'test',
    BCRYPT_ROUNDS: '4',
    JTS_DEMO_USERS: 'false',
    // Suites log in many times from one address; test/ops turns the limits on where it tests them.
    RATE_LIMIT_ENABLED: 'false',
    REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
    ...(store === 'redis' ? { REDIS_URL: options.redisUrl ?? testRedisUrl() } : {}),
    ...options.env,
  });
  const clock = options.clock ?? new ManualClock(Date.now());
  const redis = store === 'redis' && config.redis.url ? createRedisClient({ url: config.redis.url, commandTimeoutMs: config.redis.commandTimeoutMs }) : undefined;
  if (redis) {
    redis.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      if (redis.status === 'ready') resolve();
      else redis.once('ready', () => { resolve(); });
    });
  }
  const logLines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString());
        callback();
      },
    }),
  );
  const audits: AuditEvent[] = [];
  const services = buildServices({
    config,
    keyRing: options.keyRing ?? (await testKeyRing()),
    stateProofSecret: randomBytes(32),
    clock,
    logger,
    audit: (event) => {
      audits.push(event);
      logger.info(event, event.event);
    },
    ...(redis ? { redis } : {}),
  });
  return {
    ...services,
    app: createApp(services),
    config,
    clock,
    redis,
    audits,
    logLines,
    close() {
      redis?.disconnect();
      return Promise.resolve();
    },
  };
}

export async function createUser(app: TestApp, input: { email?: string; password?: string; permissions?: string[]; name?: string } = {}) {
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
    createdAt: app.clock.now(),
    updatedAt: app.clock.now(),
  });
  return { id, email, password };
}
