import type { RedisClient } from '../redis/connect.js';
import { guardStore } from '../redis/guard.js';
import { defineSessionScripts } from '../redis/scripts.js';
import { encodePermissions } from '../users/redis-store.js';
import { sessionLimit, type SessionPolicy } from './policy.js';
import type { RedisKeys } from './redis-keys.js';
import type { CreateResult, NewSession, RotateRequest, RotateResult, SessionRecord, SessionState, SessionStore } from './types.js';

/**
 * Sessions in Redis. One round trip per operation: reads are single commands, every
 * read-check-write is one Lua script (see ./lua). All of a user's keys share one hash slot.
 */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    defineSessionScripts(redis);
  }

  create(session: NewSession, options: { policy: SessionPolicy; lifetimeMs: number; now: number }): Promise<CreateResult> {
    const { keys } = this;
    return guardStore(async () => {
      const evicted = await this.redis.jtsCreateSession(
        keys.session(session.prn, session.aid),
        keys.sessionIndex(session.prn),
        session.aid,
        options.now,
        options.lifetimeMs,
        sessionLimit(options.policy),
        keys.sessionPrefix(session.prn),
        keys.gracePrefix(session.prn),
        session.device,
        session.ipPrefix,
        session.deviceHash ?? '',
      );
      return { evicted };
    });
  }

  state(prn: string, aid: string): Promise<SessionState> {
    return guardStore(async () => {
      const [st, generation, createdAt, deviceHash] = await this.redis.hmget(this.keys.session(prn, aid), 'st', 'g', 'c', 'dh');
      if (st === 'a') return { state: 'active', generation: Number(generation), createdAt: Number(createdAt), deviceHash: deviceHash ?? undefined };
      if (st === 'c') return { state: 'compromised' };
      return { state: 'missing' };
    });
  }

  rotate(request: RotateRequest): Promise<RotateResult> {
    const { keys } = this;
    const { prn, aid } = request;
    return guardStore(async () => {
      const reply = await this.redis.jtsRotateSession(
        keys.session(prn, aid),
        keys.grace(prn, aid),
        keys.sessionIndex(prn),
        keys.user(prn),
        request.presented,
        request.sealedBearerPass,
        request.now,
        request.graceMs,
        request.tombstoneMs,
        request.replayRevoke,
        keys.sessionPrefix(prn),
        keys.gracePrefix(prn),
        aid,
        request.onlyIfUser ? encodePermissions(request.onlyIfUser.permissions) : '',
      );
      return toRotateResult(reply);
    });
  }

  list(prn: string): Promise<SessionRecord[]> {
    return guardStore(async () => {
      const flat = await this.redis.jtsListSessions(this.keys.sessionIndex(prn), this.keys.sessionPrefix(prn));
      const records: SessionRecord[] = [];
      for (let i = 0; i + 6 < flat.length; i += 7) {
        const [aid, generation, createdAt, lastActiveAt, device, ipPrefix, deviceHash] = flat.slice(i, i + 7) as [string, string, string, string, string, string, string];
        records.push({
          prn,
          aid,
          generation: Number(generation),
          createdAt: Number(createdAt),
          lastActiveAt: Number(lastActiveAt),
          device,
          ipPrefix,
          deviceHash: deviceHash === '' ? undefined : deviceHash,
        });
      }
      return records;
    });
  }

  revoke(prn: string, aid: string): Promise<boolean> {
    const { keys } = this;
    return guardStore(async () => {
      const ended = await this.redis.jtsRevokeSession(keys.session(prn, aid), keys.grace(prn, aid), keys.sessionIndex(prn), aid);
      return ended === 1;
    });
  }

  revokeAll(prn: string, keepAid?: string): Promise<string[]> {
    const { keys } = this;
    return guardStore(() => this.redis.jtsRevokeAllSessions(keys.sessionIndex(prn), keepAid ?? '', keys.sessionPrefix(prn), keys.gracePrefix(prn)));
  }

  ping(): Promise<void> {
    return guardStore(async () => {
      await this.redis.ping();
    });
  }
}

/** The script's integer codes, mapped to typed outcomes in this one place. */
function toRotateResult(reply: unknown[]): RotateResult {
  switch (reply[0]) {
    case 1:
      return { outcome: 'rotated', generation: Number(reply[1]) };
    case 2:
      return { outcome: 'grace', generation: Number(reply[1]), sealedBearerPass: String(reply[2]) };
    case 3:
      return { outcome: 'replay', revoked: reply.slice(1).map(String) };
    case 4:
      return { outcome: 'compromised' };
    case 5:
      return { outcome: 'stale' };
    case 0:
      return { outcome: 'missing' };
    default:
      throw new Error(`unexpected reply from the rotate script: ${JSON.stringify(reply[0])}`);
  }
}
