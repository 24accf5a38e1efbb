import { randomBytes } from 'node:crypto';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import { MemoryUserStore } from '../../src/users/memory-store';
import type { User, UserChange, UserStore } from '../../src/users/types';
import { openTestDatabase } from '../support/accounts';

const user = (overrides: Partial<User> = {}): User => ({
  id: randomBytes(16).toString('base64url'),
  email: `u${randomBytes(4).toString('hex')}@example.com`,
  name: 'Ada',
  passwordHash: '$2b$04$abcdefghijklmnopqrstuu5cJ0iNnX9mJq2mJ7vK8qQK3H4b6G1Ka',
  permissions: ['read:profile'],
  disabled: false,
  credentialEpoch: 0,
  version: 1,
  emailVerified: false,
  mfaRequired: false,
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

  it('changes the address (normalised) and frees the old one; another user\'s address is email_taken and writes nothing', async () => {
    const ada = user({ email: 'ada@example.com' });
    const bob = user({ email: 'bob@example.com' });
    await store.create(ada);
    await store.create(bob);
    const written = await store.write(ada.id, { patch: { email: '  Ada.New@Example.COM ', emailVerified: true }, now: 2_000 }, {});
    expect(written).toMatchObject({ outcome: 'written', after: { email: 'ada.new@example.com', emailVerified: true, version: 2, credentialEpoch: 0 } });
    await expect(store.findByEmail('ada.new@example.com')).resolves.toMatchObject({ id: ada.id });
    await expect(store.findByEmail('ada@example.com')).resolves.toBeUndefined();
    await expect(store.create(user({ email: 'ada@example.com' }))).resolves.toBe('created');
    await expect(store.write(bob.id, { patch: { email: 'ADA.NEW@example.com', name: 'Bob 2' }, now: 3_000 }, {})).resolves.toEqual({ outcome: 'email_taken' });
    await expect(store.get(bob.id)).resolves.toMatchObject({ email: 'bob@example.com', name: 'Ada', version: 1 });
  });

  it('gives one of two concurrent address changes to one address the address', async () => {
    const [ada, bob] = [user(), user()];
    await store.create(ada);
    await store.create(bob);
    const results = await Promise.all([ada, bob].map((u) => store.write(u.id, { patch: { email: 'race@example.com' }, now: 2_000 }, {})));
    expect(results.map((r) => r.outcome).sort()).toEqual(['email_taken', 'written']);
  });

  it('adds one to the credential epoch with every password change, and only then', async () => {
    const ada = user();
    await store.create(ada);
    await expect(store.update(ada.id, { permissions: ['x'], disabled: true }, 2_000)).resolves.toMatchObject({ credentialEpoch: 0 });
    await expect(store.update(ada.id, { passwordHash: 'h2' }, 3_000)).resolves.toMatchObject({ credentialEpoch: 1 });
    await expect(store.update(ada.id, { passwordHash: 'h3' }, 4_000)).resolves.toMatchObject({ credentialEpoch: 2 });
  });

  it('upgrades a password hash only while it is still the one read, leaving the epoch and updatedAt', async () => {
    const ada = user({ passwordHash: 'legacy', updatedAt: 1_500 });
    await store.create(ada);
    await expect(store.upgradePasswordHash(ada.id, 'legacy', 'normalised')).resolves.toBe(true);
    await expect(store.get(ada.id)).resolves.toMatchObject({ passwordHash: 'normalised', credentialEpoch: 0, updatedAt: 1_500 });
    await expect(store.upgradePasswordHash(ada.id, 'legacy', 'stale')).resolves.toBe(false);
    await expect(store.upgradePasswordHash('nobody', 'legacy', 'x')).resolves.toBe(false);
    await expect(store.get(ada.id)).resolves.toMatchObject({ passwordHash: 'normalised' });
  });

  it('discards a new user only while it is unchanged since creation, freeing its email', async () => {
    const ada = user({ email: 'undo@example.com' });
    await store.create(ada);
    await expect(store.discardNew(ada.id, ada.version)).resolves.toBe(true);
    await expect(store.get(ada.id)).resolves.toBeUndefined();
    await expect(store.create(user({ email: 'undo@example.com' }))).resolves.toBe('created');
    const bob = user({ email: 'kept@example.com' });
    await store.create(bob);
    await store.update(bob.id, { name: 'Changed' }, 2_000);
    await expect(store.discardNew(bob.id, bob.version)).resolves.toBe(false);
    await expect(store.get(bob.id)).resolves.toMatchObject({ name: 'Changed' });
    await expect(store.discardNew('nobody', 1)).resolves.toBe(false);
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

  it('counts the version: 1 when created, one more with every write, in the same statement', async () => {
    const ada = user();
    await store.create(ada);
    await expect(store.update(ada.id, { name: 'Ada L.' }, 2_000)).resolves.toMatchObject({ version: 2 });
    await expect(store.write(ada.id, { patch: { disabled: true }, now: 3_000 }, {})).resolves.toMatchObject({ outcome: 'written', before: { version: 2 }, after: { version: 3, disabled: true } });
    await expect(store.get(ada.id)).resolves.toMatchObject({ version: 3 });
  });

  it('deletes a user, runs beforeWrite with the record first, and aborts the write when it rejects', async () => {
    const ada = user();
    await store.create(ada);
    const seen: number[] = [];
    await expect(store.write(ada.id, { patch: { name: 'X' }, now: 2_000 }, { beforeWrite: () => Promise.reject(new Error('mirror down')) })).rejects.toThrow('mirror down');
    await expect(store.get(ada.id)).resolves.toMatchObject({ name: 'Ada', version: 1 });
    await expect(store.write(ada.id, 'delete', { beforeWrite: (before) => Promise.resolve(void seen.push(before.version)) })).resolves.toMatchObject({ outcome: 'written', after: undefined });
    expect(seen).toEqual([1]);
    await expect(store.get(ada.id)).resolves.toBeUndefined();
    await expect(store.findByEmail(ada.email)).resolves.toBeUndefined();
    await expect(store.write(ada.id, 'delete', {})).resolves.toEqual({ outcome: 'missing' });
  });

  it('keeps the last enabled holder of a permission (keepHolderOf): no delete, disable or removal of it', async () => {
    const keep = { keepHolderOf: 'admin:users' };
    const root = user({ permissions: ['admin:users'] });
    const other = user({ permissions: ['admin:users', 'x'], disabled: true });
    await store.create(root);
    await store.create(other);
    for (const change of ['delete', { patch: { disabled: true }, now: 2_000 }, { patch: { permissions: ['x'] }, now: 2_000 }] satisfies UserChange[]) {
      await expect(store.write(root.id, change, keep)).resolves.toEqual({ outcome: 'last_holder' });
    }
    await expect(store.write(root.id, { patch: { permissions: ['admin:users', 'y'], name: 'R' }, now: 2_000 }, keep)).resolves.toMatchObject({ outcome: 'written' });
    // A disabled holder may lose it; enabled again, it makes root no longer the last.
    await expect(store.write(other.id, { patch: { permissions: ['x'] }, now: 2_000 }, keep)).resolves.toMatchObject({ outcome: 'written' });
    await store.update(other.id, { permissions: ['admin:users'], disabled: false }, 3_000);
    await expect(store.write(root.id, 'delete', keep)).resolves.toMatchObject({ outcome: 'written' });
    await expect(store.write(other.id, { patch: { disabled: true }, now: 4_000 }, keep)).resolves.toEqual({ outcome: 'last_holder' });
  });

  it('searches by email prefix, wildcards literal, in (email, id) byte order, from a keyset position', async () => {
    for (const email of ['b_2@example.com', 'b_1@example.com', 'bx1@example.com', 'b%@example.com', 'c@example.com']) await store.create(user({ email }));
    const emails = async (prefix: string, limit = 10, after?: { email: string; id: string }) =>
      (await store.search({ emailPrefix: prefix, limit, ...(after ? { after } : {}) })).map((u) => u.email);
    await expect(emails('b_')).resolves.toEqual(['b_1@example.com', 'b_2@example.com']);
    await expect(emails('b%')).resolves.toEqual(['b%@example.com']);
    await expect(emails('b')).resolves.toEqual(['b%@example.com', 'b_1@example.com', 'b_2@example.com', 'bx1@example.com']);
    await expect(emails('', 2)).resolves.toEqual(['b%@example.com', 'b_1@example.com']);
    const [first] = await store.search({ emailPrefix: 'b_', limit: 1 });
    await expect(emails('b', 10, { email: first!.email, id: first!.id })).resolves.toEqual(['b_2@example.com', 'bx1@example.com']);
    await expect(emails('z')).resolves.toEqual([]);
  });

  it('continues a search after a page edge without skipping or repeating a user', async () => {
    const users = ['a1@example.com', 'a2@example.com', 'a3@example.com'].map((email) => user({ email }));
    for (const u of users) await store.create(u);
    const page1 = await store.search({ emailPrefix: 'a', limit: 2 });
    const last = page1.at(-1)!;
    const page2 = await store.search({ emailPrefix: 'a', limit: 2, after: { email: last.email, id: last.id } });
    expect([...page1, ...page2].map((u) => u.email)).toEqual(['a1@example.com', 'a2@example.com', 'a3@example.com']);
  });
});
