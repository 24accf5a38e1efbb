import { randomBytes } from 'node:crypto';
import { SqlChallengeStore } from '../../src/accounts/sql-challenge-store';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import type { AccountsDatabase } from '../../src/accounts/database';
import { hashCode, hashToken, newToken } from '../../src/auth/challenge-secrets';
import type { ChallengePurpose, ChallengeStore } from '../../src/users/challenges';
import { MemoryChallengeStore } from '../../src/users/memory-challenges';
import { MemoryUserStore } from '../../src/users/memory-store';
import { newUser } from '../../src/users/new-user';
import type { UserStore } from '../../src/users/types';
import * as oneLiveChallenge from '../../src/accounts/migrations/0005-one-live-challenge';
import { openTestDatabase, type AccountsKind } from '../support/accounts';

const NOW = Date.UTC(2026, 0, 1);
const CONCURRENT = 8;
const codeKey = randomBytes(32);

interface Stores {
  users: UserStore;
  challenges: ChallengeStore;
  /** Live (unconsumed) rows of the user and purpose, as the table holds them; undefined for memory. */
  liveRows?: (userId: string, purpose: ChallengePurpose) => Promise<string[]>;
  close: () => Promise<void>;
}

async function open(kind: AccountsKind | 'memory'): Promise<Stores> {
  if (kind === 'memory') {
    const users = new MemoryUserStore();
    return { users, challenges: new MemoryChallengeStore(users), close: () => Promise.resolve() };
  }
  const database: AccountsDatabase = await openTestDatabase(kind);
  const { db } = database;
  return {
    users: new SqlUserStore(db),
    challenges: new SqlChallengeStore(db),
    liveRows: async (userId, purpose) => (await db.selectFrom('challenges').select('id').where('user_id', '=', userId).where('purpose', '=', purpose).where('consumed_at', 'is', null).execute()).map((row) => row.id),
    close: () => database.close(),
  };
}

describe.each(['postgres', 'pglite', 'memory'] as const)('challenge store contract (%s): one live challenge per account and purpose (review L2)', (kind) => {
  let stores: Stores;
  let userId: string;

  beforeEach(async () => {
    stores = await open(kind);
    const user = newUser({ email: `u-${randomBytes(4).toString('hex')}@example.com`, name: 'U', passwordHash: 'x', permissions: [] }, NOW);
    await stores.users.create(user);
    userId = user.id;
  });
  afterEach(async () => {
    await stores.close();
  });

  it(`${CONCURRENT} concurrent issues of a link leave exactly one live, and only its token works`, async () => {
    const tokens = Array.from({ length: CONCURRENT }, () => newToken());
    await Promise.all(
      tokens.map((token, i) =>
        stores.challenges.issue({ id: `c${i}-${randomBytes(4).toString('hex')}`, userId, purpose: 'reset-password', secretHash: hashToken(token), credentialEpoch: 0, maxAttempts: 1, createdAt: NOW + i, expiresAt: NOW + 60_000 }),
      ),
    );
    const live = await stores.liveRows?.(userId, 'reset-password');
    if (live) expect(live).toHaveLength(1);
    const inspected = await Promise.all(tokens.map((token) => stores.challenges.inspectToken(hashToken(token), 'reset-password', NOW + 100)));
    expect(inspected.filter((use) => use.outcome === 'consumed')).toHaveLength(1);
    expect(inspected.filter((use) => use.outcome === 'used')).toHaveLength(CONCURRENT - 1);
    const uses = await Promise.all(tokens.map((token) => stores.challenges.consumeToken(hashToken(token), 'reset-password', NOW + 100)));
    expect(uses.map((use) => use.outcome).sort()).toEqual(['consumed', ...Array<string>(CONCURRENT - 1).fill('used')]);
    // The one that worked is the one that was live.
    expect(uses.findIndex((use) => use.outcome === 'consumed')).toBe(inspected.findIndex((use) => use.outcome === 'consumed'));
  });

  it(`${CONCURRENT} concurrent issues of a code leave exactly one live code, and only it signs in`, async () => {
    const issued = Array.from({ length: CONCURRENT }, (_, i) => ({ id: `k${i}-${randomBytes(4).toString('hex')}`, code: String(100000 + i) }));
    await Promise.all(
      issued.map(({ id, code }, i) =>
        stores.challenges.issue({ id, userId, purpose: 'sign-in-code', secretHash: hashCode(codeKey, id, code), credentialEpoch: 0, maxAttempts: 5, createdAt: NOW + i, expiresAt: NOW + 60_000 }),
      ),
    );
    const live = await stores.liveRows?.(userId, 'sign-in-code');
    if (live) expect(live).toHaveLength(1);
    const found = await stores.challenges.liveCode(userId, 'sign-in-code', NOW + 100);
    if (live) expect(found?.id).toBe(live[0]);
    const uses = await Promise.all(issued.map(({ id, code }) => stores.challenges.useCode(id, hashCode(codeKey, id, code), NOW + 100)));
    expect(uses.filter((use) => use.outcome === 'consumed')).toHaveLength(1);
    expect(uses.filter((use) => use.outcome === 'none')).toHaveLength(CONCURRENT - 1);
    expect(issued[uses.findIndex((use) => use.outcome === 'consumed')]?.id).toBe(found?.id);
  });
});

describe.each(['postgres', 'pglite'] as const)('migration 0005-one-live-challenge (%s)', (kind) => {
  it('settles rows that already broke the rule (the newest live one stays live), then refuses a second live row', async () => {
    const database = await openTestDatabase(kind);
    const { db } = database;
    try {
      // As a database written before 0005: the index is not there yet and two live rows exist.
      await oneLiveChallenge.down(db as never);
      const user = newUser({ email: 'm@example.com', name: 'M', passwordHash: 'x', permissions: [] }, NOW);
      await new SqlUserStore(db).create(user);
      const row = (id: string, at: number, purpose: ChallengePurpose = 'sign-in-code') => ({ id, user_id: user.id, purpose, secret_hash: `h-${id}`, credential_epoch: 0, max_attempts: 5, created_at: new Date(at), expires_at: new Date(at + 60_000) });
      await db.insertInto('challenges').values([row('older', NOW), row('newer', NOW + 1), row('other-purpose', NOW, 'verify-email')]).execute();
      await oneLiveChallenge.up(db as never);
      const live = await db.selectFrom('challenges').select(['id']).where('consumed_at', 'is', null).orderBy('id').execute();
      expect(live.map((r) => r.id)).toEqual(['newer', 'other-purpose']);
      await expect(db.insertInto('challenges').values(row('third', NOW + 2)).execute()).rejects.toThrow(/challenges_one_live/);
    } finally {
      await database.close();
    }
  });
});
