import type { Clock } from '../jts/clock.js';
import type { RedisClient } from '../redis/connect.js';
import { guardStore } from '../redis/guard.js';
import type { RedisKeys } from './redis-keys.js';

/** Why a listed session ended. Only a replay is recorded today (issue 21: "ended: token theft detected"). */
export type EndedReason = 'token_theft';

/** A session that ended, as the owner's session list shows it for a while afterwards. */
export interface EndedSession {
  aid: string;
  /** The session's device description (SessionRecord.device); '' when it was not known. */
  device: string;
  /** Ms since the epoch. */
  endedAt: number;
  reason: EndedReason;
}

/**
 * A small, bounded record of each user's recently ended sessions: at most MAX_ENDED_PER_USER,
 * each listed for `listedForMs` after it ended. Written after a session store's script reported
 * the ending (never inside the scripts: a record is a courtesy to the owner, not part of the
 * revocation), so a failed write loses a line of the list and revokes nothing less.
 */
export interface EndedSessionLog {
  /** Adds `ended` (newest last), evicting the oldest past the cap. */
  record(prn: string, ended: readonly EndedSession[]): Promise<void>;
  /** The user's ended sessions still listed at `now`, newest first. */
  list(prn: string, now: number): Promise<EndedSession[]>;
}

/** Entries kept per user: one screen of the session list, and a bound on what a user can make us store. */
export const MAX_ENDED_PER_USER = 20;

/**
 * One entry as the Redis list keeps it: compact JSON with one-letter names (a = aid, d = device,
 * t = ended ms, r = reason). One entry of a 22-character aid costs about 100 bytes of Redis memory
 * (README, "Token theft alerts").
 */
function encode(ended: EndedSession): string {
  return JSON.stringify({ a: ended.aid, d: ended.device, t: ended.endedAt, r: ended.reason });
}

function decode(raw: string): EndedSession | undefined {
  try {
    const value = JSON.parse(raw) as { a?: unknown; d?: unknown; t?: unknown; r?: unknown };
    if (typeof value.a !== 'string' || typeof value.d !== 'string' || typeof value.t !== 'number' || value.r !== 'token_theft') return undefined;
    return { aid: value.a, device: value.d, endedAt: value.t, reason: value.r };
  } catch {
    // Not ours (an older or foreign writer): left out of the list rather than failing it.
    return undefined;
  }
}

/**
 * In Redis: a list per user (`RedisKeys.endedSessions`), LPUSH then LTRIM to the cap, its TTL
 * renewed to `listedForMs` at each write. The TTL only cleans up a user who stopped having
 * sessions ended; each entry's own age decides whether it is still listed.
 */
export class RedisEndedSessions implements EndedSessionLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly listedForMs: number,
  ) {}

  record(prn: string, ended: readonly EndedSession[]): Promise<void> {
    if (ended.length === 0 || this.listedForMs <= 0) return Promise.resolve();
    const key = this.keys.endedSessions(prn);
    return guardStore(async () => {
      // One slot, one MULTI: the cap and the TTL are never missing after a push.
      await this.redis
        .multi()
        .lpush(key, ...ended.map(encode))
        .ltrim(key, 0, MAX_ENDED_PER_USER - 1)
        .pexpire(key, this.listedForMs)
        .exec();
    });
  }

  list(prn: string, now: number): Promise<EndedSession[]> {
    if (this.listedForMs <= 0) return Promise.resolve([]);
    return guardStore(async () => {
      const raw = await this.redis.lrange(this.keys.endedSessions(prn), 0, MAX_ENDED_PER_USER - 1);
      return raw.map(decode).filter((e): e is EndedSession => e !== undefined && e.endedAt > now - this.listedForMs);
    });
  }
}

/** The same rules in process memory (development, tests). */
export class MemoryEndedSessions implements EndedSessionLog {
  private readonly users = new Map<string, EndedSession[]>();

  constructor(
    private readonly clock: Clock,
    private readonly listedForMs: number,
  ) {}

  record(prn: string, ended: readonly EndedSession[]): Promise<void> {
    if (ended.length === 0 || this.listedForMs <= 0) return Promise.resolve();
    const now = this.clock.now();
    const kept = [...[...ended].reverse(), ...(this.users.get(prn) ?? [])].filter((e) => e.endedAt > now - this.listedForMs);
    this.users.set(prn, kept.slice(0, MAX_ENDED_PER_USER));
    return Promise.resolve();
  }

  list(prn: string, now: number): Promise<EndedSession[]> {
    const kept = (this.users.get(prn) ?? []).filter((e) => e.endedAt > now - this.listedForMs);
    if (kept.length === 0) this.users.delete(prn);
    return Promise.resolve(kept.map((e) => ({ ...e })));
  }
}
