/**
 * Where an account has signed in recently, for the new sign-in notice (README, "Security notices"):
 * one row per account and device key, with the network it was last seen from and when. Keys and
 * networks arrive as keyed hashes (auth/sign-in-notices.ts), so a leaked table names no device
 * cookie, no device id and no address prefix.
 */
export interface SeenDevice {
  /** Keyed hash of the device key (a known-device value, a native device id, or a browser description). */
  keyHash: string;
  /** Keyed hash of the masked network (IPv4 /24, IPv6 /48) it was last seen from. */
  networkHash: string;
  /** Milliseconds since the epoch. */
  lastSeen: number;
}

/**
 * Storage of recent sign-in devices. Every `now`/`since` is milliseconds since the epoch from the
 * caller's Clock. Backing-store failures are thrown as `StoreError('service_unavailable')`.
 */
export interface SignInDeviceStore {
  /** The account's rows seen at or after `since`, newest first. */
  recent(userId: string, since: number): Promise<SeenDevice[]>;
  /**
   * Upserts each of `seen` (by account and key hash: network and last-seen time are replaced) and
   * keeps only the account's `keep` most recent rows, in one transaction. A user that no longer
   * exists records nothing.
   */
  record(userId: string, seen: readonly Omit<SeenDevice, 'lastSeen'>[], now: number, keep: number): Promise<void>;
  /** Forgets every device of the account: each one's next sign-in is new again. */
  forget(userId: string): Promise<void>;
}
