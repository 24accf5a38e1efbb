import type { Kysely, Selectable } from 'kysely';
import { normaliseEmail, type User, type UserPatch, type UserStore } from '../users/types.js';
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
            email_verified: user.emailVerified,
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

  update(id: string, patch: UserPatch, now: number): Promise<User | undefined> {
    return guardDatabase(async () => {
      const row = await this.db
        .updateTable('users')
        .set((eb) => ({
          updated_at: new Date(now),
          ...(patch.name === undefined ? {} : { name: patch.name }),
          ...(patch.passwordHash === undefined ? {} : { password_hash: patch.passwordHash }),
          ...(patch.permissions === undefined ? {} : { permissions: [...patch.permissions] }),
          ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
          ...(patch.emailVerified === undefined ? {} : { email_verified: patch.emailVerified }),
          ...(patch.passwordHash === undefined ? {} : { credential_epoch: eb('credential_epoch', '+', 1) }),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return fromRow(row);
    });
  }

  list(): Promise<User[]> {
    return guardDatabase(async () => (await this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute()).map((row) => fromRow(row) as User));
  }
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
    emailVerified: row.email_verified,
    createdAt: new Date(row.created_at).getTime(),
    updatedAt: new Date(row.updated_at).getTime(),
  };
}
