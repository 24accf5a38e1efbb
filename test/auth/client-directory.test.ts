import { generateClientSecret, hashClientSecret } from '../../src/accounts/client-secret';
import type { ServiceClient } from '../../src/accounts/sql-client-store';
import { ClientDirectory } from '../../src/auth/client-directory';
import { StoreError } from '../../src/redis/store-error';

const NOW = Date.UTC(2026, 0, 1);

function client(id: string, secret: string, extra: Partial<ServiceClient> = {}): ServiceClient {
  return { id, secretHash: hashClientSecret(secret), previousSecretHash: undefined, previousSecretExpiresAt: undefined, scopes: [], audience: `https://${id}.example.com`, disabled: false, createdAt: NOW, updatedAt: NOW, ...extra };
}

function directory(load: () => Promise<ServiceClient[]>, now = () => NOW): ClientDirectory {
  return new ClientDirectory({ load, refreshMs: 60_000, maxStaleMs: 60_000, now, onRefreshError: () => undefined });
}

describe('ClientDirectory', () => {
  it('answers 503, never "unknown client", before the clients were ever read', () => {
    const clients = directory(() => Promise.resolve([]));
    expect(() => clients.authenticate('orders', 'x')).toThrow(StoreError);
  });

  it('tells an unknown client, a wrong secret, a disabled client and a valid one apart (for the audit only)', async () => {
    const secret = generateClientSecret();
    const clients = directory(() => Promise.resolve([client('orders', secret), client('off', secret, { disabled: true })]));
    await clients.refresh();
    expect(clients.authenticate('nobody', secret)).toEqual({ ok: false, reason: 'unknown_client' });
    expect(clients.authenticate('orders', generateClientSecret())).toEqual({ ok: false, reason: 'wrong_secret' });
    expect(clients.authenticate('off', secret)).toEqual({ ok: false, reason: 'disabled' });
    expect(clients.authenticate('orders', secret)).toMatchObject({ ok: true, client: { id: 'orders' } });
    expect(clients.findByAudience('https://off.example.com')).toBeUndefined();
    expect(clients.findByAudience('https://orders.example.com')).toMatchObject({ id: 'orders' });
  });

  it('accepts the previous secret of a rotation only until its deadline', async () => {
    const [current, previous] = [generateClientSecret(), generateClientSecret()];
    let now = NOW;
    const clients = directory(() => Promise.resolve([client('orders', current, { previousSecretHash: hashClientSecret(previous), previousSecretExpiresAt: NOW + 1000 })]), () => now);
    await clients.refresh();
    expect(clients.authenticate('orders', previous).ok).toBe(true);
    now = NOW + 1000;
    expect(clients.authenticate('orders', previous)).toEqual({ ok: false, reason: 'wrong_secret' });
    expect(clients.authenticate('orders', current).ok).toBe(true);
  });

  it('keeps the last clients read when a reload fails', async () => {
    const secret = generateClientSecret();
    let fail = false;
    const clients = directory(() => (fail ? Promise.reject(new Error('database down')) : Promise.resolve([client('orders', secret)])));
    await clients.refresh();
    fail = true;
    await expect(clients.refresh()).rejects.toThrow('database down');
    expect(clients.authenticate('orders', secret).ok).toBe(true);
  });
});
