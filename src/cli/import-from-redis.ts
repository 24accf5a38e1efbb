import type { MirroredUserStore } from '../auth/mirrored-users.js';
import type { RedisClient } from '../redis/connect.js';
import type { redisKeys } from '../sessions/redis-keys.js';
import { normaliseEmail, type User } from '../users/types.js';

/**
 * `npm run user -- import-from-redis`: moving from 0.1, whose user records lived in Redis, to the
 * accounts database. Idempotent: users already there are skipped and counted.
 */

/** Fields of 0.1's user hash that are not part of the mirror. */
const LEGACY_ONLY_FIELDS = ['email', 'name', 'passwordHash', 'createdAt', 'updatedAt'] as const;

export interface ImportCounts {
  seen: number;
  imported: number;
  existing: number;
  conflicts: number;
  unreadable: number;
}

/** Copies 0.1's user hashes into the accounts database (and writes their mirrors), skipping what is there. */
export async function importFromRedis(redis: RedisClient, keys: ReturnType<typeof redisKeys>, users: MirroredUserStore, dryRun: boolean): Promise<ImportCounts> {
  const counts: ImportCounts = { seen: 0, imported: 0, existing: 0, conflicts: 0, unreadable: 0 };
  for (const id of await redis.smembers(keys.legacyUserIds())) {
    counts.seen += 1;
    if (await users.get(id)) {
      counts.existing += 1;
      continue;
    }
    const user = legacyUser(id, await redis.hgetall(keys.userMirror(id)));
    if (!user) {
      counts.unreadable += 1;
      continue;
    }
    const byEmail = await users.findByEmail(user.email);
    if (byEmail) {
      counts.conflicts += 1;
      continue;
    }
    if (!dryRun) {
      if ((await users.create(user)) === 'email_taken') {
        counts.conflicts += 1;
        continue;
      }
      // The hash is now the user's mirror: the record's other fields (the password hash among them) leave Redis.
      await redis.hdel(keys.userMirror(id), ...LEGACY_ONLY_FIELDS);
    }
    counts.imported += 1;
  }
  return counts;
}

function legacyUser(id: string, hash: Record<string, string>): User | undefined {
  const { email, passwordHash } = hash;
  if (email === undefined || passwordHash === undefined) return undefined;
  let permissions: unknown;
  try {
    permissions = JSON.parse(hash.permissions ?? '[]');
  } catch {
    return undefined;
  }
  if (!Array.isArray(permissions) || !permissions.every((p) => typeof p === 'string')) return undefined;
  const createdAt = Number(hash.createdAt);
  const updatedAt = Number(hash.updatedAt);
  return {
    id,
    email: normaliseEmail(email),
    name: hash.name ?? '',
    passwordHash,
    permissions,
    disabled: hash.disabled === '1',
    credentialEpoch: 0,
    version: 1,
    emailVerified: false,
    mfaRequired: false,
    createdAt: Number.isFinite(createdAt) ? createdAt : Date.now(),
    updatedAt: Number.isFinite(updatedAt) ? updatedAt : Date.now(),
  };
}
