import bcrypt from 'bcrypt';

/** NIST SP 800-63B: at least 8 characters, no composition rules. */
export const MIN_PASSWORD_LENGTH = 8;
/**
 * bcrypt reads only the first 72 bytes (and stops at a NUL byte). Longer passwords are refused
 * rather than silently truncated, so two passwords that share 72 bytes can never both work.
 */
export const MAX_PASSWORD_BYTES = 72;

/** Returns why a password is unacceptable as a new password, or undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  // Counted in code points, so "ééééé" is five characters, not ten bytes.
  if (Array.from(password).length < MIN_PASSWORD_LENGTH) return `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return `The password may be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8).`;
  if (password.includes('\0')) return 'The password may not contain NUL characters.';
  return undefined;
}

/** Why bcrypt could not check a presented password exactly, or undefined when it can. */
export function uncheckablePasswordProblem(password: string): string | undefined {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES || password.includes('\0')) {
    return `The password may be at most ${MAX_PASSWORD_BYTES} bytes and may not contain NUL characters.`;
  }
  return undefined;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Compares in constant time. With no hash (unknown email) it still runs one full bcrypt
   * comparison against a dummy hash of the same cost, so both cases take the same time.
   */
  verify(password: string, hash: string | undefined): Promise<boolean>;
}

export function createPasswordHasher(rounds: number): PasswordHasher {
  // Async bcrypt runs on the libuv pool, never on the event loop (invariant 10).
  const dummy = bcrypt.hash('jts-dummy-password-for-timing', rounds);
  return {
    hash: (password) => bcrypt.hash(password, rounds),
    async verify(password, hash) {
      if (hash === undefined) {
        await bcrypt.compare(password, await dummy);
        return false;
      }
      return bcrypt.compare(password, hash);
    },
  };
}
