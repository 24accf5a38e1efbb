import type { SessionPolicyName } from '../jts/bearer-pass/claims.js';

/** JTS_SESSION_POLICY, parsed: how many live sessions one user may hold. */
export type SessionPolicy =
  | { kind: 'allow_all' }
  | { kind: 'notify' }
  | { kind: 'single' }
  | { kind: 'max'; max: number };

export function parseSessionPolicy(value: string): SessionPolicy {
  if (value === 'allow_all' || value === 'notify' || value === 'single') return { kind: value };
  const match = /^max:([1-9][0-9]{0,3})$/.exec(value);
  if (match) return { kind: 'max', max: Number(match[1]) };
  throw new Error('expected allow_all, single, notify or max:N');
}

/** The `spl` claim. */
export function policyName(policy: SessionPolicy): SessionPolicyName {
  return policy.kind === 'max' ? `max:${policy.max}` : policy.kind;
}

/** Sessions a user may keep once the new one exists; undefined = no limit. */
export function sessionLimit(policy: SessionPolicy): number | undefined {
  switch (policy.kind) {
    case 'allow_all':
    case 'notify':
      return undefined;
    case 'single':
      return 1;
    case 'max':
      return policy.max;
  }
}
