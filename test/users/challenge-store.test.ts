import { randomBytes } from 'node:crypto';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlChallengeStore } from '../../src/accounts/sql-challenge-store';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import { hashCode, hashToken, newToken } from '../../src/auth/challenge-secrets';
import type { ChallengePurpose, ChallengeStore, NewChallenge } from '../../src/users/challenges';
import { MemoryChallengeStore } from '../../src/users/memory-challenges';
import { MemoryUserStore } from '../../src/users/memory-store';
import { newUser } from '../../src/users/new-user';
import type { User, UserStore } from '../../src/users/types';
import { openTestDatabase } from '../support/accounts';

const NOW = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const KEY = randomBytes(32);

/** The contract every challenge store keeps: real PostgreSQL, PGlite, and the memory store. */
describe.each(['postgres', 'pglite', 'memory'] as const)('%s challenge store', (kind) => {
  let users: UserStore;
  let store: ChallengeStore;
  let database: AccountsDatabase | undefined;
  let ada: User;

  beforeEach(async () => {
    if (kind === 'memory') {
      users = new MemoryUserStore();
      store = new MemoryChallengeStore(users);
    } else {
      database = await openTestDatabase(kind);
      users = new SqlUserStore(database.db);
      store = new SqlChallengeStore(database.db);
    }
    ada = newUser({ email: `ada${randomBytes(3).toString('hex')}@example.com`, name: 'Ada', passwordHash: 'h1', permissions: [] }, NOW);
    await users.create(ada);
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  async function issueToken(purpose: ChallengePurpose, overrides: Partial<NewChallenge> = {}): Promise<string> {
    const token = newToken();
    await store.issue({ id: randomBytes(16).toString('base64url'), userId: ada.id, purpose, secretHash: hashToken(token), credentialEpoch: ada.credentialEpoch, maxAttempts: 1, createdAt: NOW, expiresAt: NOW + 30 * MINUTE, ...overrides });
    return token;
  }

  async function issueCode(code: string, overrides: Partial<NewChallenge> = {}): Promise<string> {
    const id = randomBytes(16).toString('base64url');
    await store.issue({ id, userId: ada.id, purpose: 'sign-in-code', secretHash: hashCode(KEY, id, code), credentialEpoch: ada.credentialEpoch, maxAttempts: 3, createdAt: NOW, expiresAt: NOW + 10 * MINUTE, ...overrides });
    return id;
  }

  it('consumes a token once: the second use is "used"', async () => {
    const token = await issueToken('reset-password');
    await expect(store.inspectToken(hashToken(token), 'reset-password', NOW + MINUTE)).resolves.toEqual({ outcome: 'consumed', userId: ada.id, credentialEpoch: 0 });
    await expect(store.consumeToken(hashToken(token), 'reset-password', NOW + MINUTE)).resolves.toEqual({ outcome: 'consumed', userId: ada.id, credentialEpoch: 0 });
    await expect(store.consumeToken(hashToken(token), 'reset-password', NOW + MINUTE)).resolves.toEqual({ outcome: 'used' });
  });

  it('refuses an unknown token, and a token of another purpose, as "invalid"', async () => {
    const token = await issueToken('verify-email');
    await expect(store.consumeToken(hashToken(newToken()), 'verify-email', NOW)).resolves.toEqual({ outcome: 'invalid' });
    await expect(store.consumeToken(hashToken(token), 'reset-password', NOW)).resolves.toEqual({ outcome: 'invalid' });
    // The wrong-purpose attempt did not spend it.
    await expect(store.consumeToken(hashToken(token), 'verify-email', NOW)).resolves.toMatchObject({ outcome: 'consumed' });
  });

  it('keeps every notice token (not-me) live beside the next one, each single-use, while a new reset link replaces the old', async () => {
    const first = await issueToken('not-me');
    const second = await issueToken('not-me', { createdAt: NOW + MINUTE });
    const oldReset = await issueToken('reset-password');
    await issueToken('reset-password', { createdAt: NOW + MINUTE });
    await expect(store.consumeToken(hashToken(oldReset), 'reset-password', NOW + 2 * MINUTE)).resolves.toEqual({ outcome: 'used' });
    await expect(store.consumeToken(hashToken(first), 'not-me', NOW + 2 * MINUTE)).resolves.toMatchObject({ outcome: 'consumed' });
    await expect(store.consumeToken(hashToken(second), 'not-me', NOW + 2 * MINUTE)).resolves.toMatchObject({ outcome: 'consumed' });
    await expect(store.consumeToken(hashToken(first), 'not-me', NOW + 2 * MINUTE)).resolves.toEqual({ outcome: 'used' });
  });

  it('lets a notice token (not-me) outlive a password change, which voids a reset link', async () => {
    const notMe = await issueToken('not-me');
    const reset = await issueToken('reset-password');
    await users.update(ada.id, { passwordHash: 'h2' }, NOW + 1);
    await expect(store.inspectToken(hashToken(reset), 'reset-password', NOW + MINUTE)).resolves.toEqual({ outcome: 'voided' });
    await expect(store.inspectToken(hashToken(notMe), 'not-me', NOW + MINUTE)).resolves.toMatchObject({ outcome: 'consumed', userId: ada.id });
    await expect(store.consumeToken(hashToken(notMe), 'not-me', NOW + MINUTE)).resolves.toMatchObject({ outcome: 'consumed', userId: ada.id });
  });

  it('answers the address a challenge is bound to, and none for one without', async () => {
    const change = await issueToken('email-change', { email: 'ada.new@example.com' });
    const reset = await issueToken('reset-password');
    await expect(store.inspectToken(hashToken(change), 'email-change', NOW)).resolves.toEqual({ outcome: 'consumed', userId: ada.id, credentialEpoch: 0, email: 'ada.new@example.com' });
    await expect(store.consumeToken(hashToken(change), 'email-change', NOW)).resolves.toEqual({ outcome: 'consumed', userId: ada.id, credentialEpoch: 0, email: 'ada.new@example.com' });
    await expect(store.consumeToken(hashToken(reset), 'reset-password', NOW)).resolves.toEqual({ outcome: 'consumed', userId: ada.id, credentialEpoch: 0 });
  });

  it('ends every outstanding link and code of the user at once, but not notice tokens nor other users\' challenges', async () => {
    const reset = await issueToken('reset-password');
    const verify = await issueToken('verify-email');
    const change = await issueToken('email-change', { email: 'x@example.com' });
    const notMe = await issueToken('not-me');
    await issueCode('123456');
    const bob = newUser({ email: `bob${randomBytes(3).toString('hex')}@example.com`, name: 'Bob', passwordHash: 'h1', permissions: [] }, NOW);
    await users.create(bob);
    const bobs = newToken();
    await store.issue({ id: randomBytes(16).toString('base64url'), userId: bob.id, purpose: 'reset-password', secretHash: hashToken(bobs), credentialEpoch: 0, maxAttempts: 1, createdAt: NOW, expiresAt: NOW + 30 * MINUTE });

    await expect(store.endOutstanding(ada.id, NOW + MINUTE)).resolves.toBe(4);
    for (const [token, purpose] of [[reset, 'reset-password'], [verify, 'verify-email'], [change, 'email-change']] as const) {
      await expect(store.consumeToken(hashToken(token), purpose, NOW + MINUTE)).resolves.toEqual({ outcome: 'used' });
    }
    await expect(store.liveCode(ada.id, 'sign-in-code', NOW + MINUTE)).resolves.toBeUndefined();
    await expect(store.consumeToken(hashToken(notMe), 'not-me', NOW + MINUTE)).resolves.toMatchObject({ outcome: 'consumed' });
    await expect(store.consumeToken(hashToken(bobs), 'reset-password', NOW + MINUTE)).resolves.toMatchObject({ outcome: 'consumed' });
  });

  it('refuses a token from its expiry instant on as "expired"', async () => {
    const token = await issueToken('reset-password');
    await expect(store.consumeToken(hashToken(token), 'reset-password', NOW + 30 * MINUTE)).resolves.toEqual({ outcome: 'expired' });
  });

  it('voids a token when the credential epoch moved on (a password change)', async () => {
    const token = await issueToken('reset-password');
    await users.update(ada.id, { passwordHash: 'h2' }, NOW + 1);
    await expect(store.inspectToken(hashToken(token), 'reset-password', NOW + 2)).resolves.toEqual({ outcome: 'voided' });
    await expect(store.consumeToken(hashToken(token), 'reset-password', NOW + 2)).resolves.toEqual({ outcome: 'voided' });
  });

  it('keeps only the latest challenge of a user and purpose alive', async () => {
    const first = await issueToken('reset-password');
    const verify = await issueToken('verify-email');
    const second = await issueToken('reset-password', { createdAt: NOW + 1 });
    await expect(store.consumeToken(hashToken(first), 'reset-password', NOW + 2)).resolves.toEqual({ outcome: 'used' });
    await expect(store.consumeToken(hashToken(second), 'reset-password', NOW + 2)).resolves.toMatchObject({ outcome: 'consumed' });
    await expect(store.consumeToken(hashToken(verify), 'verify-email', NOW + 2)).resolves.toMatchObject({ outcome: 'consumed' });
  });

  it('gives exactly one of many concurrent uses of a token the challenge', async () => {
    const token = await issueToken('reset-password');
    const uses = await Promise.all(Array.from({ length: 8 }, () => store.consumeToken(hashToken(token), 'reset-password', NOW + 1)));
    expect(uses.filter((use) => use.outcome === 'consumed')).toHaveLength(1);
    expect(uses.filter((use) => use.outcome === 'used')).toHaveLength(7);
  });

  it('counts wrong codes down and kills the code at its attempt limit, even for the right code', async () => {
    const id = await issueCode('123456');
    await expect(store.liveCode(ada.id, 'sign-in-code', NOW)).resolves.toEqual({ id });
    await expect(store.useCode(id, hashCode(KEY, id, '000000'), NOW)).resolves.toEqual({ outcome: 'wrong', attemptsLeft: 2 });
    await expect(store.useCode(id, hashCode(KEY, id, '000001'), NOW)).resolves.toEqual({ outcome: 'wrong', attemptsLeft: 1 });
    await expect(store.useCode(id, hashCode(KEY, id, '000002'), NOW)).resolves.toEqual({ outcome: 'wrong', attemptsLeft: 0 });
    await expect(store.useCode(id, hashCode(KEY, id, '123456'), NOW)).resolves.toEqual({ outcome: 'none' });
    await expect(store.liveCode(ada.id, 'sign-in-code', NOW)).resolves.toBeUndefined();
  });

  it('consumes the right code once, and not after it expired', async () => {
    const id = await issueCode('654321');
    await expect(store.useCode(id, hashCode(KEY, id, '654321'), NOW + MINUTE)).resolves.toEqual({ outcome: 'consumed', userId: ada.id });
    await expect(store.useCode(id, hashCode(KEY, id, '654321'), NOW + MINUTE)).resolves.toEqual({ outcome: 'none' });
    const late = await issueCode('111111', { createdAt: NOW + 1 });
    await expect(store.liveCode(ada.id, 'sign-in-code', NOW + 11 * MINUTE)).resolves.toBeUndefined();
    await expect(store.useCode(late, hashCode(KEY, late, '111111'), NOW + 11 * MINUTE)).resolves.toEqual({ outcome: 'none' });
  });

  it('gives exactly one of many concurrent right codes the sign-in', async () => {
    const id = await issueCode('424242', { maxAttempts: 10 });
    const uses = await Promise.all(Array.from({ length: 8 }, () => store.useCode(id, hashCode(KEY, id, '424242'), NOW + 1)));
    expect(uses.filter((use) => use.outcome === 'consumed')).toHaveLength(1);
    expect(uses.filter((use) => use.outcome === 'none')).toHaveLength(7);
  });

  it('stores no secret: only its hash', async () => {
    if (database === undefined) return;
    const token = await issueToken('verify-email');
    const rows = await database.db.selectFrom('challenges').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows.map((row) => row.secret_hash)).toEqual([hashToken(token)]);
  });
});
