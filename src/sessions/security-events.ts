/**
 * What the session store publishes when a session ends, and how an entry of the security-event
 * stream is written (the field names the Lua scripts use too: see lua/include/publish.lua).
 * The stream is the source of the feed at GET /jts/events; signing happens when it is served.
 */

/** Why a session ended, as `reason_admin` says (docs: the wire format of issue 20). */
export type RevocationReason = 'logout' | 'revoked' | 'replay_detected' | 'password_changed' | 'password_reset' | 'user_disabled' | 'user_deleted' | 'admin' | 'evicted';

/** CAEP's `initiating_entity`. */
export type InitiatingEntity = 'user' | 'admin' | 'policy' | 'system';

/** Every revocation says why: the store publishes it in the same step as the revocation. */
export interface SessionEndCause {
  reason: RevocationReason;
  initiator: InitiatingEntity;
}

export type SecurityEventRecord =
  | { id: string; type: 'session-revoked'; prn: string; aid: string; reason: RevocationReason; initiator: InitiatingEntity; /** ms */ at: number; /** ms: the latest exp a BearerPass of the session can carry */ notAfter: number }
  | { id: string; type: 'credential-change'; prn: string; initiator: InitiatingEntity; at: number };

/** An event before the stream gave it an id. */
export type NewSecurityEvent = SecurityEventRecord extends infer E ? (E extends SecurityEventRecord ? Omit<E, 'id'> : never) : never;

/** A page of the stream; `gap` when entries after the requested id were trimmed before it was read. */
export interface EventPage {
  events: SecurityEventRecord[];
  gap: boolean;
  /** The oldest id still retained (or the newest trimmed one when none is): what a `gap` event names. */
  oldest: string | undefined;
}

/** The stream of security events, read by the feed. Failures of Redis are StoreError('service_unavailable'). */
export interface SecurityEventLog {
  /** Entries after `after` (exclusive), oldest first; from the oldest retained one without it. */
  read(after: string | undefined, limit: number): Promise<EventPage>;
  /** The id of the newest entry ('0-0' when none): where a tail starts. */
  newestId(): Promise<string>;
  /**
   * Entries after `cursor`, waiting up to `timeoutMs` for one to arrive (empty when none did).
   * Redis: a blocking XREAD on a connection of its own, so one per instance, whatever the subscribers.
   */
  tail(cursor: string, limit: number, timeoutMs: number): Promise<SecurityEventRecord[]>;
  /** Drops entries older than the retention (the scripts trim on every write; this covers a quiet stream). */
  trim(): Promise<void>;
  /** Ends a waiting tail and releases its connection. */
  close(): void;
}

/** How long entries are kept and how long the BearerPasses of a revoked session can live. */
export interface EventRetention {
  /** Entries older than this are trimmed (MINID). */
  retentionMs: number;
  /** Revocation time + this = `jts_not_after`: the longest life of a session's BearerPass plus the grace window. */
  notAfterMs: number;
}

/** What the retention is derived from (all seconds, from the configuration). */
export interface RetentionInputs {
  /** JTS_BEARER_PASS_LIFETIME. */
  bearerPassLifetimeSeconds: number;
  /** JTS_EXCHANGE_TOKEN_LIFETIME: an exchanged token carries its subject's aid too. */
  exchangeTokenLifetimeSeconds: number;
  /** JTS_ROTATION_GRACE: a BearerPass handed out again within the window. */
  rotationGraceSeconds: number;
  /** JTS_CLOCK_SKEW. */
  clockSkewSeconds: number;
  /** JTS_EVENTS_RETENTION when set: at least the bound below (the configuration refuses less). */
  retentionSeconds?: number;
}

/**
 * The bound: a revoked session's BearerPasses live at most the longest session-bound token life
 * plus the grace window after the revocation (`notAfter`); entries are kept that long plus the
 * clock skew, so a gap only ever loses events whose tokens every verifier already refuses as expired.
 */
export function minimumRetentionSeconds(inputs: Omit<RetentionInputs, 'retentionSeconds'>): number {
  return Math.max(inputs.bearerPassLifetimeSeconds, inputs.exchangeTokenLifetimeSeconds) + inputs.rotationGraceSeconds + inputs.clockSkewSeconds;
}

export function eventRetention(inputs: RetentionInputs): EventRetention {
  const minimum = minimumRetentionSeconds(inputs);
  return {
    retentionMs: Math.max(minimum, inputs.retentionSeconds ?? minimum) * 1000,
    notAfterMs: (Math.max(inputs.bearerPassLifetimeSeconds, inputs.exchangeTokenLifetimeSeconds) + inputs.rotationGraceSeconds) * 1000,
  };
}

/** The retention of the default configuration (300 s BearerPasses, 900 s exchanged tokens, 10 s grace, 5 s skew). */
export const DEFAULT_EVENT_RETENTION = eventRetention({ bearerPassLifetimeSeconds: 300, exchangeTokenLifetimeSeconds: 900, rotationGraceSeconds: 10, clockSkewSeconds: 5 });

/**
 * Stream entry fields: ty 'sr' (session revoked) | 'cc' (credential change), p prn, a aid, rs reason,
 * ie initiating entity, at event time (ms), na not-after (ms).
 */
export function encodeEventFields(event: NewSecurityEvent): string[] {
  if (event.type === 'credential-change') return ['ty', 'cc', 'p', event.prn, 'ie', event.initiator, 'at', String(event.at)];
  return ['ty', 'sr', 'p', event.prn, 'a', event.aid, 'rs', event.reason, 'ie', event.initiator, 'at', String(event.at), 'na', String(event.notAfter)];
}

/** An entry as XRANGE/XREAD return it; undefined for one this build does not know (skipped). */
export function decodeEventEntry(id: string, flat: readonly string[]): SecurityEventRecord | undefined {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i] as string, flat[i + 1] as string);
  const prn = f.get('p');
  const initiator = f.get('ie') as InitiatingEntity | undefined;
  const at = Number(f.get('at'));
  if (prn === undefined || initiator === undefined || !Number.isFinite(at)) return undefined;
  if (f.get('ty') === 'cc') return { id, type: 'credential-change', prn, initiator, at };
  const aid = f.get('a');
  const reason = f.get('rs') as RevocationReason | undefined;
  const notAfter = Number(f.get('na'));
  if (f.get('ty') !== 'sr' || aid === undefined || reason === undefined || !Number.isFinite(notAfter)) return undefined;
  return { id, type: 'session-revoked', prn, aid, reason, initiator, at, notAfter };
}

/** A Redis stream id, `<ms>-<seq>`. */
export const STREAM_ID = /^(\d{1,16})-(\d{1,16})$/;

/** Orders two stream ids (both matching STREAM_ID). */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
