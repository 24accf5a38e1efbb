import { randomBytes } from 'node:crypto';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlPasskeyStore } from '../../src/accounts/sql-passkey-store';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import { MemoryPasskeyStore } from '../../src/users/memory-passkeys';
import { MemoryUserStore } from '../../src/users/memory-store';
import { newUser } from '../../src/users/new-user';
import type { NewPasskey, NewWebAuthnChallenge, PasskeyStore } from '../../src/users/passkeys';
import type { User, UserStore } from '../../src/users/types';
import { openTestDatabase } from '../support/accounts';

const NOW = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

/** The contract every passkey store keeps: real PostgreSQL, PGlite, and the memory store. */
describe.each(['postgres', 'pglite', 'memory'] as const)('%s passkey store', (kind) => {
  let users: UserStore;
  let store: PasskeyStore;
  let database: AccountsDatabase | undefined;
  let ada: User;
  let bob: User;

  beforeEach(async () => {
    if (kind === 'memory') {
      users = new MemoryUserStore();
      store = new MemoryPasskeyStore();
    } else {
      database = await openTestDatabase(kind);
      users = new SqlUserStore(database.db);
      store = new SqlPasskeyStore(database.db);
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

  const passkey = (overrides: Partial<NewPasskey> = {}): NewPasskey => ({
    id: randomBytes(8).toString('hex'),
    userId: ada.id,
    credentialId: randomBytes(16).toString('base64url'),
    publicKey: 'pQECAyYgASFYIA',
    signCount: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'multiDevice',
    backedUp: true,
    name: 'Laptop',
    createdAt: NOW,
    ...overrides,
  });
  const challenge = (overrides: Partial<NewWebAuthnChallenge> = {}): NewWebAuthnChallenge => ({
    challengeHash: randomBytes(32).toString('hex'),
    purpose: 'register',
    userId: ada.id,
    binding: 'user-binding',
    createdAt: NOW,
    expiresAt: NOW + 5 * MINUTE,
    ...overrides,
  });

  it('stores a passkey, finds it by credential id, lists the owner’s oldest first, and counts them', async () => {
    const first = passkey();
    const second = passkey({ createdAt: NOW + MINUTE, transports: [], deviceType: 'singleDevice', backedUp: false, signCount: 7 });
    await expect(store.add(second)).resolves.toBe('added');
    await expect(store.add(first)).resolves.toBe('added');
    await store.add(passkey({ userId: bob.id }));
    await expect(store.byCredentialId(first.credentialId)).resolves.toEqual({ ...first, lastUsedAt: undefined });
    await expect(store.byCredentialId('unknown')).resolves.toBeUndefined();
    await expect(store.list(ada.id)).resolves.toEqual([{ ...first, lastUsedAt: undefined }, { ...second, lastUsedAt: undefined }]);
    await expect(store.count(ada.id)).resolves.toBe(2);
  });

  it('refuses a credential id registered already, to this account or another', async () => {
    const first = passkey();
    await store.add(first);
    await expect(store.add(passkey({ credentialId: first.credentialId }))).resolves.toBe('exists');
    await expect(store.add(passkey({ userId: bob.id, credentialId: first.credentialId }))).resolves.toBe('exists');
    await expect(store.count(bob.id)).resolves.toBe(0);
  });

  it('renames and removes only the owner’s passkey', async () => {
    const p = passkey();
    await store.add(p);
    await expect(store.rename(bob.id, p.id, 'Stolen')).resolves.toBe(false);
    await expect(store.remove(bob.id, p.id)).resolves.toBe(false);
    await expect(store.rename(ada.id, p.id, 'Phone')).resolves.toBe(true);
    await expect(store.byCredentialId(p.credentialId)).resolves.toMatchObject({ name: 'Phone' });
    await expect(store.remove(ada.id, p.id)).resolves.toBe(true);
    await expect(store.remove(ada.id, p.id)).resolves.toBe(false);
    await expect(store.rename(ada.id, p.id, 'x')).resolves.toBe(false);
    await expect(store.byCredentialId(p.credentialId)).resolves.toBeUndefined();
  });

  it('moves a counter only forward; a counter that stands still or goes back is refused', async () => {
    const p = passkey({ signCount: 5 });
    await store.add(p);
    await expect(store.recordUse(p.id, { signCount: 5, backedUp: true, now: NOW })).resolves.toBe(false);
    await expect(store.recordUse(p.id, { signCount: 4, backedUp: true, now: NOW })).resolves.toBe(false);
    await expect(store.recordUse(p.id, { signCount: 0, backedUp: true, now: NOW })).resolves.toBe(false);
    await expect(store.recordUse(p.id, { signCount: 6, backedUp: false, now: NOW + MINUTE })).resolves.toBe(true);
    await expect(store.byCredentialId(p.credentialId)).resolves.toMatchObject({ signCount: 6, backedUp: false, lastUsedAt: NOW + MINUTE });
    // 2^32 - 1, the largest counter an authenticator can send, fits.
    await expect(store.recordUse(p.id, { signCount: 4_294_967_295, backedUp: false, now: NOW })).resolves.toBe(true);
    await expect(store.byCredentialId(p.credentialId)).resolves.toMatchObject({ signCount: 4_294_967_295 });
  });

  it('accepts 0 after 0 (an authenticator without a counter), and lets one of concurrent uses of one counter win', async () => {
    const zero = passkey();
    await store.add(zero);
    await expect(store.recordUse(zero.id, { signCount: 0, backedUp: true, now: NOW })).resolves.toBe(true);
    await expect(store.recordUse(zero.id, { signCount: 0, backedUp: true, now: NOW })).resolves.toBe(true);
    const counted = passkey({ signCount: 1 });
    await store.add(counted);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.recordUse(counted.id, { signCount: 2, backedUp: true, now: NOW })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  // The foreign key's cascade: the memory stores are separate maps and have no such link.
  (kind === 'memory' ? it.skip : it)('deletes the passkeys with their account', async () => {
    const p = passkey();
    await store.add(p);
    await users.discardNew(ada.id, ada.version);
    await expect(store.byCredentialId(p.credentialId)).resolves.toBeUndefined();
  });

  it('hands a challenge out once, for its purpose only, until it expires', async () => {
    const c = challenge();
    await store.issueChallenge(c);
    await expect(store.takeChallenge(c.challengeHash, 'login', NOW)).resolves.toBeUndefined();
    await expect(store.takeChallenge(c.challengeHash, 'register', NOW + MINUTE)).resolves.toEqual({ purpose: 'register', userId: ada.id, binding: 'user-binding' });
    await expect(store.takeChallenge(c.challengeHash, 'register', NOW + MINUTE)).resolves.toBeUndefined();
    const anonymous = challenge({ purpose: 'login', userId: undefined, binding: 'client-hash' });
    await store.issueChallenge(anonymous);
    await expect(store.takeChallenge(anonymous.challengeHash, 'login', anonymous.expiresAt)).resolves.toBeUndefined();
  });

  it('lets one of concurrent takes of a challenge win, and deletes expired challenges when a new one is issued', async () => {
    const c = challenge({ purpose: 'login', userId: undefined, binding: 'client' });
    await store.issueChallenge(c);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.takeChallenge(c.challengeHash, 'login', NOW)));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const old = challenge({ expiresAt: NOW + MINUTE });
    await store.issueChallenge(old);
    await store.issueChallenge(challenge({ createdAt: NOW + 2 * MINUTE, expiresAt: NOW + 7 * MINUTE }));
    await expect(store.takeChallenge(old.challengeHash, 'register', NOW)).resolves.toBeUndefined();
  });
});
