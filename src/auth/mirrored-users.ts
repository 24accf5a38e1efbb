import type { SessionStore, UserSecurity } from '../sessions/types.js';
import type { User, UserPatch, UserStore } from '../users/types.js';

/** What the hot paths mirror of a user. */
export function securityOf(user: Pick<User, 'disabled' | 'permissions' | 'credentialEpoch'>): UserSecurity {
  return { disabled: user.disabled, permissions: [...user.permissions], credentialEpoch: user.credentialEpoch };
}

/**
 * The user store every use case sees: the system of record (PostgreSQL/PGlite) with the users'
 * security mirror kept next to their sessions, which is all verify and renew read.
 *
 * Order of writes, so that no crash or failure between the two stores leaves the mirror *more*
 * permissive than PostgreSQL (invariant 11):
 *   1. the mirror gets the more restrictive of before and after (disabled if either is, only the
 *      permissions both have, the new credential epoch), before the SQL write;
 *   2. the SQL write (PostgreSQL wins: its row is the truth);
 *   3. the mirror gets exactly the written row.
 * A failure after 1 leaves the mirror stricter than PostgreSQL — the user may be refused until the
 * change is retried, the user signs in again after Redis lost the mirror, or `npm run user --
 * resync` runs — never let in. Revocations (disable, password change) are the caller's next step,
 * so the mirror is always written before them.
 */
export class MirroredUserStore implements UserStore {
  constructor(
    private readonly records: UserStore,
    private readonly sessions: Pick<SessionStore, 'putUser'>,
  ) {}

  async create(user: User): Promise<'created' | 'email_taken'> {
    const created = await this.records.create(user);
    if (created === 'created') await this.sessions.putUser(user.id, securityOf(user));
    return created;
  }

  get(id: string): Promise<User | undefined> {
    return this.records.get(id);
  }

  findByEmail(email: string): Promise<User | undefined> {
    return this.records.findByEmail(email);
  }

  list(): Promise<User[]> {
    return this.records.list();
  }

  async update(id: string, patch: UserPatch, now: number): Promise<User | undefined> {
    const before = await this.records.get(id);
    if (!before) return undefined;
    const after = { ...before, ...patch, credentialEpoch: before.credentialEpoch + (patch.passwordHash === undefined ? 0 : 1) };
    await this.sessions.putUser(id, {
      disabled: before.disabled || after.disabled,
      permissions: before.permissions.filter((permission) => after.permissions.includes(permission)),
      credentialEpoch: after.credentialEpoch,
    });
    const written = await this.records.update(id, patch, now);
    if (written) await this.sessions.putUser(id, securityOf(written));
    return written;
  }

  /** The mirror holds no hash and the epoch stays: PostgreSQL alone changes. */
  upgradePasswordHash(id: string, from: string, to: string): Promise<boolean> {
    return this.records.upgradePasswordHash(id, from, to);
  }

  /** Rewrites the mirror of every user from PostgreSQL (`npm run user -- resync`). Resolves to how many. */
  async resync(): Promise<number> {
    const users = await this.records.list();
    for (const user of users) await this.sessions.putUser(user.id, securityOf(user));
    return users.length;
  }

  /** The rebuild at sign-in: writes the mirror only when Redis has none (e.g. it restarted empty). */
  async ensureMirror(user: User): Promise<void> {
    await this.sessions.putUser(user.id, securityOf(user), { onlyIfAbsent: true });
  }
}
