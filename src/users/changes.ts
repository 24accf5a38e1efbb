import { normaliseEmail, type User, type UserChange, type UserPatch } from './types.js';

/*
 * What a write does to a user record: the last-holder judgement both stores make (the SQL store
 * inside its transaction), and the record a patch makes for the memory store (the SQL store says the
 * same in its UPDATE statement; the contract suite holds the two to one behaviour).
 */

/** The record a patch makes of `before`: the credential epoch grows with a password, the version with every write. */
export function applyPatch(before: User, patch: UserPatch, now: number): User {
  return {
    ...before,
    ...patch,
    email: patch.email === undefined ? before.email : normaliseEmail(patch.email),
    permissions: [...(patch.permissions ?? before.permissions)],
    credentialEpoch: before.credentialEpoch + (patch.passwordHash === undefined ? 0 : 1),
    version: before.version + 1,
    updatedAt: now,
  };
}

/** Whether `user` is an enabled holder of `permission`. */
export function holds(user: Pick<User, 'disabled' | 'permissions'>, permission: string): boolean {
  return !user.disabled && user.permissions.includes(permission);
}

/** Whether the change takes `permission` from an enabled holder (disable, delete, or a patch without it). */
export function demotes(before: User, change: UserChange, permission: string): boolean {
  if (!holds(before, permission)) return false;
  if (change === 'delete') return true;
  return !holds({ disabled: change.patch.disabled ?? before.disabled, permissions: change.patch.permissions ?? before.permissions }, permission);
}
