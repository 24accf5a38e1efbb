import type { Logger } from 'pino';
import { ID_PATTERN } from '../../src/jts/state-proof';
import { DEMO_USERS, seedDemoUsers } from '../../src/users/demo-users';
import { MemoryUserStore } from '../../src/users/memory-store';
import { newUser } from '../../src/users/new-user';
import type { PasswordHasher } from '../../src/users/password';

const NOW = Date.UTC(2026, 0, 1);
const input = { email: 'ada@example.com', name: 'Ada', passwordHash: '$2b$04$hash', permissions: ['read:profile'] };

describe('newUser', () => {
  it('builds an enabled account created and updated now, with a fresh id of the server’s id shape', () => {
    const user = newUser(input, NOW);
    expect(user).toEqual({ id: expect.any(String), ...input, disabled: false, credentialEpoch: 0, version: 1, emailVerified: false, mfaRequired: false, createdAt: NOW, updatedAt: NOW });
    expect(user.id).toMatch(ID_PATTERN);
    expect(newUser(input, NOW).id).not.toBe(user.id);
  });

  it('normalises the email and trims the name', () => {
    const user = newUser({ ...input, email: '  Ada@Example.COM ', name: '\tAda Lovelace  ' }, NOW);
    expect(user.email).toBe('ada@example.com');
    expect(user.name).toBe('Ada Lovelace');
  });

  it('copies the permissions, so the caller’s array and the record never share changes', () => {
    const permissions = ['read:profile'];
    const user = newUser({ ...input, permissions }, NOW);
    permissions.push('admin:access');
    expect(user.permissions).toEqual(['read:profile']);
  });
});

describe('seedDemoUsers', () => {
  const hasher: PasswordHasher = { hash: (password) => Promise.resolve(`hashed:${password}`), verify: () => Promise.resolve('mismatch' as const) };

  it('creates each demo account once, through the factory, and warns about its well-known password', async () => {
    const users = new MemoryUserStore();
    const warn = jest.fn();
    const logger = { warn } as unknown as Logger;
    await seedDemoUsers(users, hasher, { now: NOW, logger });
    await seedDemoUsers(users, hasher, { now: NOW + 1, logger });

    const stored = await users.list();
    expect(stored).toHaveLength(DEMO_USERS.length);
    for (const demo of DEMO_USERS) {
      await expect(users.findByEmail(demo.email)).resolves.toEqual({
        id: expect.stringMatching(ID_PATTERN),
        email: demo.email,
        name: demo.name,
        passwordHash: `hashed:${demo.password}`,
        permissions: [...demo.permissions],
        disabled: false,
        credentialEpoch: 0,
        version: 1,
        emailVerified: false,
        mfaRequired: false,
        createdAt: NOW,
        updatedAt: NOW,
      });
    }
    expect(warn).toHaveBeenCalledTimes(DEMO_USERS.length);
  });
});
