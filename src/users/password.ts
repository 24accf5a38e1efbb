import bcrypt from 'bcrypt';

/** NIST SP 800-63B: at least 8 characters, no composition rules. */
export const MIN_PASSWORD_LENGTH = 8;
/**
 * bcrypt reads only the first 72 bytes (and stops at a NUL byte). Longer passwords are refused
 * rather than silently truncated, so two passwords that share 72 bytes can never both work.
 * Counted on the normalised form (normalisePassword), which is what bcrypt sees.
 */
export const MAX_PASSWORD_BYTES = 72;

/**
 * The one spelling of a password: Unicode NFKC (NIST SP 800-63B §5.1.1.2 recommends NFKC or NFKD).
 * The same text typed on two keyboards or platforms (precomposed "é" or "e" + U+0301, the ligature
 * "ﬁ" or "fi", full-width "１２３" or "123") becomes the same string, and so the same hash. NFKC
 * rather than NFKD because the composed form is the shorter one ("é" is 2 bytes, "e" + U+0301 is 3),
 * so fewer passwords reach bcrypt's 72 bytes; the compatibility ("K") folding because an input
 * method may turn what the user typed into such a variant without the user seeing a difference.
 * Every length check and every hash runs on this form, never on the text as sent.
 */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Returns why a password is unacceptable as a new password, or undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  const normalised = normalisePassword(password);
  // Counted in code points, so "ééééé" is five characters, not ten bytes.
  if (Array.from(normalised).length < MIN_PASSWORD_LENGTH) return `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
  return uncheckable(normalised) ? `The password may be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8, after NFKC normalisation) and may not contain NUL characters.` : undefined;
}

/** Why bcrypt could not check a presented password exactly, or undefined when it can. */
export function uncheckablePasswordProblem(password: string): string | undefined {
  return uncheckable(normalisePassword(password)) ? `The password may be at most ${MAX_PASSWORD_BYTES} bytes (UTF-8, after NFKC normalisation) and may not contain NUL characters.` : undefined;
}

function uncheckable(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') > MAX_PASSWORD_BYTES || text.includes('\0');
}

/**
 * How a presented password compares with a stored hash:
 * - `match`: the hash is of the password's normalised form;
 * - `legacy_match`: the hash is of the password exactly as sent, made before passwords were
 *   normalised; the caller should store a hash of the normalised form (see UserStore.upgradePasswordHash);
 * - `mismatch`: neither (or no hash at all).
 */
export type PasswordVerdict = 'match' | 'legacy_match' | 'mismatch';

export interface PasswordHasher {
  /** A bcrypt hash of the password's normalised form (normalisePassword). */
  hash(password: string): Promise<string>;
  /**
   * Compares in constant time, the normalised form first, then — only when it differs from the
   * text as sent and could have been hashed before — the text as sent (hashes from before
   * normalisation). With no hash (unknown email) it runs the same comparisons against a dummy
   * hash of the same cost, so both cases take the same time (invariant 9).
   */
  verify(password: string, hash: string | undefined): Promise<PasswordVerdict>;
}

export function createPasswordHasher(rounds: number): PasswordHasher {
  // Async bcrypt runs on the libuv pool, never on the event loop (invariant 10).
  const dummy = bcrypt.hash('jts-dummy-password-for-timing', rounds);
  return {
    hash: (password) => bcrypt.hash(normalisePassword(password), rounds),
    async verify(password, hash) {
      const against = hash ?? (await dummy);
      const normalised = normalisePassword(password);
      const matches = await bcrypt.compare(normalised, against);
      // Whether a second comparison runs depends only on the text sent, never on the account.
      const legacy = !matches && normalised !== password && !uncheckable(password) && (await bcrypt.compare(password, against));
      if (hash === undefined) return 'mismatch';
      return matches ? 'match' : legacy ? 'legacy_match' : 'mismatch';
    },
  };
}
