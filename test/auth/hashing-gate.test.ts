import request from 'supertest';
import { AuthError } from '../../src/auth/errors';
import type { AuditEvent } from '../../src/auth/audit';
import { boundedHasher } from '../../src/auth/hashing-gate';
import type { PasswordHasher } from '../../src/users/password';
import { CSRF } from '../support/http';
import { buildTestApp, createUser } from '../support/test-app';

/** A hasher whose every call waits until the test lets it finish. */
function heldHasher() {
  const waiting: (() => void)[] = [];
  const held = () => new Promise<void>((resolve) => waiting.push(resolve));
  const hasher: PasswordHasher = {
    hash: async () => {
      await held();
      return 'hash';
    },
    verify: async () => {
      await held();
      return 'match';
    },
  };
  return { hasher, releaseAll: () => { waiting.splice(0).forEach((resolve) => { resolve(); }); }, waiting: () => waiting.length };
}

describe('boundedHasher', () => {
  it('answers hashing_busy (503, retry_after 1) past the bound, at once, and frees a slot when a hash ends', async () => {
    const inner = heldHasher();
    const hasher = boundedHasher(inner.hasher, 2);
    const first = hasher.verify('a', 'h');
    const second = hasher.hash('b');
    const third = hasher.verify('c', undefined);
    await expect(third).rejects.toBeInstanceOf(AuthError);
    await expect(third).rejects.toMatchObject({ code: 'hashing_busy', status: 503, key: 'service_unavailable', retryAfter: 1 });
    expect(inner.waiting()).toBe(2);
    inner.releaseAll();
    await expect(first).resolves.toBe('match');
    await expect(second).resolves.toBe('hash');
    const fourth = hasher.verify('d', 'h');
    await new Promise((resolve) => setImmediate(resolve));
    expect(inner.waiting()).toBe(1);
    inner.releaseAll();
    await expect(fourth).resolves.toBe('match');
  });

  it('audits each refusal as hashing.busy with the number of slots', async () => {
    const inner = heldHasher();
    const audits: AuditEvent[] = [];
    const hasher = boundedHasher(inner.hasher, 1, (event) => audits.push(event));
    const first = hasher.verify('a', 'h');
    await expect(hasher.hash('b')).rejects.toMatchObject({ code: 'hashing_busy' });
    await expect(hasher.verify('c', undefined)).rejects.toMatchObject({ code: 'hashing_busy' });
    expect(audits).toEqual([{ event: 'hashing.busy', slots: 1 }, { event: 'hashing.busy', slots: 1 }]);
    inner.releaseAll();
    await first;
  });

  it('frees the slot of a hash that failed', async () => {
    const failing: PasswordHasher = { hash: () => Promise.reject(new Error('boom')), verify: () => Promise.reject(new Error('boom')) };
    const hasher = boundedHasher(failing, 1);
    await expect(hasher.verify('a', 'h')).rejects.toThrow('boom');
    await expect(hasher.verify('a', 'h')).rejects.toThrow('boom');
  });

  it('refuses a bound below one slot', () => {
    expect(() => boundedHasher(heldHasher().hasher, 0)).toThrow();
  });
});

describe('a login flood past BCRYPT_MAX_PENDING', () => {
  it('answers the logins past the bound with 503 service_unavailable and retry_after, and the others normally', async () => {
    const t = await buildTestApp({ env: { BCRYPT_MAX_PENDING: '2', BCRYPT_ROUNDS: '8' } });
    const user = await createUser(t);
    const answers = await Promise.all(Array.from({ length: 8 }, () => request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password })));
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
    const busy = answers.filter((res) => res.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const res of busy) {
      expect(res.body).toMatchObject({ error: 'service_unavailable', action: 'retry', retry_after: 1 });
      expect(res.headers['retry-after']).toBe('1');
    }
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
  });
});
