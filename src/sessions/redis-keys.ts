import type { EventRetention, SessionEndCause } from './security-events.js';
import type { StepUp, UserProfile, UserSecurity } from './types.js';

/**
 * The Redis schema: every key the server uses, and the fields of the user mirror, built here and
 * nowhere else (the Lua scripts name the same fields in their headers).
 *
 * All keys of one user — the user's security mirror, each of their sessions, the grace slot of each
 * session and the index of their sessions — share the hash tag `{u:<prn>}`, so they live in one
 * Redis Cluster slot. That is a deliberate widening of "one session, one slot": it lets a single
 * Lua script enforce a session policy (evict the oldest), revoke every session of a principal on
 * replay, or list sessions, atomically, on a single Redis, Sentinel or Cluster alike.
 */
export interface RedisKeys {
  /** The user's security mirror (see UserSecurity): USER_MIRROR_FIELDS and USER_PROFILE_FIELDS. */
  userMirror(prn: string): string;
  /**
   * 0.1 kept whole user records in Redis: this set of their ids and, at userMirror(id), a hash with
   * email, name, passwordHash, permissions, disabled, createdAt, updatedAt. Read only by
   * `npm run user -- import-from-redis`.
   */
  legacyUserIds(): string;
  session(prn: string, aid: string): string;
  grace(prn: string, aid: string): string;
  /**
   * The user's sessions (zset aid -> created ms) once they have two or more. A user's only session
   * is listed instead by its aid in the mirror's field SESSION_SLOT (no key: ~170 B less for each
   * one-session user); create-3.lua moves it into the index when a second session opens, and
   * remove-user-2.lua before the mirror is deleted. Every script that reads the index reads both, so
   * an index written by an earlier build (every session in it) keeps working.
   */
  sessionIndex(prn: string): string;
  /** Prefixes the Lua scripts append an aid to (same slot as the index). */
  sessionPrefix(prn: string): string;
  gracePrefix(prn: string): string;
  rateLimitPrefix(): string;
  /**
   * The security-event stream (security-events.ts), one for the deployment. Not in any user's
   * slot: on a Redis Cluster the scripts cannot write it, and the store publishes after them.
   */
  securityEvents(): string;
  /**
   * The user's recently ended sessions (ended-sessions.ts): a capped list written by the server
   * after a script reports an ending, never by the scripts.
   */
  endedSessions(prn: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  const tag = (prn: string) => `${prefix}{u:${prn}}`;
  return {
    // The key and its permissions/disabled fields are those of 0.1's user hash, so a Redis upgraded
    // in place keeps working as a mirror (epoch 0) until the next change or resync rewrites it.
    userMirror: (prn) => `${tag(prn)}:user`,
    legacyUserIds: () => `${prefix}users`,
    session: (prn, aid) => `${tag(prn)}:s:${aid}`,
    grace: (prn, aid) => `${tag(prn)}:g:${aid}`,
    sessionIndex: (prn) => `${tag(prn)}:sessions`,
    sessionPrefix: (prn) => `${tag(prn)}:s:`,
    gracePrefix: (prn) => `${tag(prn)}:g:`,
    rateLimitPrefix: () => `${prefix}rl:`,
    securityEvents: () => `${prefix}events`,
    endedSessions: (prn) => `${tag(prn)}:ended`,
  };
}

/** The mirror's field holding the aid of a user's only session (see RedisKeys.sessionIndex). */
export const SESSION_SLOT = 's1';

/**
 * Field names of the user mirror hash, as rotate-4.lua and put-user-1.lua read them. `version` is
 * the account row's version (users.version): put-user-1.lua never lets an older one replace a
 * newer one. `restriction` is '1' while the mirror holds the stricter state written before a SQL
 * write (see MirroredUserStore), '0' once it holds a row as written. `ev` is users.email_verified
 * ('1' | '0'), read by every renewal for the BearerPass's `email_verified`.
 */
export const USER_MIRROR_FIELDS = ['permissions', 'disabled', 'epoch', 'version', 'restriction', 'ev'] as const;

/**
 * Fields of a session hash the server reads besides its scripts' own: state ('a' active, 'c'
 * compromised), generation, created (ms: also the sign-in's auth_time), device hash, `am` (the
 * sign-in's RFC 8176 amr values, comma-separated) and `ep` (the credential epoch it was signed in
 * under). A session written before `am`/`ep` existed has neither. `sa` is the latest step-up
 * (encodeStepUp), absent until POST /jts/reauth records one. `dv` is the device description
 * (create-3.lua writes it at sign-in): read with the state so that a renewal remembers it and a
 * theft alert can name the session a replay ends, whose hash is gone by then.
 */
export const SESSION_STATE_FIELDS = ['st', 'g', 'c', 'dh', 'am', 'ep', 'sa', 'dv'] as const;

/**
 * Field `g` of a session hash holds GENERATION_BASE + the generation: Redis keeps any such value
 * below 2^31 as a 32-bit integer (6 bytes in the hash's listpack), so the hash's size never changes
 * with renewals. Sessions written before hold the generation itself as a 15-digit zero-padded
 * string (always below the base); rotate-4.lua rewrites them at their next renewal.
 */
export const GENERATION_BASE = 8_388_608;

/** A generation as read from field `g` (either form). */
export function decodeGeneration(field: string | null | undefined): number {
  const value = Number(field);
  return value >= GENERATION_BASE ? value - GENERATION_BASE : value;
}

/**
 * A step-up as the session hash keeps it: one field `sa`, `<ms>:<amr, comma-separated>`, e.g.
 * `1764550000000:pwd,otp,mfa`. One field, not two: each field of a small hash costs its name and
 * two entry headers, and rotate-4.lua compares the whole value with one string comparison.
 */
export function encodeStepUp(stepUp: StepUp): string {
  return `${String(stepUp.authTime)}:${encodeAmr(stepUp.amr)}`;
}

/** `sa` as read; undefined when absent or not of encodeStepUp's shape (never a guess). */
export function decodeStepUp(field: string | null | undefined): StepUp | undefined {
  const match = field == null ? null : /^(\d{1,15}):([a-z,]+)$/.exec(field);
  if (!match) return undefined;
  return { authTime: Number(match[1]), amr: (match[2] ?? '').split(',') };
}

/** amr values as a session hash keeps them: RFC 8176 values are short tokens without commas. */
export function encodeAmr(amr: readonly string[]): string {
  return amr.join(',');
}

/**
 * The profile fields of the same hash (UserProfile), read only by `GET /api/profile`; 0.1's user
 * hash had them under the same names.
 */
export const USER_PROFILE_FIELDS = ['email', 'name'] as const;

/** USER_MIRROR_FIELDS then USER_PROFILE_FIELDS, as put-user-1.lua takes them ('' profile: none given). */
export type EncodedUserMirror = [permissions: string, disabled: string, epoch: string, version: string, restriction: string, emailVerified: string, email: string, name: string];

/**
 * How put-user-1.lua decides whether to write: `absent` only where there is no mirror (the rebuild
 * at sign-in); `newer` unless the mirror holds a higher version; `repair` as `newer`, and over a
 * restriction of any version (resync: PostgreSQL wins over a write that failed half-way).
 */
export type PutUserMode = 'absent' | 'newer' | 'repair';

/**
 * Permissions as the mirror stores them; the rotate script compares an expected list byte for byte
 * with this encoding, so order matters and nothing else may write the field.
 */
export function encodePermissions(permissions: readonly string[]): string {
  return JSON.stringify(permissions);
}

/** The mirror's fields in EncodedUserMirror order. */
export function encodeUserMirror(user: UserSecurity, restriction: boolean): EncodedUserMirror {
  return [encodePermissions(user.permissions), user.disabled ? '1' : '0', String(user.credentialEpoch), String(user.version), restriction ? '1' : '0', user.emailVerified ? '1' : '0', user.profile?.email ?? '', user.profile?.name ?? ''];
}

/** A profile read with HMGET in USER_PROFILE_FIELDS order; undefined when the mirror has none. */
export function decodeUserProfile(fields: readonly (string | null)[]): UserProfile | undefined {
  const [email, name] = fields;
  if (email === null || email === undefined || email === '' || name === null || name === undefined) return undefined;
  return { email, name };
}

/**
 * A mirror read with HMGET in USER_MIRROR_FIELDS order; undefined when there is none. A mirror
 * written before versions existed (0.1's user hash, or this release's predecessor) reads as
 * epoch and version 0. One written before `ev` existed reads as not verified: the hot paths never
 * ask SQL, and `false` only under-claims (a service that requires a verified address refuses
 * until the next write of the account, a sign-in after Redis lost it, or `npm run user -- resync`).
 */
export function decodeUserMirror(fields: readonly (string | null)[]): Omit<UserSecurity, 'profile'> | undefined {
  const [permissions, disabled, epoch, version, , emailVerified] = fields;
  if (permissions === null || permissions === undefined || disabled === null || disabled === undefined) return undefined;
  return { permissions: JSON.parse(permissions) as string[], disabled: disabled !== '0', credentialEpoch: Number(epoch ?? 0), version: Number(version ?? 0), emailVerified: emailVerified === '1' };
}

/**
 * What a session-ending script needs to publish its events (lua/include/publish.lua reads it):
 * JSON `{s stream, m retention ms, n not-after ms, r reason, i initiating entity, c 1 = credential
 * change too, p prn}`. Built as the returned function of the prn over a prefix serialised once per
 * cause, since every renewal sends one (for a replay it might detect): ~130 ns instead of ~560.
 */
export function publishSpecFor(stream: string, retention: EventRetention, cause: SessionEndCause, credentialChange = false): (prn: string) => string {
  const fixed = JSON.stringify({ s: stream, m: retention.retentionMs, n: retention.notAfterMs, r: cause.reason, i: cause.initiator, ...(credentialChange ? { c: 1 } : {}) });
  const prefix = `${fixed.slice(0, -1)},"p":`;
  return (prn) => `${prefix}${JSON.stringify(prn)}}`;
}
