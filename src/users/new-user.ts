import { randomId } from '../jts/state-proof.js';
import { normaliseEmail, type User } from './types.js';

/** What the creator of an account decides; everything else about a new user is fixed. */
export interface NewUserInput {
  /** As typed: trimmed and lower-cased here (see normaliseEmail). */
  email: string;
  /** As typed: trimmed here. */
  name: string;
  /** A hash from PasswordHasher.hash, never a password. */
  passwordHash: string;
  /** Copied, so the caller's array can be reused. */
  permissions: readonly string[];
}

/**
 * The one way to build a new account record (registration, demo users, the user CLI): a fresh
 * random id, the email normalised and the name trimmed, enabled, created and updated at `now`
 * (milliseconds since the epoch). Builds only: storing it (and refusing a taken email) is
 * `UserStore.create`'s job. Never throws.
 */
export function newUser(input: NewUserInput, now: number): User {
  return {
    id: randomId(),
    email: normaliseEmail(input.email),
    name: input.name.trim(),
    passwordHash: input.passwordHash,
    permissions: [...input.permissions],
    disabled: false,
    credentialEpoch: 0,
    version: 1,
    emailVerified: false,
    mfaRequired: false,
    createdAt: now,
    updatedAt: now,
  };
}
