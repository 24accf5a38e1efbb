import { passwordProblem, uncheckablePasswordProblem } from '../users/password.js';
import { AuthError } from './errors.js';

/** For a sign-in or a current password: one bcrypt could not check exactly is refused outright. */
export function assertCheckablePassword(password: string): void {
  const problem = uncheckablePasswordProblem(password);
  if (problem !== undefined) throw new AuthError('password_rejected', { message: problem });
}

/** For a new password: the policy of users/password.ts (NIST SP 800-63B). Throws `password_rejected`. */
export function assertAcceptablePassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new AuthError('password_rejected', { message: problem });
}
