/** BearerPass JOSE header and claims (JTS.md, "BearerPass"). */

export const JTS_TYP = 'JTS-S/v1';

/** JTS.md: a `grc` above this is treated as this. */
export const MAX_GRACE_SECONDS = 60;

export type SessionPolicyName = 'allow_all' | 'single' | 'notify' | `max:${number}`;

export interface BearerPassHeader {
  alg: string;
  typ: typeof JTS_TYP;
  kid: string;
}

export interface BearerPassClaims {
  /** Principal: the user id. */
  prn: string;
  /** Anchor id: the session. */
  aid: string;
  /** Unique id of this token. */
  tkn_id: string;
  iat: number;
  exp: number;
  iss?: string;
  aud?: string | string[];
  perm?: string[];
  grc?: number;
  org?: string;
  atm?: string;
  ath?: number;
  spl?: string;
  dfp?: string;
  /** Space-separated scopes (RFC 8693 §4.2): tokens of /jts/token only. */
  scope?: string;
  /** The actor (RFC 8693 §4.1): the service client that exchanged a user's token for this one. */
  act?: { sub: string };
  /** How the user signed in: RFC 8176 Authentication Method Reference values (`pwd`, `otp`, …). */
  amr?: string[];
  /** When the user signed in (OIDC Core §2, RFC 9068 §2.2.1), seconds since the epoch; renewals keep it. */
  auth_time?: number;
  /** Whether the account's email address is verified (OIDC Core §5.1), as of this token's minting. */
  email_verified?: boolean;
}

type ClaimCheck = (value: unknown) => boolean;

const isNonEmptyString: ClaimCheck = (v) => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isNumericDate: ClaimCheck = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStringArray: ClaimCheck = (v) => Array.isArray(v) && v.length <= 256 && v.every((p) => typeof p === 'string');
/** RFC 6749 §3.3 scope-tokens separated by single spaces; long enough for many, bounded. */
const isScope: ClaimCheck = (v) => typeof v === 'string' && v.length <= 4096 && /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(v);
const isActor: ClaimCheck = (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && isNonEmptyString((v as { sub?: unknown }).sub);
const isBoolean: ClaimCheck = (v) => typeof v === 'boolean';
const isAudience: ClaimCheck = (v) => isNonEmptyString(v) || (isStringArray(v) && (v as unknown[]).length > 0);

const REQUIRED: Record<string, ClaimCheck> = {
  prn: isNonEmptyString,
  aid: isNonEmptyString,
  tkn_id: isNonEmptyString,
  iat: isNumericDate,
  exp: isNumericDate,
};

const OPTIONAL: Record<string, ClaimCheck> = {
  iss: isNonEmptyString,
  aud: isAudience,
  perm: isStringArray,
  grc: isNumericDate,
  org: isNonEmptyString,
  atm: isNonEmptyString,
  ath: isNumericDate,
  spl: isNonEmptyString,
  dfp: isNonEmptyString,
  scope: isScope,
  act: isActor,
  amr: isStringArray,
  auth_time: isNumericDate,
  email_verified: isBoolean,
};

/** Returns the name of the first required claim that is missing or mistyped, else undefined. */
export function findBadClaim(payload: Record<string, unknown>): string | undefined {
  for (const [name, check] of Object.entries(REQUIRED)) {
    if (!check(payload[name])) return name;
  }
  for (const [name, check] of Object.entries(OPTIONAL)) {
    if (payload[name] !== undefined && !check(payload[name])) return name;
  }
  return undefined;
}

export function effectiveGrace(claims: Pick<BearerPassClaims, 'grc'>): number {
  return Math.min(claims.grc ?? 0, MAX_GRACE_SECONDS);
}
