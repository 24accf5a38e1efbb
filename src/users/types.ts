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
  /** Whether the user proved they receive mail at `email` (POST /jts/email/verify). */
  emailVerified: boolean;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

export type UserPatch = Partial<Pick<User, 'name' | 'passwordHash' | 'permissions' | 'disabled' | 'emailVerified'>>;

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
  list(): Promise<User[]>;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
