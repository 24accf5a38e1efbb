export interface User {
  id: string;
  /** Normalised: trimmed and lower-cased (see normaliseEmail). */
  email: string;
  name: string;
  passwordHash: string;
  permissions: string[];
  disabled: boolean;
  /**
   * Grows by one with every password change (UserStore.update with a passwordHash). Sessions and
   * the Redis mirror carry it, so credentials older than the password are recognisable.
   */
  credentialEpoch: number;
  /**
   * The record's version: 1 when created, one more with every write, counted by the store in the
   * same statement as the write. The Redis mirror carries it so that an older state never replaces
   * a newer one there (README, "Accounts").
   */
  version: number;
  /** Whether the user proved they receive mail at `email` (POST /jts/email/verify). */
  emailVerified: boolean;
  /** An administrator requires a second factor: without one, a sign-in only enrols it (migration 0008). */
  mfaRequired: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** `email` is normalised by the store; another user's address makes the write `email_taken`. */
export type UserPatch = Partial<Pick<User, 'email' | 'name' | 'passwordHash' | 'permissions' | 'disabled' | 'emailVerified' | 'mfaRequired'>>;

/** What a write does to the record: a patch at `now` (ms since the epoch), or its deletion. */
export type UserChange = { patch: UserPatch; now: number } | 'delete';

export interface WriteOptions {
  /**
   * A permission that must keep at least one enabled holder: a write that would take it from the
   * last one (disable, delete, or permissions without it) is refused as `last_holder`, decided
   * atomically with the write (two concurrent demotions cannot both pass).
   */
  keepHolderOf?: string;
  /**
   * Runs after the record is read and locked, before it is written, with the record as it is then
   * (the write's version will be `before.version + 1`). A rejection aborts the write.
   */
  beforeWrite?: (before: User) => Promise<void>;
}

/** `email_taken`: the patch's `email` is another user's (decided by the unique index, so two concurrent writes cannot both take it); nothing was written. */
export type WriteResult = { outcome: 'written'; before: User; after: User | undefined } | { outcome: 'missing' } | { outcome: 'last_holder' } | { outcome: 'email_taken' };

/** One page of an email-prefix search, ordered by (email, id) in byte order. */
export interface UserSearch {
  /** Lower-cased prefix of the normalised email; '' matches everyone. Matched literally (no wildcards). */
  emailPrefix: string;
  /** Keyset position: only users after this (email, id). */
  after?: { email: string; id: string };
  limit: number;
}

/**
 * User storage. Expected outcomes ("no such user", "email taken") are values; backing-store
 * failures are thrown as `StoreError('service_unavailable')`.
 */
export interface UserStore {
  /** 'email_taken' when another user has the (normalised) email. */
  create(user: User): Promise<'created' | 'email_taken'>;
  get(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  /** A patch with a passwordHash also adds one to credentialEpoch, in the same write. */
  update(id: string, patch: UserPatch, now: number): Promise<User | undefined>;
  /**
   * The guarded form of update and delete: the record is locked while `options` are checked and
   * applied, and written (version + 1) or deleted in the same transaction. `after` is undefined
   * for a deletion.
   */
  write(id: string, change: UserChange, options: WriteOptions): Promise<WriteResult>;
  /** Every user, oldest first. */
  list(): Promise<User[]>;
  /** Users whose email starts with the prefix, ordered by (email, id) in byte order. */
  search(query: UserSearch): Promise<User[]>;
  /**
   * Replaces the password hash `from` with `to`, another hash of the same password (a hash made
   * before passwords were normalised, upgraded at sign-in). Unlike an update it is not a password
   * change: credentialEpoch and updatedAt stay, so no session ends and the Redis mirror, which
   * holds no hash, needs no write. Compare-and-set: false, and nothing written, when the user is
   * gone or the hash is no longer `from` (a password change won the race).
   */
  upgradePasswordHash(id: string, from: string, to: string): Promise<boolean>;
  /**
   * Deletes the record only while it is still exactly as created (`version`, normally 1): the undo
   * of a `create` whose next step failed (a registration whose session could not be made), so a
   * retry is not refused as `email_taken`. Compare-and-delete in one statement: false, and nothing
   * deleted, when the record is gone or was written since (its owner or an administrator used it).
   */
  discardNew(id: string, version: number): Promise<boolean>;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
