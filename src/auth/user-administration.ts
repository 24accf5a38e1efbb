import type { Clock } from '../jts/clock.js';
import { JtsError } from '../jts/errors.js';
import type { SessionStore } from '../sessions/types.js';
import { holds } from '../users/changes.js';
import { newUser } from '../users/new-user.js';
import type { PasswordHasher } from '../users/password.js';
import type { User, UserChange, UserPatch, UserSearch } from '../users/types.js';
import type { AdminAction, AdminOutcome, AuditSink } from './audit.js';
import { AuthError } from './errors.js';
import type { MirroredUserStore } from './mirrored-users.js';
import { toView, type SessionView } from './own-sessions.js';
import { assertAcceptablePassword } from './password-rules.js';

/** The permission the admin API requires, and the one the last-admin guard keeps held. */
export const ADMIN_USERS_PERMISSION = 'admin:users';

/** Who acts: an administrator's prn (admin API), or `cli` for the operator's `npm run user`. */
export type Actor = string;

export interface UserAdministrationDeps {
  users: Pick<MirroredUserStore, 'get' | 'findByEmail' | 'list' | 'search' | 'create' | 'write'>;
  sessions: Pick<SessionStore, 'list' | 'revokeAll'>;
  hasher: PasswordHasher;
  clock: Clock;
  audit: AuditSink;
  /** Removes every second factor of an account (JTSAuthServer.resetFactors); absent in the CLI. */
  resetFactors?: (id: string) => Promise<FactorsRemoved>;
}

/** What an administrator's factor reset removed. */
export interface FactorsRemoved {
  totp: boolean;
  passkeys: number;
}

export interface NewAccount {
  email: string;
  name: string;
  /** Checked against the password policy (400 `invalid_request`) and hashed here. */
  password: string;
  permissions: readonly string[];
}

/** One page of a search; `next` is where the following page starts, absent on the last one. */
export interface UserPage {
  users: User[];
  next: { email: string; id: string } | undefined;
}

/**
 * User administration: the one code path behind the admin HTTP API (/admin/users) and the user
 * CLI. Every action is audited as `admin.action` with the actor and the target. Errors, all coded:
 * `user_not_found` (404), `email_taken` (409), `last_admin` (409), `password_rejected` (400),
 * `JTS-403-02` (the actor no longer holds admin:users), `service_unavailable` (503: PostgreSQL or
 * Redis; nothing half-written, see MirroredUserStore).
 *
 * The last-admin guard: no change may leave zero enabled accounts holding admin:users (delete,
 * disable, or permissions without it). It is decided inside the SQL transaction that writes, with
 * the holders locked (SqlUserStore.write), so two concurrent demotions cannot both pass.
 */
export class UserAdministration {
  constructor(private readonly deps: UserAdministrationDeps) {}

  /**
   * The actor's account as PostgreSQL has it now, not as their BearerPass says (its `perm` claim
   * lives up to JTS_BEARER_PASS_LIFETIME): a demoted or disabled administrator is refused at once.
   */
  async authorize(actor: Actor, action: AdminAction): Promise<void> {
    const account = await this.deps.users.get(actor);
    if (account && holds(account, ADMIN_USERS_PERMISSION)) return;
    this.record(action, actor, undefined, 'forbidden');
    throw new JtsError('JTS-403-02', { message: `Missing permission: ${ADMIN_USERS_PERMISSION}.` });
  }

  /** Users whose email starts with `emailPrefix` (lower-cased here), `limit` per page, by (email, id). */
  async search(actor: Actor, query: UserSearch): Promise<UserPage> {
    // One more than asked tells whether a next page exists without a count query.
    const found = await this.deps.users.search({ ...query, emailPrefix: query.emailPrefix.toLowerCase(), limit: query.limit + 1 });
    const users = found.slice(0, query.limit);
    const last = users.at(-1);
    this.record('users.search', actor, undefined, 'ok');
    return { users, next: found.length > query.limit && last ? { email: last.email, id: last.id } : undefined };
  }

  /** Every user, oldest first (the CLI's `list`). */
  async list(actor: Actor): Promise<User[]> {
    const users = await this.deps.users.list();
    this.record('users.list', actor, undefined, 'ok');
    return users;
  }

  async get(actor: Actor, id: string): Promise<User> {
    const user = this.found('user.read', actor, id, await this.deps.users.get(id));
    this.record('user.read', actor, id, 'ok');
    return user;
  }

  async findByEmail(actor: Actor, email: string): Promise<User> {
    const user = await this.deps.users.findByEmail(email);
    if (!user) throw this.refuse('user.read', actor, undefined, 'user_not_found');
    this.record('user.read', actor, user.id, 'ok');
    return user;
  }

  async create(actor: Actor, input: NewAccount): Promise<User> {
    assertAcceptablePassword(input.password);
    const passwordHash = await this.deps.hasher.hash(input.password);
    const user = newUser({ email: input.email, name: input.name, passwordHash, permissions: [...new Set(input.permissions)] }, this.deps.clock.now());
    if ((await this.deps.users.create(user)) === 'email_taken') throw this.refuse('user.create', actor, undefined, 'email_taken');
    this.record('user.create', actor, user.id, 'ok');
    return user;
  }

  /**
   * Name, permissions, disabled, mfaRequired. Disabling also ends every session of the user, after
   * the mirror says so. Requiring a factor ends none: it applies from the account's next sign-in.
   */
  async update(actor: Actor, id: string, patch: Pick<UserPatch, 'name' | 'permissions' | 'disabled' | 'mfaRequired'>): Promise<{ user: User; revokedSessions: number }> {
    const change: UserPatch = { ...patch, ...(patch.permissions === undefined ? {} : { permissions: [...new Set(patch.permissions)] }) };
    const user = await this.guardedWrite('user.update', actor, id, { patch: change, now: this.deps.clock.now() }, Object.keys(patch));
    const revoked = patch.disabled === true ? await this.endSessions(id, 'user_disabled') : [];
    return { user: user as User, revokedSessions: revoked.length };
  }

  /** The account, then its sessions (their BearerPasses are refused here at once) and its mirror. */
  async delete(actor: Actor, id: string): Promise<{ revokedSessions: number }> {
    await this.guardedWrite('user.delete', actor, id, 'delete');
    return { revokedSessions: (await this.endSessions(id, 'user_deleted')).length };
  }

  /** The user's live sessions, in the shape of GET /jts/sessions; `currentAid` is the actor's own session. */
  async listSessions(actor: Actor, id: string, currentAid: string): Promise<SessionView[]> {
    this.found('sessions.read', actor, id, await this.deps.users.get(id));
    const records = await this.deps.sessions.list(id, this.deps.clock.now());
    this.record('sessions.read', actor, id, 'ok');
    return records.map((record) => toView(record, currentAid));
  }

  /**
   * Removes the user's authenticator app, recovery codes and passkeys: the way back in for an
   * account whose factors are lost (a passkey-only account has no recovery codes). The account is
   * mailed; its sessions stay; with `mfaRequired` the next sign-in asks to enrol again.
   * Errors: `not_found`, `service_unavailable`.
   */
  async resetFactors(actor: Actor, id: string): Promise<FactorsRemoved> {
    this.found('factors.reset', actor, id, await this.deps.users.get(id));
    if (!this.deps.resetFactors) throw new Error('UserAdministration was built without second factors');
    const removed = await this.deps.resetFactors(id);
    this.record('factors.reset', actor, id, 'ok');
    return removed;
  }

  /** Ends every session of the user; resolves to how many. */
  async revokeSessions(actor: Actor, id: string): Promise<number> {
    this.found('sessions.revoke', actor, id, await this.deps.users.get(id));
    const ended = await this.endSessions(id, 'admin');
    this.record('sessions.revoke', actor, id, 'ok');
    return ended.length;
  }

  private async guardedWrite(action: AdminAction, actor: Actor, id: string, change: UserChange, fields?: string[]): Promise<User | undefined> {
    const result = await this.deps.users.write(id, change, { keepHolderOf: ADMIN_USERS_PERMISSION });
    if (result.outcome === 'missing') throw this.refuse(action, actor, id, 'user_not_found');
    if (result.outcome === 'last_holder') throw this.refuse(action, actor, id, 'last_admin');
    // Administrators change no address (the owner does, proving the new mailbox: account-email.ts).
    if (result.outcome === 'email_taken') throw this.refuse(action, actor, id, 'email_taken');
    this.record(action, actor, id, 'ok', fields);
    return result.after;
  }

  private async endSessions(id: string, reason: 'user_disabled' | 'user_deleted' | 'admin'): Promise<string[]> {
    const ended = await this.deps.sessions.revokeAll(id, { reason, initiator: 'admin' });
    this.deps.audit({ event: 'session.revoked', prn: id, aids: ended, reason: 'admin' });
    return ended;
  }

  /** The user, or `user_not_found` (audited as the refusal of `action`). */
  private found(action: AdminAction, actor: Actor, id: string, user: User | undefined): User {
    if (!user) throw this.refuse(action, actor, id, 'user_not_found');
    return user;
  }

  private refuse(action: AdminAction, actor: Actor, target: string | undefined, code: 'user_not_found' | 'email_taken' | 'last_admin'): AuthError {
    this.record(action, actor, target, code === 'user_not_found' ? 'not_found' : code);
    return new AuthError(code);
  }

  private record(action: AdminAction, actor: Actor, target: string | undefined, outcome: AdminOutcome, fields?: string[]): void {
    this.deps.audit({ event: 'admin.action', action, actor, outcome, ...(target === undefined ? {} : { target }), ...(fields === undefined ? {} : { fields }) });
  }
}
