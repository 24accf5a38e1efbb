import { randomBytes } from 'node:crypto';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import { MemoryUserStore } from '../../src/users/memory-store';
import type { User, UserStore } from '../../src/users/types';
import { openTestDatabase } from '../support/accounts';

const user = (overrides: Partial<User> = {}): User => ({
  id: randomBytes(16).toString('base64url'),
  email: `u${randomBytes(4).toString('hex')}@example.com`,
  name: 'Ada',
  passwordHash: '$2b$04$abcdefghijklmnopqrstuu5cJ0iNnX9mJq2mJ7vK8qQK3H4b6G1Ka',
  permissions: ['read:profile'],
  disabled: false,
  credentialEpoch: 0,
  emailVerified: false,
  createdAt: 1_000,
  updatedAt: 1_000,
  ...overrides,
});

/** The behaviour every user store shares: real PostgreSQL, PGlite, and the memory store of the unit tests. */
describe.each(['postgres', 'pglite', 'memory'] as const)('%s user store', (kind) => {
  let store: UserStore;
  let database: AccountsDatabase | undefined;

  beforeEach(async () => {
    if (kind === 'memory') {
      store = new MemoryUserStore();
      return;
    }
    database = await openTestDatabase(kind);
    store = new SqlUserStore(database.db);
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('stores a user and finds it by id and by email, normalised', async () => {
    const ada = user({ email: '  Ada@Example.COM ' });
    await expect(store.create(ada)).resolves.toBe('created');
    await expect(store.get(ada.id)).resolves.toEqual({ ...ada, email: 'ada@example.com' });
    await expect(store.findByEmail('ADA@example.com')).resolves.toMatchObject({ id: ada.id });
  });

  it('refuses a second user with the same email, whatever its case', async () => {
    await store.create(user({ email: 'same@example.com' }));
    await expect(store.create(user({ email: 'SAME@example.com' }))).resolves.toBe('email_taken');
    expect(await store.list()).toHaveLength(1);
  });

  it('keeps one account for an email in any Unicode case or padding', async () => {
    await expect(store.create(user({ email: 'Ünïcode@Example.com' }))).resolves.toBe('created');
    await expect(store.create(user({ email: '  üNÏCODE@EXAMPLE.COM\t' }))).resolves.toBe('email_taken');
    await expect(store.findByEmail('ÜNÏCODE@example.com ')).resolves.toMatchObject({ email: 'ünïcode@example.com' });
    expect(await store.list()).toHaveLength(1);
  });

  it('gives one of two concurrent registrations of one email the account', async () => {
    const results = await Promise.all([store.create(user({ email: 'race@example.com' })), store.create(user({ email: 'RACE@example.com' }))]);
    expect(results.sort()).toEqual(['created', 'email_taken']);
  });

  it('adds one to the credential epoch with every password change, and only then', async () => {
    const ada = user();
    await store.create(ada);
    await expect(store.update(ada.id, { permissions: ['x'], disabled: true }, 2_000)).resolves.toMatchObject({ credentialEpoch: 0 });
    await expect(store.update(ada.id, { passwordHash: 'h2' }, 3_000)).resolves.toMatchObject({ credentialEpoch: 1 });
    await expect(store.update(ada.id, { passwordHash: 'h3' }, 4_000)).resolves.toMatchObject({ credentialEpoch: 2 });
  });

  it('answers undefined for unknown ids and emails', async () => {
    await expect(store.get('nobody')).resolves.toBeUndefined();
    await expect(store.findByEmail('nobody@example.com')).resolves.toBeUndefined();
    await expect(store.update('nobody', { disabled: true }, 2_000)).resolves.toBeUndefined();
  });

  it('lists users oldest first', async () => {
    const second = user({ createdAt: 2_000, updatedAt: 2_000 });
    const first = user({ createdAt: 1_000 });
    await store.create(second);
    await store.create(first);
    expect((await store.list()).map((u) => u.id)).toEqual([first.id, second.id]);
  });

  it('updates permissions, the disabled flag, the password hash and the time', async () => {
    const ada = user();
    await store.create(ada);
    const updated = await store.update(ada.id, { permissions: ['admin:access'], disabled: true, passwordHash: 'new-hash' }, 2_000);
    expect(updated).toMatchObject({ permissions: ['admin:access'], disabled: true, passwordHash: 'new-hash', credentialEpoch: 1, updatedAt: 2_000, createdAt: 1_000 });
    await expect(store.get(ada.id)).resolves.toEqual(updated);
  });

  it('hands out copies: changing a returned user changes nothing stored', async () => {
    const ada = user();
    await store.create(ada);
    const copy = (await store.get(ada.id))!;
    copy.permissions.push('admin:access');
    await expect(store.get(ada.id)).resolves.toMatchObject({ permissions: ['read:profile'] });
  });

  it('lists every user', async () => {
    await store.create(user());
    await store.create(user({ createdAt: 2_000 }));
    expect(await store.list()).toHaveLength(2);
  });
});
