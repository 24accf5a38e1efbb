import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { demotes } from '../users/changes.js';
import { normaliseEmail, type User, type UserChange, type UserPatch, type UserSearch, type UserStore, type WriteOptions, type WriteResult } from '../users/types.js';
import type { AccountsSchema, UsersTable } from './database.js';
import { guardDatabase, isUniqueViolation } from './sql-guard.js';

/**
 * Users in PostgreSQL (or PGlite): the system of record. The unique index on lower(email) is the
 * one arbiter of "email taken", so two registrations racing on two instances still get one account.
 */
export class SqlUserStore implements UserStore {
  constructor(private readonly db: Kysely<AccountsSchema>) {}

  create(user: User): Promise<'created' | 'email_taken'> {
    return guardDatabase(async () => {
      try {
        await this.db
          .insertInto('users')
          .values({
            id: user.id,
            email: normaliseEmail(user.email),
            name: user.name,
            password_hash: user.passwordHash,
            permissions: [...user.permissions],
            disabled: user.disabled,
            credential_epoch: user.credentialEpoch,
            version: user.version,
            email_verified: user.emailVerified,
            mfa_required: user.mfaRequired,
            created_at: new Date(user.createdAt),
            updated_at: new Date(user.updatedAt),
          })
          .execute();
        return 'created';
      } catch (error) {
        if (isUniqueViolation(error) && (error as { constraint?: string }).constraint !== 'users_pkey') return 'email_taken';
        throw error;
      }
    });
  }

  get(id: string): Promise<User | undefined> {
    return guardDatabase(async () => fromRow(await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()));
  }

  findByEmail(email: string): Promise<User | undefined> {
    return guardDatabase(async () => fromRow(await this.db.selectFrom('users').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', normaliseEmail(email))).executeTakeFirst()));
  }

  async update(id: string, patch: UserPatch, now: number): Promise<User | undefined> {
    const result = await this.write(id, { patch, now }, {});
    return result.outcome === 'written' ? result.after : undefined;
  }

  /**
   * One transaction (READ COMMITTED). When the change could take `keepHolderOf` from someone, the
   * enabled holders are locked first, in id order, and then the target row: every such write takes
   * its locks in that one order, so two concurrent demotions never deadlock, and the second one,
   * once the first has committed, re-reads the holders (PostgreSQL re-checks a locked row's WHERE
   * after the wait) and finds one fewer. Any other write locks only its row.
   */
  write(id: string, change: UserChange, options: WriteOptions): Promise<WriteResult> {
    return guardDatabase(() => this.writeOnce(id, change, options).catch(emailTaken));
  }

  private writeOnce(id: string, change: UserChange, options: WriteOptions): Promise<WriteResult> {
    return this.db.transaction().execute(async (trx): Promise<WriteResult> => {
        const { keepHolderOf } = options;
        const holders = keepHolderOf !== undefined && mayDemote(change, keepHolderOf) ? await lockHolders(trx, keepHolderOf) : [];
        const before = fromRow(await trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst());
        if (!before) return { outcome: 'missing' };
        if (keepHolderOf !== undefined && demotes(before, change, keepHolderOf) && !holders.some((holder) => holder !== id)) return { outcome: 'last_holder' };
        await options.beforeWrite?.(before);
        if (change === 'delete') {
          await trx.deleteFrom('users').where('id', '=', id).execute();
          return { outcome: 'written', before, after: undefined };
        }
        const { patch, now } = change;
        const row = await trx
          .updateTable('users')
          .set((eb) => ({
            updated_at: new Date(now),
            version: sql<number>`version + 1`,
            ...(patch.email === undefined ? {} : { email: normaliseEmail(patch.email) }),
            ...(patch.name === undefined ? {} : { name: patch.name }),
            ...(patch.passwordHash === undefined ? {} : { password_hash: patch.passwordHash }),
            ...(patch.permissions === undefined ? {} : { permissions: [...patch.permissions] }),
            ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
            ...(patch.emailVerified === undefined ? {} : { email_verified: patch.emailVerified }),
            ...(patch.mfaRequired === undefined ? {} : { mfa_required: patch.mfaRequired }),
            ...(patch.passwordHash === undefined ? {} : { credential_epoch: eb('credential_epoch', '+', 1) }),
          }))
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { outcome: 'written', before, after: fromRow(row) };
      });
  }

  upgradePasswordHash(id: string, from: string, to: string): Promise<boolean> {
    return guardDatabase(async () => {
      const result = await this.db.updateTable('users').set({ password_hash: to }).where('id', '=', id).where('password_hash', '=', from).executeTakeFirst();
      return result.numUpdatedRows === 1n;
    });
  }

  discardNew(id: string, version: number): Promise<boolean> {
    return guardDatabase(async () => {
      const result = await this.db.deleteFrom('users').where('id', '=', id).where('version', '=', version).executeTakeFirst();
      return result.numDeletedRows === 1n;
    });
  }

  list(): Promise<User[]> {
    return guardDatabase(async () => (await this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute()).map((row) => fromRow(row) as User));
  }

  /**
   * A range scan of users_email_search (0002): byte order ("C"), the prefix matched with LIKE and
   * its wildcards escaped, so `a_b` finds `a_b…` only, never `axb…`.
   */
  search(query: UserSearch): Promise<User[]> {
    return guardDatabase(async () => {
      const { after } = query;
      const rows = await this.db
        .selectFrom('users')
        .selectAll()
        .where(sql<boolean>`email COLLATE "C" LIKE ${likePrefix(query.emailPrefix)} ESCAPE '\\'`)
        .$if(after !== undefined, (q) => q.where(sql<boolean>`(email COLLATE "C", id COLLATE "C") > (${after?.email ?? ''} COLLATE "C", ${after?.id ?? ''} COLLATE "C")`))
        .orderBy(sql`email COLLATE "C"`)
        .orderBy(sql`id COLLATE "C"`)
        .limit(query.limit)
        .execute();
      return rows.map((row) => fromRow(row) as User);
    });
  }
}

/**
 * A write whose new address another user holds: the unique index on lower(email) refused it (also
 * when that user committed it a moment ago, in a concurrent transaction), and the transaction rolled back.
 */
function emailTaken(error: unknown): WriteResult {
  if (isUniqueViolation(error) && (error as { constraint?: string }).constraint !== 'users_pkey') return { outcome: 'email_taken' };
  throw error;
}

/** The LIKE pattern of a literal prefix: `\`, `%` and `_` escaped (with `ESCAPE '\'`). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** Whether the change could take `permission` from its target, judged before the target is read. */
function mayDemote(change: UserChange, permission: string): boolean {
  if (change === 'delete') return true;
  const { disabled, permissions } = change.patch;
  return disabled === true || (permissions !== undefined && !permissions.includes(permission));
}

/** Locks every enabled holder of `permission`, in id order; resolves to their ids. */
async function lockHolders(trx: Transaction<AccountsSchema>, permission: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('users')
    .select('id')
    .where('disabled', '=', false)
    .where(sql<boolean>`${permission} = ANY(permissions)`)
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map((row) => row.id);
}

function fromRow(row: Selectable<UsersTable> | undefined): User | undefined {
  if (row === undefined) return undefined;
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    permissions: [...row.permissions],
    disabled: row.disabled,
    credentialEpoch: row.credential_epoch,
    version: Number(row.version),
    emailVerified: row.email_verified,
    mfaRequired: row.mfa_required,
    createdAt: new Date(row.created_at).getTime(),
    updatedAt: new Date(row.updated_at).getTime(),
  };
}
