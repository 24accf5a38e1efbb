import type { RedisClient } from '../redis/connect.js';
import { guardStore } from '../redis/guard.js';
import type { RedisKeys } from '../sessions/redis-keys.js';
import { normaliseEmail, type User, type UserPatch, type UserStore } from './types.js';

/** Users as Redis hashes in their own `{u:<id>}` slot, plus an email -> id pointer. */
export class RedisUserStore implements UserStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  create(user: User): Promise<'created' | 'email_taken'> {
    const email = normaliseEmail(user.email);
    return guardStore(async () => {
      // The email pointer is claimed first (SET NX) so two registrations can never share an email;
      // it and the user hash live in different slots, so this is two steps, undone on failure.
      const claimed = await this.redis.set(this.keys.email(email), user.id, 'NX');
      if (claimed !== 'OK') return 'email_taken';
      try {
        await this.redis.hset(this.keys.user(user.id), toHash({ ...user, email }));
        await this.redis.sadd(this.keys.allUsers(), user.id);
      } catch (error) {
        await this.redis.del(this.keys.email(email)).catch(() => undefined);
        throw error;
      }
      return 'created';
    });
  }

  get(id: string): Promise<User | undefined> {
    return guardStore(async () => fromHash(id, await this.redis.hgetall(this.keys.user(id))));
  }

  findByEmail(email: string): Promise<User | undefined> {
    return guardStore(async () => {
      const id = await this.redis.get(this.keys.email(normaliseEmail(email)));
      return id === null ? undefined : fromHash(id, await this.redis.hgetall(this.keys.user(id)));
    });
  }

  update(id: string, patch: UserPatch, now: number): Promise<User | undefined> {
    return guardStore(async () => {
      const key = this.keys.user(id);
      if ((await this.redis.exists(key)) === 0) return undefined;
      const fields: Record<string, string> = { updatedAt: String(now) };
      if (patch.name !== undefined) fields.name = patch.name;
      if (patch.passwordHash !== undefined) fields.passwordHash = patch.passwordHash;
      if (patch.permissions !== undefined) fields.permissions = encodePermissions(patch.permissions);
      if (patch.disabled !== undefined) fields.disabled = patch.disabled ? '1' : '0';
      await this.redis.hset(key, fields);
      return fromHash(id, await this.redis.hgetall(key));
    });
  }

  list(): Promise<User[]> {
    return guardStore(async () => {
      const ids = await this.redis.smembers(this.keys.allUsers());
      const users = await Promise.all(ids.map(async (id) => fromHash(id, await this.redis.hgetall(this.keys.user(id)))));
      return users.filter((user) => user !== undefined).sort((a, b) => a.createdAt - b.createdAt);
    });
  }
}

/**
 * As stored in the user hash. The rotate script (sessions/lua/rotate-4.lua) reads the hash's
 * permissions, disabled, email and passwordHash fields and compares the permissions byte for byte
 * with this encoding: a hash written by anything but this store makes every renewal take the
 * full path (still correct, only slower).
 */
export function encodePermissions(permissions: readonly string[]): string {
  return JSON.stringify(permissions);
}

function toHash(user: User): Record<string, string> {
  return {
    email: user.email,
    name: user.name,
    passwordHash: user.passwordHash,
    permissions: encodePermissions(user.permissions),
    disabled: user.disabled ? '1' : '0',
    createdAt: String(user.createdAt),
    updatedAt: String(user.updatedAt),
  };
}

function fromHash(id: string, hash: Record<string, string>): User | undefined {
  if (hash.email === undefined || hash.passwordHash === undefined) return undefined;
  return {
    id,
    email: hash.email,
    name: hash.name ?? '',
    passwordHash: hash.passwordHash,
    permissions: JSON.parse(hash.permissions ?? '[]') as string[],
    disabled: hash.disabled === '1',
    credentialEpoch: 0,
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt),
  };
}
