import type { AccountsDatabase } from '../../src/accounts/database';
import { secretMatches } from '../../src/accounts/client-secret';
import { SqlClientStore } from '../../src/accounts/sql-client-store';
import { ClientAdministration } from '../../src/auth/client-admin';
import { openTestDatabase } from '../support/accounts';

describe('ClientAdministration', () => {
  let database: AccountsDatabase;
  let admin: ClientAdministration;
  const now = Date.UTC(2026, 0, 1);

  beforeEach(async () => {
    database = await openTestDatabase('postgres');
    admin = new ClientAdministration(new SqlClientStore(database.db));
  });

  afterEach(async () => {
    await database.close();
  });

  it('refuses a taken id, a taken audience, a malformed id, scope or audience, naming each', async () => {
    await admin.add({ id: 'orders', audience: 'https://orders.example.com', scopes: [] }, now);
    const cases: [Parameters<ClientAdministration['add']>[0], string, RegExp][] = [
      [{ id: 'orders', audience: 'https://other.example.com', scopes: [] }, 'conflict', /^a client with id orders already exists$/],
      [{ id: 'shop', audience: 'https://orders.example.com', scopes: [] }, 'conflict', /^another client already has the audience https:\/\/orders\.example\.com$/],
      [{ id: 'Orders!', audience: 'https://x.example.com', scopes: [] }, 'invalid', /^client id "Orders!": expected/],
      [{ id: 'x', audience: 'ftp://x.example.com', scopes: [] }, 'invalid', /^audience "ftp:\/\/x\.example\.com": expected/],
      [{ id: 'x', audience: 'https://user:pw@x.example.com', scopes: [] }, 'invalid', /without credentials or fragment$/],
      [{ id: 'x', audience: 'https://x.example.com', scopes: ['read orders'] }, 'invalid', /^scope "read orders": expected/],
    ];
    for (const [input, reason, message] of cases) {
      await expect(admin.add(input, now)).rejects.toMatchObject({ reason, message: expect.stringMatching(message) });
    }
    expect(await admin.list()).toHaveLength(1);
  });

  it('keeps the previous secret valid until the deadline, then allows the next rotation', async () => {
    const { secret: first } = await admin.add({ id: 'orders', audience: 'https://orders.example.com', scopes: [] }, now);
    const { client, secret: second } = await admin.rotateSecret('orders', 600, now);
    expect(client.previousSecretExpiresAt).toBe(now + 600_000);
    expect(secretMatches(first, client.previousSecretHash ?? '')).toBe(true);
    expect(secretMatches(second, client.secretHash)).toBe(true);
    await expect(admin.rotateSecret('orders', 600, now + 599_000)).rejects.toMatchObject({ reason: 'conflict' });
    const { client: next } = await admin.rotateSecret('orders', 0, now + 600_000);
    expect(secretMatches(second, next.previousSecretHash ?? '')).toBe(true);
    await expect(admin.rotateSecret('nobody', 60, now)).rejects.toMatchObject({ reason: 'missing' });
    await expect(admin.rotateSecret('orders', -1, now)).rejects.toMatchObject({ reason: 'invalid' });
  });
});
