import type { SessionPolicyName } from '../jts/bearer-pass/claims.js';

/** JTS_SESSION_POLICY, parsed: how many live sessions one user may hold. */
export type SessionPolicy =
  | { kind: 'allow_all' }
  | { kind: 'notify' }
  | { kind: 'single' }
  | { kind: 'max'; max: number };

/**
 * Even `allow_all` keeps at most this many live sessions per user (the oldest goes first): every
 * session script walks the user's index, so an unbounded index would let one account's logins
 * stall Redis for everybody.
 */
export const MAX_SESSIONS_PER_USER = 100;

export function parseSessionPolicy(value: string): SessionPolicy {
  if (value === 'allow_all' || value === 'notify' || value === 'single') return { kind: value };
  const match = /^max:([1-9][0-9]{0,2})$/.exec(value);
  if (match && Number(match[1]) <= MAX_SESSIONS_PER_USER) return { kind: 'max', max: Number(match[1]) };
  throw new Error(`expected allow_all, single, notify or max:N (N from 1 to ${MAX_SESSIONS_PER_USER})`);
}

/** The `spl` claim. */
export function policyName(policy: SessionPolicy): SessionPolicyName {
  return policy.kind === 'max' ? `max:${policy.max}` : policy.kind;
}

/** Sessions a user may keep once the new one exists. */
export function sessionLimit(policy: SessionPolicy): number {
  switch (policy.kind) {
    case 'allow_all':
    case 'notify':
      return MAX_SESSIONS_PER_USER;
    case 'single':
      return 1;
    case 'max':
      return policy.max;
  }
}
