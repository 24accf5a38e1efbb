import type { Clock } from '../jts/clock.js';
import { sessionLimit } from './policy.js';
import { MemoryEventLog } from './memory-event-log.js';
import { DEFAULT_EVENT_RETENTION, type SessionEndCause } from './security-events.js';
import type { CreateResult, ExpectedUser, NewSession, PutUserOptions, RevokeAllCause, RotateRequest, RotateResult, SessionRecord, SessionState, SessionStore, StepUp, StepUpResult, UserProfile, UserSecurity } from './types.js';

interface Entry {
  record: SessionRecord;
  /** As create-3.lua stores them; amr undefined when created with none (Redis reads an empty list so too). */
  amr: string[] | undefined;
  credentialEpoch: number | undefined;
  stepUp: StepUp | undefined;
  expiresAt: number;
  /** Set when a replay was detected: the record is kept only to answer JTS-401-05. */
  compromised: boolean;
  grace: { generation: number; sealed: string; until: number } | undefined;
}

/**
 * In-process store for development and tests: the same contract as the Redis store. Every
 * method runs to completion without awaiting, which makes it atomic on Node's single thread.
 */
export class MemorySessionStore implements SessionStore {
  private readonly users = new Map<string, Map<string, Entry>>();
  /** The users' security mirrors, as the Redis store keeps them next to the sessions. */
  private readonly mirrors = new Map<string, UserSecurity & { restriction: boolean; expiresAt?: number }>();

  /** Where every ending is published, in the same synchronous step (the feed reads it). */
  readonly events: MemoryEventLog;

  constructor(
    private readonly clock: Clock,
    events?: MemoryEventLog,
  ) {
    this.events = events ?? new MemoryEventLog(clock, DEFAULT_EVENT_RETENTION);
  }

  /** The rules of lua/include/publish.lua. */
  private publish(prn: string, aids: readonly string[], cause: SessionEndCause, credentialChange = false): void {
    const at = this.clock.now();
    const notAfter = at + this.events.retention.notAfterMs;
    this.events.append([
      ...aids.map((aid) => ({ type: 'session-revoked' as const, prn, aid, reason: cause.reason, initiator: cause.initiator, at, notAfter })),
      ...(credentialChange ? [{ type: 'credential-change' as const, prn, initiator: cause.initiator, at }] : []),
    ]);
  }

  sessionAndUser(prn: string, aid: string): Promise<{ session: SessionState; user: UserSecurity | undefined }> {
    return this.state(prn, aid).then((session) => {
      const user = this.mirror(prn);
      return { session, user: user && { disabled: user.disabled, permissions: [...user.permissions], credentialEpoch: user.credentialEpoch, version: user.version, emailVerified: user.emailVerified } };
    });
  }

  /** The user's mirror unless it has expired (put-user-1.lua's PEXPIRE). */
  private mirror(prn: string): (UserSecurity & { restriction: boolean; expiresAt?: number }) | undefined {
    const stored = this.mirrors.get(prn);
    if (stored?.expiresAt !== undefined && stored.expiresAt <= this.clock.now()) {
      this.mirrors.delete(prn);
      return undefined;
    }
    return stored;
  }

  /** The rules of put-user-1.lua. */
  putUser(prn: string, user: UserSecurity, options: PutUserOptions = {}): Promise<boolean> {
    const stored = this.mirror(prn);
    const mode = options.mode ?? 'newer';
    if (stored !== undefined && mode === 'absent') {
      // put-user-1.lua: the sign-in's rebuild keeps an existing mirror for the session about to open.
      if (options.expiresInMs !== undefined && stored.expiresAt !== undefined) stored.expiresAt = Math.max(stored.expiresAt, this.clock.now() + options.expiresInMs);
      return Promise.resolve(false);
    }
    if (stored !== undefined && !(mode === 'repair' && stored.restriction) && user.version < stored.version) return Promise.resolve(false);
    const profile = user.profile ?? stored?.profile;
    // put-user-1.lua: an expiry is only ever extended; a write without one keeps the stored one.
    const expiresAt = options.expiresInMs === undefined ? stored?.expiresAt : Math.max(stored?.expiresAt ?? 0, this.clock.now() + options.expiresInMs);
    this.mirrors.set(prn, { disabled: user.disabled, permissions: [...user.permissions], credentialEpoch: user.credentialEpoch, version: user.version, emailVerified: user.emailVerified, restriction: options.restriction ?? false, ...(expiresAt !== undefined && { expiresAt }), ...(profile && { profile: { ...profile } }) });
    return Promise.resolve(true);
  }

  userProfile(prn: string): Promise<UserProfile | undefined> {
    const profile = this.mirror(prn)?.profile;
    return Promise.resolve(profile && { ...profile });
  }

  removeUser(prn: string): Promise<void> {
    this.mirrors.delete(prn);
    return Promise.resolve();
  }

  rotateConfirmingUser(request: RotateRequest, user: ExpectedUser): Promise<RotateResult> {
    if (!this.userMatches(request.prn, user)) return Promise.resolve({ outcome: 'stale' });
    // The order of rotate-4.lua: a missing or compromised session answers so before a stale step-up.
    const entry = this.live(request.prn).get(request.aid);
    if (entry && !entry.compromised && !sameStepUp(entry.stepUp, user.stepUp)) return Promise.resolve({ outcome: 'stale' });
    return this.rotate(request);
  }

  /** The rules of step-up-2.lua. */
  stepUp(prn: string, aid: string, stepUp: StepUp, credentialEpoch: number): Promise<StepUpResult> {
    const entry = this.live(prn).get(aid);
    if (!entry) return Promise.resolve('missing');
    if (entry.compromised) return Promise.resolve('compromised');
    const mirror = this.mirrors.get(prn);
    const mirrorEpoch = mirror?.credentialEpoch ?? 0;
    if (entry.credentialEpoch !== undefined && mirrorEpoch > entry.credentialEpoch) return Promise.resolve('superseded');
    if (!mirror || mirror.disabled || mirrorEpoch !== credentialEpoch) return Promise.resolve('credentials_changed');
    entry.stepUp = copyStepUp(stepUp);
    return Promise.resolve('stepped');
  }

  create(session: NewSession, options: { policy: Parameters<typeof sessionLimit>[0]; lifetimeMs: number; now: number }): Promise<CreateResult> {
    const sessions = this.live(session.prn);
    this.users.set(session.prn, sessions);
    const evicted: string[] = [];
    const limit = sessionLimit(options.policy);
    const active = [...sessions.values()].filter((e) => !e.compromised).sort((a, b) => a.record.createdAt - b.record.createdAt);
    while (active.length >= limit) {
      const oldest = active.shift() as Entry;
      sessions.delete(oldest.record.aid);
      evicted.push(oldest.record.aid);
    }
    this.publish(session.prn, evicted, { reason: 'evicted', initiator: 'policy' });
    const { amr, credentialEpoch, ...record } = session;
    sessions.set(session.aid, {
      record: { ...record, generation: 1, lastActiveAt: options.now },
      amr: amr.length === 0 ? undefined : [...amr],
      credentialEpoch,
      stepUp: undefined,
      expiresAt: options.now + options.lifetimeMs,
      compromised: false,
      grace: undefined,
    });
    // create-3.lua: the mirror outlives every session it guards.
    const mirror = this.mirror(session.prn);
    if (mirror?.expiresAt !== undefined) mirror.expiresAt = Math.max(mirror.expiresAt, options.now + options.lifetimeMs);
    return Promise.resolve({ evicted });
  }

  state(prn: string, aid: string): Promise<SessionState> {
    const entry = this.live(prn).get(aid);
    if (!entry) return Promise.resolve({ state: 'missing' });
    if (entry.compromised) return Promise.resolve({ state: 'compromised' });
    const { record } = entry;
    return Promise.resolve({ state: 'active', generation: record.generation, createdAt: record.createdAt, deviceHash: record.deviceHash, amr: entry.amr && [...entry.amr], credentialEpoch: entry.credentialEpoch, stepUp: entry.stepUp && copyStepUp(entry.stepUp), device: record.device });
  }

  rotate(request: RotateRequest): Promise<RotateResult> {
    const sessions = this.live(request.prn);
    const entry = sessions.get(request.aid);
    if (!entry) return Promise.resolve({ outcome: 'missing' });
    if (entry.compromised) return Promise.resolve({ outcome: 'compromised' });
    // The rule of rotate-4.lua (review F2): a sign-in under an older credential epoch ends here.
    if (entry.credentialEpoch !== undefined && (this.mirror(request.prn)?.credentialEpoch ?? 0) > entry.credentialEpoch) {
      sessions.delete(request.aid);
      this.publish(request.prn, [request.aid], { reason: 'password_changed', initiator: 'system' });
      return Promise.resolve({ outcome: 'superseded' });
    }
    const current = entry.record.generation;
    if (request.presented === current) {
      entry.record.generation = current + 1;
      entry.record.lastActiveAt = request.now;
      entry.grace = { generation: current + 1, sealed: request.sealedBearerPass, until: request.now + request.graceMs };
      return Promise.resolve({ outcome: 'rotated', generation: current + 1 });
    }
    if (request.presented === current - 1 && entry.grace && request.now <= entry.grace.until) {
      return Promise.resolve({ outcome: 'grace', generation: current, sealedBearerPass: entry.grace.sealed });
    }
    if (request.presented > current) return Promise.resolve({ outcome: 'missing' });
    const victims = request.replayRevoke === 'principal' ? [...sessions.values()].filter((e) => !e.compromised) : [entry];
    for (const victim of victims) {
      victim.compromised = true;
      victim.grace = undefined;
      victim.expiresAt = request.now + request.tombstoneMs;
    }
    this.publish(request.prn, victims.map((v) => v.record.aid), { reason: 'replay_detected', initiator: 'system' });
    return Promise.resolve({ outcome: 'replay', revoked: victims.map((v) => v.record.aid) });
  }

  list(prn: string): Promise<SessionRecord[]> {
    const records = [...this.live(prn).values()].filter((e) => !e.compromised).map((e) => ({ ...e.record }));
    return Promise.resolve(records.sort((a, b) => a.createdAt - b.createdAt));
  }

  revoke(prn: string, aid: string, cause: SessionEndCause): Promise<boolean> {
    const sessions = this.live(prn);
    const entry = sessions.get(aid);
    if (!entry || entry.compromised) return Promise.resolve(false);
    sessions.delete(aid);
    this.publish(prn, [aid], cause);
    return Promise.resolve(true);
  }

  revokeAll(prn: string, cause: RevokeAllCause, keepAid?: string, keepEpoch?: number): Promise<string[]> {
    const sessions = this.live(prn);
    const kept = keepAid === undefined ? undefined : sessions.get(keepAid);
    if (kept && !kept.compromised && keepEpoch !== undefined) kept.credentialEpoch = keepEpoch;
    const ended: string[] = [];
    for (const [aid, entry] of sessions) {
      if (aid === keepAid || entry.compromised) continue;
      sessions.delete(aid);
      ended.push(aid);
    }
    this.publish(prn, ended, cause, cause.credentialChange === true);
    return Promise.resolve(ended);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  private userMatches(prn: string, expected: ExpectedUser): boolean {
    const user = this.mirror(prn);
    const { permissions } = expected;
    return (
      user !== undefined &&
      !user.disabled &&
      user.credentialEpoch === expected.credentialEpoch &&
      user.emailVerified === expected.emailVerified &&
      user.permissions.length === permissions.length &&
      user.permissions.every((p, i) => p === permissions[i])
    );
  }

  /** The user's sessions with expired ones swept out, as Redis TTLs would. */
  private live(prn: string): Map<string, Entry> {
    const sessions = this.users.get(prn) ?? new Map<string, Entry>();
    const now = this.clock.now();
    for (const [aid, entry] of sessions) if (entry.expiresAt <= now) sessions.delete(aid);
    if (sessions.size === 0) this.users.delete(prn);
    return sessions;
  }
}

const copyStepUp = (stepUp: StepUp): StepUp => ({ authTime: stepUp.authTime, amr: [...stepUp.amr] });

/** As rotate-4.lua compares field `sa`: the same time and the same methods in the same order. */
function sameStepUp(a: StepUp | undefined, b: StepUp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.authTime === b.authTime && a.amr.length === b.amr.length && a.amr.every((m, i) => m === b.amr[i]);
}
