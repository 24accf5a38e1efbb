import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../../../src/auth/audit';
import { createAuthContext, type AuthContext, type AuthServerDeps, type AuthServerSettings } from '../../../src/auth/context';
import { createBearerPassIssuer } from '../../../src/jts/bearer-pass/mint';
import { createBearerPassVerifier } from '../../../src/jts/bearer-pass/verify';
import type { BearerPassClaims } from '../../../src/jts/bearer-pass/claims';
import { ManualClock } from '../../../src/jts/clock';
import { StateProofCodec } from '../../../src/jts/state-proof';
import { createRedisClient, type RedisClient } from '../../../src/redis/connect';
import { MemorySessionStore } from '../../../src/sessions/memory-store';
import { redisKeys } from '../../../src/sessions/redis-keys';
import { RedisSessionStore } from '../../../src/sessions/redis-store';
import type { SessionStore } from '../../../src/sessions/types';
import { MemoryUserStore } from '../../../src/users/memory-store';
import { newUser } from '../../../src/users/new-user';
import { createPasswordHasher } from '../../../src/users/password';
import { MirroredUserStore } from '../../../src/auth/mirrored-users';
import type { User, UserStore } from '../../../src/users/types';
import { testKeyRing, testRedisUrl, type StoreKind } from '../../support/test-app';

export const DEFAULT_SETTINGS: AuthServerSettings = {
  bearerPassLifetimeSeconds: 300,
  stateProofLifetimeSeconds: 604_800,
  rotationGraceSeconds: 10,
  replayRevoke: 'session',
  sessionPolicy: { kind: 'allow_all' },
  allowRegistration: true,
};

export interface AuthFixtureOptions {
  store?: StoreKind;
  settings?: Partial<AuthServerSettings>;
  renewFactsCapacity?: number;
}

/** The use cases' shared context on real stores (Redis: a private key prefix), an injected clock and an audit log in memory. */
export interface AuthFixture {
  /** What JTSAuthServer is built from. */
  deps: AuthServerDeps;
  /** The use cases' context, built from `deps` (its own renew-facts cache: a façade built from `deps` has another). */
  context: AuthContext;
  clock: ManualClock;
  users: UserStore;
  sessions: SessionStore;
  audits: AuditEvent[];
  /** Stores an enabled user whose password is `password` (bcrypt cost 4). */
  addUser(input?: { email?: string; password?: string; permissions?: string[] }): Promise<{ user: User; password: string }>;
  /** Verifies a BearerPass with the fixture's key and clock and returns its claims; throws if refused. */
  claimsOf(bearerPass: string): BearerPassClaims;
  close(): Promise<void>;
}

export async function authFixture(options: AuthFixtureOptions = {}): Promise<AuthFixture> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  let redis: RedisClient | undefined;
  let sessions: SessionStore;
  if (options.store === 'redis') {
    const client = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    redis = client;
    await new Promise<void>((resolve) => client.once('ready', () => { resolve(); }));
    const keys = redisKeys(`t${randomBytes(4).toString('hex')}:`);
    sessions = new RedisSessionStore(client, keys);
  } else {
    sessions = new MemorySessionStore(clock);
  }
  // As services.ts builds it: the records, and the security mirror next to the sessions.
  const users: UserStore = new MirroredUserStore(new MemoryUserStore(), sessions, { sessionLifetimeMs: settings.stateProofLifetimeSeconds * 1000 });
  const keyRing = await testKeyRing();
  const hasher = createPasswordHasher(4);
  const audits: AuditEvent[] = [];
  const deps: AuthServerDeps = {
    users,
    sessions,
    hasher,
    stateProofs: new StateProofCodec(randomBytes(32)),
    mint: createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: settings.bearerPassLifetimeSeconds }),
    clock,
    audit: (event) => audits.push(event),
    settings,
    ...(options.renewFactsCapacity === undefined ? {} : { renewFactsCapacity: options.renewFactsCapacity }),
  };
  const context = createAuthContext(deps);
  const verify = createBearerPassVerifier({ keyFor: (kid) => keyRing.get(kid), clock, cacheSize: 0 });
  return {
    deps,
    context,
    clock,
    users,
    sessions,
    audits,
    async addUser(input = {}) {
      const password = input.password ?? 'correct horse battery';
      const user = newUser(
        { email: input.email ?? `u${randomBytes(4).toString('hex')}@example.com`, name: 'Test User', passwordHash: await hasher.hash(password), permissions: input.permissions ?? ['read:profile'] },
        clock.now(),
      );
      await users.create(user);
      return { user, password };
    },
    claimsOf(bearerPass) {
      const result = verify(bearerPass);
      if (!result.ok) throw result.error;
      return result.payload;
    },
    async close() {
      await redis?.quit();
    },
  };
}

