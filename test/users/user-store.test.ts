import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedisClient } from '../../src/redis/connect';
import { redisKeys } from '../../src/sessions/redis-keys';
import { MemoryUserStore } from '../../src/users/memory-store';
import { RedisUserStore } from '../../src/users/redis-store';
import type { User, UserStore } from '../../src/users/types';
import { testRedisUrl } from '../support/test-app';

const user = (overrides: Partial<User> = {}): User => ({
  id: randomBytes(16).toString('base64url'),
  email: `u${randomBytes(4).toString('hex')}@example.com`,
  name: 'Ada',
  passwordHash: '$2b$04$abcdefghijklmnopqrstuu5cJ0iNnX9mJq2mJ7vK8qQK3H4b6G1Ka',
  permissions: ['read:profile'],
  disabled: false,
  createdAt: 1_000,
  updatedAt: 1_000,
  ...overrides,
});

/** The behaviour both user stores share. */
describe.each(['memory', 'redis'] as const)('%s user store', (kind) => {
  let store: UserStore;
  let redis: Redis | undefined;

  beforeEach(async () => {
    if (kind === 'memory') {
      store = new MemoryUserStore();
      return;
    }
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await new Promise<void>((resolve) => redis!.once('ready', () => { resolve(); }));
    store = new RedisUserStore(redis, redisKeys(`t${randomBytes(4).toString('hex')}:`));
  });
  afterEach(async () => {
    await redis?.quit();
    redis = undefined;
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

  it('answers undefined for unknown ids and emails', async () => {
    await expect(store.get('nobody')).resolves.toBeUndefined();
    await expect(store.findByEmail('nobody@example.com')).resolves.toBeUndefined();
    await expect(store.update('nobody', { disabled: true }, 2_000)).resolves.toBeUndefined();
  });

  it('updates permissions, the disabled flag, the password hash and the time', async () => {
    const ada = user();
    await store.create(ada);
    const updated = await store.update(ada.id, { permissions: ['admin:access'], disabled: true, passwordHash: 'new-hash' }, 2_000);
    expect(updated).toMatchObject({ permissions: ['admin:access'], disabled: true, passwordHash: 'new-hash', updatedAt: 2_000, createdAt: 1_000 });
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
