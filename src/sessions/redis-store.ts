import { Cluster } from 'ioredis';
import { StoreError, STORE_RETRY_AFTER_SECONDS } from '../redis/store-error.js';
import { redisClockFor, type RedisTime } from '../redis/clock.js';
import type { RedisClient } from '../redis/connect.js';
import { guardStore } from '../redis/guard.js';
import { defineSessionScripts, SCRIPT_LATE } from './redis-scripts.js';
import { sessionLimit, type SessionPolicy } from './policy.js';
import { decodeGeneration, decodeStepUp, decodeUserMirror, decodeUserProfile, encodeAmr, encodeStepUp, encodePermissions, encodeUserMirror, publishSpecFor, SESSION_STATE_FIELDS, USER_MIRROR_FIELDS, USER_PROFILE_FIELDS, type RedisKeys } from './redis-keys.js';
import { DEFAULT_EVENT_RETENTION, encodeEventFields, type EventRetention, type SessionEndCause } from './security-events.js';
import type { CreateResult, ExpectedUser, NewSession, PutUserOptions, RevokeAllCause, RotateRequest, RotateResult, SessionRecord, SessionState, SessionStore, StepUp, StepUpResult, UserProfile, UserSecurity } from './types.js';

const EVICTED: SessionEndCause = { reason: 'evicted', initiator: 'policy' };
const REPLAY: SessionEndCause = { reason: 'replay_detected', initiator: 'system' };
/** A sign-in that raced a password change, found out at its first renewal (rotate-4.lua's outcome 6). */
const SUPERSEDED: SessionEndCause = { reason: 'password_changed', initiator: 'system' };

export interface RedisSessionStoreOptions {
  /**
   * The client's command timeout (REDIS_COMMAND_TIMEOUT); by default the one the client was
   * created with. Half of it is each writing script's budget; none means no deadline.
   */
  commandTimeoutMs?: number;
  /** Redis's clock as seen from here; by default the client's shared RedisClock. */
  redisTime?: RedisTime;
  /** Retention of the security-event stream and the events' not-after (see eventRetention); by default the default configuration's. */
  retention?: EventRetention;
}

/**
 * Sessions in Redis. One round trip per operation: reads are single commands, every
 * read-check-write is one Lua script (see ./lua). All of a user's keys share one hash slot.
 *
 * A command that timed out here (503) may still be sitting in a slow or paused Redis, which runs
 * it later. So every script that writes carries a deadline on Redis's clock — sent at + half the
 * command timeout — and writes nothing when it starts past it: a script that did write started
 * early enough for its answer to arrive before the timeout, unless that answer is lost (a cut
 * connection, a stalled event loop here), and then the client's retry within the grace window
 * gets that rotation's answer.
 *
 * Security events: every script that ends sessions also appends them to the event stream, in the
 * same atomic step, on a single Redis or behind Sentinel. On a Redis Cluster the stream's slot is
 * not the user's, so the store appends right after the script instead: an instance that dies in
 * between has revoked without publishing (README, "Security events").
 */
export class RedisSessionStore implements SessionStore {
  private readonly redisTime: RedisTime;
  private readonly budgetMs: number;
  private readonly retention: EventRetention;
  /** The stream the scripts write; undefined on a Cluster, where the store appends after them. */
  private readonly inScriptStream: string | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    options: RedisSessionStoreOptions = {},
  ) {
    defineSessionScripts(redis);
    this.redisTime = options.redisTime ?? redisClockFor(redis);
    const timeoutMs = options.commandTimeoutMs ?? configuredCommandTimeout(redis);
    this.budgetMs = timeoutMs === undefined ? 0 : Math.max(1, Math.floor(timeoutMs / 2));
    this.retention = options.retention ?? DEFAULT_EVENT_RETENTION;
    this.inScriptStream = redis instanceof Cluster ? undefined : keys.securityEvents();
  }

  private readonly specs = new Map<string, (prn: string) => string>();

  /** The scripts' publish spec (redis-keys.ts), '' on a Cluster (the store publishes after them). */
  private spec(prn: string, cause: SessionEndCause, credentialChange = false): string {
    if (this.inScriptStream === undefined) return '';
    const key = `${cause.reason}|${cause.initiator}|${String(credentialChange)}`;
    let build = this.specs.get(key);
    if (build === undefined) {
      build = publishSpecFor(this.inScriptStream, this.retention, cause, credentialChange);
      this.specs.set(key, build);
    }
    return build(prn);
  }

  /**
   * The Cluster fallback: what a script could not publish, appended right after it. Not atomic with
   * the revocation; a failure here is the request's 503 (a retry finds the sessions already ended
   * and publishes nothing more — the limit README "Security events" states).
   */
  private async publishAfter(prn: string, aids: readonly string[], cause: SessionEndCause, credentialChange = false): Promise<void> {
    if (this.inScriptStream === undefined) await this.append(prn, aids, cause, credentialChange);
  }

  /** XADDs from here (auto-pipelined): the Cluster fallback, and the superseded outcome of a rotation. */
  private async append(prn: string, aids: readonly string[], cause: SessionEndCause, credentialChange = false): Promise<void> {
    if (aids.length === 0 && !credentialChange) return;
    const at = Math.round(this.redisTime.now());
    const minId = String(at - this.retention.retentionMs);
    const stream = this.keys.securityEvents();
    const adds = aids.map((aid) => this.redis.xadd(stream, 'MINID', '~', minId, '*', ...encodeEventFields({ type: 'session-revoked', prn, aid, reason: cause.reason, initiator: cause.initiator, at, notAfter: at + this.retention.notAfterMs })));
    if (credentialChange) adds.push(this.redis.xadd(stream, 'MINID', '~', minId, '*', ...encodeEventFields({ type: 'credential-change', prn, initiator: cause.initiator, at })));
    await Promise.all(adds);
  }

  /**
   * When this command leaves, and its deadline (0: none), both on Redis's clock. The estimate of
   * that clock may be behind by up to its measurement's round trip, which the deadline adds: a
   * deadline may come a little late but never early, so a loose first measurement (a busy
   * start-up) does not make every script late (503s seen in CI right after start). RedisClock
   * measures again within 250 ms when its measurement is loose.
   */
  private schedule(): { sentAt: number; deadline: number } {
    const sentAt = Math.round(this.redisTime.now());
    return { sentAt, deadline: this.budgetMs > 0 ? sentAt + this.budgetMs + Math.ceil(this.redisTime.uncertaintyMs ?? 0) : 0 };
  }

  /** A script that started past its deadline wrote nothing: the caller gets the timeout's 503. */
  private inTime<T>(reply: T | typeof SCRIPT_LATE): T {
    if (reply !== SCRIPT_LATE) return reply;
    this.redisTime.recheck?.();
    throw new StoreError('service_unavailable', { retryAfter: STORE_RETRY_AFTER_SECONDS, cause: new Error(`a session script started past its deadline (${this.budgetMs} ms after it was sent)`) });
  }

  create(session: NewSession, options: { policy: SessionPolicy; lifetimeMs: number; now: number }): Promise<CreateResult> {
    const { keys } = this;
    const { deadline } = this.schedule();
    return guardStore(async () => {
      const evicted = await this.redis.jtsCreateSession(
        keys.session(session.prn, session.aid),
        keys.sessionIndex(session.prn),
        keys.userMirror(session.prn),
        session.aid,
        options.now,
        options.lifetimeMs,
        sessionLimit(options.policy),
        keys.sessionPrefix(session.prn),
        keys.gracePrefix(session.prn),
        session.device,
        session.ipPrefix,
        session.deviceHash ?? '',
        deadline,
        encodeAmr(session.amr),
        session.credentialEpoch,
        this.spec(session.prn, EVICTED),
      );
      const ended = this.inTime(evicted);
      await this.publishAfter(session.prn, ended, EVICTED);
      return { evicted: ended };
    });
  }

  state(prn: string, aid: string): Promise<SessionState> {
    return guardStore(async () => toSessionState(await this.redis.hmget(this.keys.session(prn, aid), ...SESSION_STATE_FIELDS)));
  }

  sessionAndUser(prn: string, aid: string): Promise<{ session: SessionState; user: UserSecurity | undefined }> {
    return guardStore(async () => {
      // Two reads in one slot; auto-pipelining sends them in one round trip.
      const [session, user] = await Promise.all([this.redis.hmget(this.keys.session(prn, aid), ...SESSION_STATE_FIELDS), this.redis.hmget(this.keys.userMirror(prn), ...USER_MIRROR_FIELDS)]);
      return { session: toSessionState(session), user: decodeUserMirror(user) };
    });
  }

  userProfile(prn: string): Promise<UserProfile | undefined> {
    return guardStore(async () => decodeUserProfile(await this.redis.hmget(this.keys.userMirror(prn), ...USER_PROFILE_FIELDS)));
  }

  putUser(prn: string, user: UserSecurity, options: PutUserOptions = {}): Promise<boolean> {
    return guardStore(async () => (await this.redis.jtsPutUser(this.keys.userMirror(prn), options.mode ?? 'newer', ...encodeUserMirror(user, options.restriction ?? false), options.expiresInMs ?? 0)) === 1);
  }

  removeUser(prn: string): Promise<void> {
    return guardStore(async () => {
      await this.redis.jtsRemoveUser(this.keys.userMirror(prn), this.keys.sessionIndex(prn), this.keys.sessionPrefix(prn));
    });
  }

  rotate(request: RotateRequest): Promise<RotateResult> {
    return this.rotateScript(request, undefined);
  }

  rotateConfirmingUser(request: RotateRequest, user: ExpectedUser): Promise<RotateResult> {
    return this.rotateScript(request, user);
  }

  private rotateScript(request: RotateRequest, user: ExpectedUser | undefined): Promise<RotateResult> {
    const { keys } = this;
    const { prn, aid } = request;
    const { sentAt, deadline } = this.schedule();
    return guardStore(async () => {
      const reply = await this.redis.jtsRotateSession(
        keys.session(prn, aid),
        keys.grace(prn, aid),
        keys.sessionIndex(prn),
        keys.userMirror(prn),
        request.presented,
        request.sealedBearerPass,
        request.now,
        request.graceMs,
        request.tombstoneMs,
        request.replayRevoke,
        keys.sessionPrefix(prn),
        keys.gracePrefix(prn),
        aid,
        user ? encodePermissions(user.permissions) : '',
        sentAt,
        deadline,
        user ? user.credentialEpoch : 0,
        user?.emailVerified === true ? '1' : '0',
        this.spec(prn, REPLAY),
        user?.stepUp === undefined ? '' : encodeStepUp(user.stepUp),
      );
      const result = toRotateResult(this.inTime(reply));
      if (result.outcome === 'replay') await this.publishAfter(prn, result.revoked, REPLAY);
      // rotate-4.lua's superseded branch publishes nothing (it is shared with other work): always from here.
      if (result.outcome === 'superseded') await this.append(prn, [aid], SUPERSEDED);
      return result;
    });
  }

  list(prn: string): Promise<SessionRecord[]> {
    return guardStore(async () => {
      const flat = await this.redis.jtsListSessions(this.keys.sessionIndex(prn), this.keys.userMirror(prn), this.keys.sessionPrefix(prn));
      const records: SessionRecord[] = [];
      for (let i = 0; i + 6 < flat.length; i += 7) {
        const [aid, generation, createdAt, lastActiveAt, device, ipPrefix, deviceHash] = flat.slice(i, i + 7) as [string, string, string, string, string, string, string];
        records.push({
          prn,
          aid,
          generation: decodeGeneration(generation),
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

  stepUp(prn: string, aid: string, stepUp: StepUp, credentialEpoch: number): Promise<StepUpResult> {
    const { deadline } = this.schedule();
    return guardStore(async () => {
      const reply = this.inTime(await this.redis.jtsStepUpSession(this.keys.session(prn, aid), this.keys.userMirror(prn), encodeStepUp(stepUp), credentialEpoch, deadline));
      return toStepUpResult(reply);
    });
  }

  revoke(prn: string, aid: string, cause: SessionEndCause): Promise<boolean> {
    const { keys } = this;
    const { deadline } = this.schedule();
    return guardStore(async () => {
      const ended = this.inTime(await this.redis.jtsRevokeSession(keys.session(prn, aid), keys.grace(prn, aid), keys.sessionIndex(prn), keys.userMirror(prn), aid, deadline, this.spec(prn, cause))) === 1;
      if (ended) await this.publishAfter(prn, [aid], cause);
      return ended;
    });
  }

  revokeAll(prn: string, cause: RevokeAllCause, keepAid?: string, keepEpoch?: number): Promise<string[]> {
    const { keys } = this;
    const { deadline } = this.schedule();
    const credentialChange = cause.credentialChange === true;
    return guardStore(async () => {
      const ended = this.inTime(await this.redis.jtsRevokeAllSessions(keys.sessionIndex(prn), keys.userMirror(prn), keepAid ?? '', keys.sessionPrefix(prn), keys.gracePrefix(prn), deadline, keepEpoch ?? '', this.spec(prn, cause, credentialChange)));
      await this.publishAfter(prn, ended, cause, credentialChange);
      return ended;
    });
  }

  ping(): Promise<void> {
    return guardStore(async () => {
      await this.redis.ping();
    });
  }
}

/** The command timeout a client was created with (connect.ts sets one on every client). */
function configuredCommandTimeout(redis: RedisClient): number | undefined {
  return redis instanceof Cluster ? redis.options.redisOptions?.commandTimeout : redis.options.commandTimeout;
}

/** A session hash read with HMGET in SESSION_STATE_FIELDS order. */
function toSessionState([st, generation, createdAt, deviceHash, amr, epoch, stepUp, device]: (string | null)[]): SessionState {
  if (st === 'a') {
    return {
      state: 'active',
      generation: decodeGeneration(generation),
      createdAt: Number(createdAt),
      deviceHash: deviceHash ?? undefined,
      // Absent in a session written before they were stored (and '' is no amr value either).
      amr: amr === null || amr === undefined || amr === '' ? undefined : amr.split(','),
      credentialEpoch: epoch === null || epoch === undefined ? undefined : Number(epoch),
      stepUp: decodeStepUp(stepUp),
      device: device ?? '',
    };
  }
  if (st === 'c') return { state: 'compromised' };
  return { state: 'missing' };
}

/** step-up-2.lua's codes. */
function toStepUpResult(reply: number): StepUpResult {
  switch (reply) {
    case 1:
      return 'stepped';
    case 0:
      return 'missing';
    case 4:
      return 'compromised';
    case 6:
      return 'superseded';
    case 7:
      return 'credentials_changed';
    default:
      throw new Error(`unexpected reply from the step-up script: ${String(reply)}`);
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
    case 6:
      return { outcome: 'superseded' };
    case 0:
      return { outcome: 'missing' };
    default:
      throw new Error(`unexpected reply from the rotate script: ${JSON.stringify(reply[0])}`);
  }
}
