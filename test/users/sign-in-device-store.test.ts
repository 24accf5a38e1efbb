import { randomBytes } from 'node:crypto';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlSignInDeviceStore } from '../../src/accounts/sql-sign-in-device-store';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import { MemorySignInDeviceStore } from '../../src/users/memory-sign-in-devices';
import { MemoryUserStore } from '../../src/users/memory-store';
import { newUser } from '../../src/users/new-user';
import type { SignInDeviceStore } from '../../src/users/sign-in-devices';
import type { User, UserStore } from '../../src/users/types';
import { openTestDatabase } from '../support/accounts';

const NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/** The contract every sign-in device store keeps: real PostgreSQL, PGlite, and the memory store. */
describe.each(['postgres', 'pglite', 'memory'] as const)('%s sign-in device store', (kind) => {
  let users: UserStore;
  let store: SignInDeviceStore;
  let database: AccountsDatabase | undefined;
  let ada: User;
  let bob: User;

  beforeEach(async () => {
    if (kind === 'memory') {
      users = new MemoryUserStore();
      store = new MemorySignInDeviceStore(users);
    } else {
      database = await openTestDatabase(kind);
      users = new SqlUserStore(database.db);
      store = new SqlSignInDeviceStore(database.db);
    }
    ada = newUser({ email: `ada${randomBytes(3).toString('hex')}@example.com`, name: 'Ada', passwordHash: 'h1', permissions: [] }, NOW);
    bob = newUser({ email: `bob${randomBytes(3).toString('hex')}@example.com`, name: 'Bob', passwordHash: 'h1', permissions: [] }, NOW);
    await users.create(ada);
    await users.create(bob);
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('records devices per account and lists those seen since a time, newest first', async () => {
    await store.record(ada.id, [{ keyHash: 'k1', networkHash: 'n1' }], NOW, 20);
    await store.record(ada.id, [{ keyHash: 'k2', networkHash: 'n2' }, { keyHash: 'k3', networkHash: 'n2' }], NOW + DAY, 20);
    await store.record(bob.id, [{ keyHash: 'k1', networkHash: 'n9' }], NOW, 20);
    expect(await store.recent(ada.id, NOW)).toEqual([
      { keyHash: 'k2', networkHash: 'n2', lastSeen: NOW + DAY },
      { keyHash: 'k3', networkHash: 'n2', lastSeen: NOW + DAY },
      { keyHash: 'k1', networkHash: 'n1', lastSeen: NOW },
    ]);
    expect(await store.recent(ada.id, NOW + 1)).toEqual([
      { keyHash: 'k2', networkHash: 'n2', lastSeen: NOW + DAY },
      { keyHash: 'k3', networkHash: 'n2', lastSeen: NOW + DAY },
    ]);
    expect(await store.recent(bob.id, 0)).toEqual([{ keyHash: 'k1', networkHash: 'n9', lastSeen: NOW }]);
  });

  it('updates the network and time of a device seen again (one row per account and key)', async () => {
    await store.record(ada.id, [{ keyHash: 'k1', networkHash: 'n1' }], NOW, 20);
    await store.record(ada.id, [{ keyHash: 'k1', networkHash: 'n2' }], NOW + DAY, 20);
    expect(await store.recent(ada.id, 0)).toEqual([{ keyHash: 'k1', networkHash: 'n2', lastSeen: NOW + DAY }]);
  });

  it('keeps only the most recent rows of an account, and leaves other accounts alone', async () => {
    for (let i = 0; i < 5; i++) await store.record(ada.id, [{ keyHash: `k${i}`, networkHash: 'n' }], NOW + i * DAY, 3);
    await store.record(bob.id, [{ keyHash: 'b', networkHash: 'n' }], NOW, 3);
    expect((await store.recent(ada.id, 0)).map((row) => row.keyHash)).toEqual(['k4', 'k3', 'k2']);
    expect(await store.recent(bob.id, 0)).toHaveLength(1);
  });

  it('records nothing for an account that no longer exists, without an error', async () => {
    await store.record('no-such-user', [{ keyHash: 'k1', networkHash: 'n1' }], NOW, 20);
    expect(await store.recent('no-such-user', 0)).toEqual([]);
  });

  it('forgets every device of one account on request, and no other account’s', async () => {
    await store.record(ada.id, [{ keyHash: 'k1', networkHash: 'n1' }, { keyHash: 'k2', networkHash: 'n1' }], NOW, 20);
    await store.record(bob.id, [{ keyHash: 'k1', networkHash: 'n1' }], NOW, 20);
    await store.forget(ada.id);
    expect(await store.recent(ada.id, 0)).toEqual([]);
    expect(await store.recent(bob.id, 0)).toHaveLength(1);
  });

  it('forgets an account’s devices with the account', async () => {
    await store.record(ada.id, [{ keyHash: 'k1', networkHash: 'n1' }], NOW, 20);
    expect(await users.discardNew(ada.id, ada.version)).toBe(true);
    await store.record(ada.id, [{ keyHash: 'k2', networkHash: 'n1' }], NOW, 20);
    expect(await store.recent(ada.id, 0)).toEqual([]);
  });
});
