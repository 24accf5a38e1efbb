import type { SessionStore, UserSecurity } from '../sessions/types.js';
import type { AuthContext } from './context.js';
import type { User, UserChange, UserPatch, UserSearch, UserStore, WriteOptions, WriteResult } from '../users/types.js';

/** What the hot paths mirror of a user. */
export function securityOf(user: Pick<User, 'disabled' | 'permissions' | 'credentialEpoch' | 'version' | 'emailVerified' | 'email' | 'name'>): UserSecurity {
  return { disabled: user.disabled, permissions: [...user.permissions], credentialEpoch: user.credentialEpoch, version: user.version, emailVerified: user.emailVerified, profile: { email: user.email, name: user.name } };
}

/**
 * The rebuild at sign-in: writes `user`'s mirror only where Redis has none (it came back empty, or
 * the mirror expired with the account's last session), living as long as a session may. Resolves
 * to whether it wrote.
 */
export function ensureMirror(deps: Pick<AuthContext, 'sessions'> & { settings: Pick<AuthContext['settings'], 'stateProofLifetimeSeconds'> }, user: User): Promise<boolean> {
  return deps.sessions.putUser(user.id, securityOf(user), { mode: 'absent', expiresInMs: deps.settings.stateProofLifetimeSeconds * 1000 });
}

/**
 * The stricter of a record and what a change makes of it, at the version the change will write:
 * disabled if either is (a deletion is), only the permissions both grant, the new credential epoch,
 * the address verified only if both say so.
 */
function restrictionOf(before: User, change: UserChange): UserSecurity {
  const version = before.version + 1;
  if (change === 'delete') return { disabled: true, permissions: [], credentialEpoch: before.credentialEpoch, version, emailVerified: false };
  // The profile is not security state: the restriction keeps the one stored until the row is written.
  const { patch } = change;
  const permissions = patch.permissions ?? before.permissions;
  return {
    disabled: before.disabled || (patch.disabled ?? false),
    permissions: before.permissions.filter((permission) => permissions.includes(permission)),
    credentialEpoch: before.credentialEpoch + (patch.passwordHash === undefined ? 0 : 1),
    version,
    emailVerified: before.emailVerified && (patch.emailVerified ?? true),
  };
}

/**
 * The user store every use case sees: the system of record (PostgreSQL/PGlite) with the users'
 * security mirror kept next to their sessions, which is all verify and renew read.
 *
 * Order of writes, so that no crash or failure between the two stores leaves the mirror *more*
 * permissive than PostgreSQL (invariant 11):
 *   1. with the row locked, the mirror gets the restriction: the more restrictive of before and
 *      after (see restrictionOf), at the version the write will have;
 *   2. the SQL write (PostgreSQL wins: its row is the truth), which bumps the row's version;
 *   3. the mirror gets exactly the written row.
 * Every mirror write carries the row's version and Redis keeps the highest (put-user-1.lua), so
 * step 3 of an earlier change arriving after a later one's is dropped (review finding F5).
 * A failure after 1 leaves the mirror stricter than PostgreSQL — the user may be refused until the
 * change is retried, the user signs in again after Redis lost the mirror, or `npm run user --
 * resync` runs — never let in. Revocations (disable, password change, deletion) are the caller's
 * next step, so the mirror is always written before them.
 */
export class MirroredUserStore implements UserStore {
  /**
   * `sessionLifetimeMs`: the longest a session lives (JTS_STATE_PROOF_LIFETIME). Every mirror
   * write gives the mirror at least that long (and each new session extends it to its own end):
   * a mirror guards sessions only, so the mirrors of accounts nobody signs in to leave Redis, and
   * so does a deletion's restriction whose removal failed once the row was gone.
   */
  constructor(
    private readonly records: UserStore,
    private readonly sessions: Pick<SessionStore, 'putUser' | 'removeUser' | 'userProfile'>,
    private readonly options: { sessionLifetimeMs: number },
  ) {}

  /**
   * What `GET /api/profile` shows: from the mirror, so the request never waits on SQL (one Redis
   * round trip together with the session check); from the system of record only for a mirror
   * written before profiles were mirrored. Undefined when the account does not exist.
   */
  async profile(id: string): Promise<{ id: string; email: string; name: string } | undefined> {
    const mirrored = await this.sessions.userProfile(id);
    if (mirrored) return { id, ...mirrored };
    const user = await this.records.get(id);
    return user && { id: user.id, email: user.email, name: user.name };
  }

  /**
   * The row, then its mirror. When the mirror cannot be written (Redis down) the new row is
   * discarded again before the error goes on, so the caller's retry can create it (and is not
   * refused as `email_taken` by an account nobody could sign in to yet).
   */
  async create(user: User): Promise<'created' | 'email_taken'> {
    const created = await this.records.create(user);
    if (created !== 'created') return created;
    try {
      await this.sessions.putUser(user.id, securityOf(user), { expiresInMs: this.options.sessionLifetimeMs });
    } catch (error) {
      await this.discardNew(user.id, user.version);
      throw error;
    }
    return created;
  }

  /**
   * Deletes the row when still at `version`, then removes its mirror — best effort: when Redis is
   * what failed, a mirror may stay behind for an id no row has, which lets nobody in (sign-in reads
   * the row first). A failure to delete the row is swallowed too (false): the caller is already
   * answering the error that made it undo, and the account then stays as it would have before.
   */
  async discardNew(id: string, version: number): Promise<boolean> {
    const deleted = await this.records.discardNew(id, version).catch(() => false);
    if (deleted) await this.sessions.removeUser(id).catch(() => undefined);
    return deleted;
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

  search(query: UserSearch): Promise<User[]> {
    return this.records.search(query);
  }

  async update(id: string, patch: UserPatch, now: number): Promise<User | undefined> {
    const result = await this.write(id, { patch, now }, {});
    return result.outcome === 'written' ? result.after : undefined;
  }

  /**
   * Steps 1–3 above around the store's guarded write. A deletion's step 3 removes the mirror (the
   * caller ends the sessions); should it fail, the restriction (disabled) is what stays.
   */
  async write(id: string, change: UserChange, options: WriteOptions): Promise<WriteResult> {
    const result = await this.records.write(id, change, {
      ...options,
      beforeWrite: async (before) => {
        await options.beforeWrite?.(before);
        await this.sessions.putUser(id, restrictionOf(before, change), { restriction: true, expiresInMs: this.options.sessionLifetimeMs });
      },
    });
    if (result.outcome !== 'written') return result;
    if (result.after === undefined) await this.sessions.removeUser(id);
    else await this.sessions.putUser(id, securityOf(result.after), { expiresInMs: this.options.sessionLifetimeMs });
    return result;
  }

  /** The mirror holds no hash and the epoch stays: PostgreSQL alone changes. */
  upgradePasswordHash(id: string, from: string, to: string): Promise<boolean> {
    return this.records.upgradePasswordHash(id, from, to);
  }

  /**
   * Rewrites the mirror of every user from PostgreSQL (`npm run user -- resync`), also over a
   * restriction a failed change left behind. Resolves to how many.
   */
  async resync(): Promise<number> {
    const users = await this.records.list();
    for (const user of users) await this.sessions.putUser(user.id, securityOf(user), { mode: 'repair', expiresInMs: this.options.sessionLifetimeMs });
    return users.length;
  }
}
