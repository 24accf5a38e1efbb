import type { SeenDevice, SignInDeviceStore } from './sign-in-devices.js';
import type { UserStore } from './types.js';

/** In-process sign-in devices for development and tests, beside MemoryUserStore (same contract as the SQL store). */
export class MemorySignInDeviceStore implements SignInDeviceStore {
  private readonly rows = new Map<string, Map<string, SeenDevice>>();

  constructor(private readonly users: Pick<UserStore, 'get'>) {}

  async recent(userId: string, since: number): Promise<SeenDevice[]> {
    // As the cascade does in SQL: a deleted account has no rows.
    if (!(await this.users.get(userId))) {
      this.rows.delete(userId);
      return [];
    }
    const rows = [...(this.rows.get(userId)?.values() ?? [])].filter((row) => row.lastSeen >= since);
    return newestFirst(rows).map((row) => ({ ...row }));
  }

  async record(userId: string, seen: readonly Omit<SeenDevice, 'lastSeen'>[], now: number, keep: number): Promise<void> {
    // As the foreign key does in SQL: a deleted account keeps no rows.
    if (!(await this.users.get(userId))) return;
    const rows = this.rows.get(userId) ?? new Map<string, SeenDevice>();
    for (const { keyHash, networkHash } of seen) rows.set(keyHash, { keyHash, networkHash, lastSeen: now });
    for (const row of newestFirst([...rows.values()]).slice(keep)) rows.delete(row.keyHash);
    this.rows.set(userId, rows);
  }

  forget(userId: string): Promise<void> {
    this.rows.delete(userId);
    return Promise.resolve();
  }
}

/** Newest first; ties by key hash, as the SQL store orders them. */
function newestFirst(rows: SeenDevice[]): SeenDevice[] {
  return rows.sort((a, b) => b.lastSeen - a.lastSeen || (a.keyHash < b.keyHash ? -1 : a.keyHash > b.keyHash ? 1 : 0));
}
