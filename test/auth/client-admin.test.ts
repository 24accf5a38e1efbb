import type { AccountsDatabase } from '../../src/accounts/database';
import { secretMatches } from '../../src/accounts/client-secret';
import { SqlClientStore } from '../../src/accounts/sql-client-store';
import type { AuditEvent } from '../../src/auth/audit';
import { ClientAdministration } from '../../src/auth/client-admin';
import { openTestDatabase } from '../support/accounts';

const SERVER_AUDIENCE = 'https://auth.example.com';

describe('ClientAdministration', () => {
  let database: AccountsDatabase;
  let admin: ClientAdministration;
  let audits: AuditEvent[];
  let changes: number;
  const now = Date.UTC(2026, 0, 1);

  beforeEach(async () => {
    database = await openTestDatabase('postgres');
    audits = [];
    changes = 0;
    admin = new ClientAdministration({
      clients: new SqlClientStore(database.db),
      serverAudience: SERVER_AUDIENCE,
      audit: (event) => audits.push(event),
      onChange: () => {
        changes++;
        return Promise.resolve();
      },
    });
  });

  afterEach(async () => {
    await database.close();
  });

  it('refuses a taken id, a taken audience, a malformed id, scope or audience, naming each', async () => {
    await admin.add('root', { id: 'orders', audience: 'https://orders.example.com', scopes: [] }, now);
    const cases: [Parameters<ClientAdministration['add']>[1], string, RegExp][] = [
      [{ id: 'orders', audience: 'https://other.example.com', scopes: [] }, 'client_id_taken', /^a client with id orders already exists$/],
      [{ id: 'shop', audience: 'https://orders.example.com', scopes: [] }, 'audience_taken', /^another client already has the audience https:\/\/orders\.example\.com$/],
      [{ id: 'Orders!', audience: 'https://x.example.com', scopes: [] }, 'client_invalid', /^`id` must be 1 to 64 lower-case letters.*\(got "Orders!"\)$/],
      [{ id: '', audience: 'https://x.example.com', scopes: [] }, 'client_invalid', /^`id` must be/],
      [{ id: 'x', audience: 'ftp://x.example.com', scopes: [] }, 'client_invalid', /^`audience` must be an absolute http\(s\) URL/],
      [{ id: 'x', audience: 'not a url', scopes: [] }, 'client_invalid', /^`audience` must be an absolute http\(s\) URL/],
      [{ id: 'x', audience: 'https://user:pw@x.example.com', scopes: [] }, 'client_invalid', /without credentials or fragment/],
      [{ id: 'x', audience: `https://x.example.com/${'a'.repeat(250)}`, scopes: [] }, 'client_invalid', /at most 256 characters/],
      [{ id: 'x', audience: 'https://x.example.com', scopes: ['ok', 'read orders'] }, 'client_invalid', /^`scopes\.1` must be 1 to 128 printable ASCII/],
      [{ id: 'x', audience: 'https://x.example.com', scopes: Array.from({ length: 101 }, (_, i) => `s${i}`) }, 'client_invalid', /^`scopes` must hold at most 100 scopes$/],
    ];
    for (const [input, code, message] of cases) {
      await expect(admin.add('root', input, now)).rejects.toMatchObject({ code, message: expect.stringMatching(message) as string });
    }
    expect(await admin.list('root')).toHaveLength(1);
    expect(changes).toBe(1);
    expect(audits.filter((event) => event.event === 'admin.action' && event.outcome === 'invalid')).toHaveLength(8);
    expect(audits).toContainEqual({ event: 'admin.action', action: 'client.create', actor: 'root', target: 'orders', outcome: 'id_taken' });
  });

  it('refuses this server’s own audience (JTS_AUDIENCE) in any spelling of the URL: its tokens would pass as users’ BearerPasses here', async () => {
    for (const audience of [SERVER_AUDIENCE, `${SERVER_AUDIENCE}/`, 'HTTPS://Auth.Example.com', 'https://auth.example.com:443/']) {
      await expect(admin.add('cli', { id: 'api', audience, scopes: [] }, now)).rejects.toMatchObject({
        code: 'client_invalid',
        message: "`audience` must not be this server's own audience (JTS_AUDIENCE https://auth.example.com): tokens for it would pass as users' BearerPasses on this server's API",
      });
    }
    expect(await admin.list('cli')).toEqual([]);
    // Another path on the same host is another audience.
    await expect(admin.add('cli', { id: 'sub', audience: `${SERVER_AUDIENCE}/orders`, scopes: [] }, now)).resolves.toMatchObject({ client: { audience: `${SERVER_AUDIENCE}/orders` } });
  });

  it('keeps the previous secret valid until the deadline, then allows the next rotation', async () => {
    const { secret: first } = await admin.add('cli', { id: 'orders', audience: 'https://orders.example.com', scopes: [] }, now);
    const { client, secret: second } = await admin.rotateSecret('cli', 'orders', 600, now);
    expect(client.previousSecretExpiresAt).toBe(now + 600_000);
    expect(secretMatches(first, client.previousSecretHash ?? '')).toBe(true);
    expect(secretMatches(second, client.secretHash)).toBe(true);
    await expect(admin.rotateSecret('cli', 'orders', 600, now + 599_000)).rejects.toMatchObject({ code: 'rotation_open' });
    const { client: next } = await admin.rotateSecret('cli', 'orders', 0, now + 600_000);
    expect(secretMatches(second, next.previousSecretHash ?? '')).toBe(true);
    await expect(admin.rotateSecret('cli', 'nobody', 60, now)).rejects.toMatchObject({ code: 'client_not_found' });
    await expect(admin.rotateSecret('cli', 'orders', -1, now)).rejects.toMatchObject({ code: 'client_invalid', message: /^`graceSeconds` must be a whole number/ });
    await expect(admin.rotateSecret('cli', 'orders', 1.5, now)).rejects.toMatchObject({ code: 'client_invalid' });
  });

  it('deletes a client once; a second delete and a read of it are client_not_found', async () => {
    await admin.add('cli', { id: 'orders', audience: 'https://orders.example.com', scopes: [] }, now);
    await admin.delete('cli', 'orders');
    await expect(admin.delete('cli', 'orders')).rejects.toMatchObject({ code: 'client_not_found', status: 404 });
    await expect(admin.get('cli', 'orders')).rejects.toMatchObject({ code: 'client_not_found' });
    // The audience is free again.
    await admin.add('cli', { id: 'orders2', audience: 'https://orders.example.com', scopes: [] }, now);
    expect(audits).toContainEqual({ event: 'admin.action', action: 'client.delete', actor: 'cli', target: 'orders', outcome: 'ok' });
  });

  it('refuses every call of an actor whose account does not hold admin:clients now', async () => {
    const withAccounts = new ClientAdministration({
      clients: new SqlClientStore(database.db),
      serverAudience: SERVER_AUDIENCE,
      audit: (event) => audits.push(event),
      accounts: { get: (id) => Promise.resolve(id === 'boss' ? ({ disabled: false, permissions: ['admin:clients'] } as never) : undefined) },
    });
    await expect(withAccounts.authorize('boss', 'clients.list')).resolves.toBeUndefined();
    await expect(withAccounts.authorize('someone', 'clients.list')).rejects.toMatchObject({ code: 'JTS-403-02' });
    // Without an account store (the CLI's service) nobody is authorised: it fails closed.
    await expect(admin.authorize('boss', 'clients.list')).rejects.toMatchObject({ code: 'JTS-403-02' });
  });
});
