/**
 * The server's own components, loaded from the build (dist/) that the benchmarked servers run, and
 * configured from the very environment those servers get: the scale bench seeds and reads through
 * them (ScaleSeedTools), so what it writes is what a sign-in writes, key for key.
 */
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type { RedisClient } from '../../src/redis/connect.js';
import type { RedisKeys } from '../../src/sessions/redis-keys.js';
import type { SessionStore } from '../../src/sessions/types.js';
import type { ScaleSeedTools } from './scale-seed.js';

const DIST = resolve(__dirname, '..', '..', 'dist');
const loadBuilt = createRequire(__filename);
/** A module of the build; each caller types it as its source. */
const built = (path: string): unknown => loadBuilt(join(DIST, path));

export interface BuiltServer {
  tools: ScaleSeedTools;
  /** The same store, for the per-user operations measured without HTTP. */
  store: SessionStore;
  keys: RedisKeys;
  /** JTS_STATE_PROOF_LIFETIME, in ms: a session's life. */
  sessionLifetimeMs: number;
  /** JTS_ROTATION_GRACE, in ms: a grace slot lives this + 1 s. */
  rotationGraceMs: number;
  close(): Promise<void>;
}

/** Opens Redis and the accounts database as a server started with `env` would. */
export async function openBuiltServer(env: NodeJS.ProcessEnv): Promise<BuiltServer> {
  const { loadConfig } = built('config/load.js') as typeof import('../../src/config/load.js');
  const { connectRedis, waitForReady } = built('redis/connect.js') as typeof import('../../src/redis/connect.js');
  const { redisKeys } = built('sessions/redis-keys.js') as typeof import('../../src/sessions/redis-keys.js');
  const { RedisSessionStore } = built('sessions/redis-store.js') as typeof import('../../src/sessions/redis-store.js');
  const { ensureMirror } = built('auth/mirrored-users.js') as typeof import('../../src/auth/mirrored-users.js');
  const { openAccounts } = built('accounts/open.js') as typeof import('../../src/accounts/open.js');
  const { loadKeyRing, loadStateProofSecret } = built('key-files/files.js') as typeof import('../../src/key-files/files.js');
  const { createBearerPassIssuer } = built('jts/bearer-pass/mint.js') as typeof import('../../src/jts/bearer-pass/mint.js');
  const { CredentialMinter } = built('auth/credentials.js') as typeof import('../../src/auth/credentials.js');
  const { StateProofCodec, randomId } = built('jts/state-proof.js') as typeof import('../../src/jts/state-proof.js');
  const { systemClock } = built('jts/clock.js') as typeof import('../../src/jts/clock.js');
  const { newUser } = built('users/new-user.js') as typeof import('../../src/users/new-user.js');
  const { describeDevice, maskIp } = built('auth/client-info.js') as typeof import('../../src/auth/client-info.js');

  const config = loadConfig(env);
  const redis: RedisClient | undefined = connectRedis(config.redis);
  if (!redis) throw new Error('openBuiltServer: the environment names no Redis');
  redis.on('error', () => undefined);
  await waitForReady(redis, 10_000);
  const accounts = await openAccounts(config.database, { production: false });
  const logger = pino({ level: 'silent' });
  const { jts } = config;
  const keyRing = await loadKeyRing({ algorithm: jts.algorithm, privateKeyPath: jts.privateKeyPath, publicKeyPath: jts.publicKeyPath, previousPublicKeys: jts.previousPublicKeys }, { production: false, logger });
  const secret = await loadStateProofSecret({ value: jts.stateProofSecret, path: jts.stateProofSecretPath }, { production: false, logger });
  const keys = redisKeys(config.redis.keyPrefix);
  const store = new RedisSessionStore(redis, keys, { commandTimeoutMs: config.redis.commandTimeoutMs });
  // As services.ts wires them for the server.
  const mint = createBearerPassIssuer({ keyRing, clock: systemClock, lifetimeSeconds: jts.bearerPassLifetimeSeconds, issuer: jts.issuer, audience: jts.audience });
  const minter = new CredentialMinter({ mint, stateProofs: new StateProofCodec(secret), clock: systemClock, stateProofLifetimeSeconds: jts.stateProofLifetimeSeconds, sessionPolicy: jts.sessionPolicy, mfaRequiredFor: config.mfa.requiredFor });
  const tools: ScaleSeedTools = {
    newUser,
    mirror: { ensureMirror: (user) => ensureMirror({ sessions: store, settings: { stateProofLifetimeSeconds: jts.stateProofLifetimeSeconds } }, user) },
    sessions: store,
    randomId,
    minter,
    policy: jts.sessionPolicy,
    device: describeDevice('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'),
    ipPrefix: maskIp('203.0.113.7'),
  };
  return {
    tools,
    store,
    keys,
    sessionLifetimeMs: jts.stateProofLifetimeSeconds * 1000,
    rotationGraceMs: jts.rotationGraceSeconds * 1000,
    async close() {
      redis.disconnect();
      await accounts.database.close();
    },
  };
}
