/**
 * True when the user's credential epoch (from the mirror) is past the one the session was signed
 * in under: a sign-in with the old password that raced a password change or reset and slipped
 * past its revocations (review F2) — renewal and verification refuse it with `JTS-401-04`. A
 * session stored before sessions kept their epoch has none and is left to those revocations.
 */
export function isSuperseded(sessionEpoch: number | undefined, userEpoch: number): boolean {
  return sessionEpoch !== undefined && userEpoch > sessionEpoch;
}
