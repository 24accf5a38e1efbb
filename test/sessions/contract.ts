import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/jts/clock';
import type { RedisClient } from '../../src/redis/connect';
import type { SessionPolicy } from '../../src/sessions/policy';
import { redisKeys } from '../../src/sessions/redis-keys';
import { RedisSessionStore } from '../../src/sessions/redis-store';
import type { ExpectedUser, NewSession, RotateRequest, SessionStore, UserSecurity } from '../../src/sessions/types';

/** The cause the contract's revocations give (what it publishes is tested in test/events). */
const BY_USER = { reason: 'revoked', initiator: 'user' } as const;
const HOUR = 3_600_000;

export interface ContractContext {
  store: SessionStore;
  clock: ManualClock;
  /** Moves the injected clock forward (the grace window follows it in every store). */
  advance(ms: number): Promise<void>;
  /** Waits until the store has forgotten what expired `ms` ago (Redis TTLs run on real time). */
  expire(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A contract context on any Redis client (single, Sentinel, Cluster) with a fresh key prefix.
 * The grace window follows the injected clock; only TTL expiry needs a real wait.
 */
export function redisContractContext(client: RedisClient, close: () => Promise<void> = () => Promise.resolve()): ContractContext & { prefix: string } {
  const clock = new ManualClock(Date.now());
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  const keys = redisKeys(prefix);
  return {
    prefix,
    store: new RedisSessionStore(client, keys),
    clock,
    advance(ms: number) {
      clock.advance(ms);
      return Promise.resolve();
    },
    async expire(ms: number) {
      clock.advance(ms);
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    close,
  };
}

/** The behaviour every SessionStore must have; run against the memory and the Redis store. */
export function sessionStoreContract(name: string, open: () => Promise<ContractContext>): void {
  describe(`${name} session store contract`, () => {
    let ctx: ContractContext;
    beforeEach(async () => {
      ctx = await open();
    });
    afterEach(async () => {
      await ctx.close();
    });

    const id = () => randomBytes(16).toString('base64url');
    const policy: SessionPolicy = { kind: 'allow_all' };
    const newSession = (prn: string, overrides: Partial<NewSession> = {}): NewSession => ({
      prn,
      aid: id(),
      createdAt: ctx.clock.now(),
      device: 'Firefox on Linux',
      ipPrefix: '203.0.113.x',
      deviceHash: undefined,
      amr: ['pwd'],
      credentialEpoch: 0,
      ...overrides,
    });
    const rotate = (session: NewSession, presented: number, extra: Partial<RotateRequest> = {}) =>
      ctx.store.rotate({
        prn: session.prn,
        aid: session.aid,
        presented,
        sealedBearerPass: `sealed-${presented}`,
        now: ctx.clock.now(),
        graceMs: 10_000,
        tombstoneMs: 60_000,
        replayRevoke: 'session',
        ...extra,
      });
    const create = (session: NewSession, p: SessionPolicy = policy) => ctx.store.create(session, { policy: p, lifetimeMs: HOUR, now: ctx.clock.now() });

    it('creates a session at generation 1 and reports it active', async () => {
      const session = newSession(id());
      await create(session);
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toEqual({ state: 'active', generation: 1, createdAt: session.createdAt, deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0, device: session.device });
    });

    // Found by the scale bench: the index took the newest session's lifetime, so a shorter-lived
    // session signed in after a longer one made the index (and "sign out everywhere") forget it.
    it('keeps listing and revoking a session that outlives a shorter one created after it', async () => {
      const prn = id();
      const long = newSession(prn);
      await create(long);
      await ctx.store.create(newSession(prn), { policy, lifetimeMs: 200, now: ctx.clock.now() });
      await ctx.expire(300);
      await expect(ctx.store.list(prn, ctx.clock.now())).resolves.toMatchObject([{ aid: long.aid }]);
      await expect(ctx.store.revokeAll(prn, BY_USER, '')).resolves.toEqual([long.aid]);
    });

    it('keeps how and under which credential epoch the session signed in, unchanged by renewals', async () => {
      const session = newSession(id(), { amr: ['otp'], credentialEpoch: 4 });
      await create(session);
      for (let g = 1; g <= 3; g++) {
        await ctx.advance(60_000);
        await rotate(session, g);
      }
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toEqual({ state: 'active', generation: 4, createdAt: session.createdAt, deviceHash: undefined, amr: ['otp'], credentialEpoch: 4, device: session.device });
    });

    it('reports an unknown session as missing', async () => {
      await expect(ctx.store.state(id(), id())).resolves.toEqual({ state: 'missing' });
      await expect(rotate(newSession(id()), 1)).resolves.toEqual({ outcome: 'missing' });
    });

    it('rotates the current generation and only the current one', async () => {
      const session = newSession(id());
      await create(session);
      await expect(rotate(session, 1)).resolves.toEqual({ outcome: 'rotated', generation: 2 });
      await expect(rotate(session, 2)).resolves.toEqual({ outcome: 'rotated', generation: 3 });
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ state: 'active', generation: 3 });
    });

    it('answers the just-consumed generation from the grace slot inside the window', async () => {
      const session = newSession(id());
      await create(session);
      await rotate(session, 1, { sealedBearerPass: 'first-answer' });
      await ctx.advance(5_000);
      await expect(rotate(session, 1, { sealedBearerPass: 'second-mint' })).resolves.toEqual({ outcome: 'grace', generation: 2, sealedBearerPass: 'first-answer' });
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ generation: 2 });
    });

    describe('the session-plus-user operations (user mirror, rotateConfirmingUser, sessionAndUser)', () => {
      const ADA: UserSecurity = { disabled: false, permissions: ['read:profile', 'write:notes'], credentialEpoch: 3, version: 4, emailVerified: false };
      const expected: ExpectedUser = { permissions: ADA.permissions, credentialEpoch: ADA.credentialEpoch, emailVerified: false };
      const confirm = (session: NewSession, presented: number, user: ExpectedUser = expected) =>
        ctx.store.rotateConfirmingUser(
          { prn: session.prn, aid: session.aid, presented, sealedBearerPass: `sealed-${presented}`, now: ctx.clock.now(), graceMs: 10_000, tombstoneMs: 60_000, replayRevoke: 'session' },
          user,
        );
      const withUser = async (mirror: UserSecurity = ADA, sessionEpoch = mirror.credentialEpoch) => {
        const session = newSession(id(), { credentialEpoch: sessionEpoch });
        await ctx.store.putUser(session.prn, mirror);
        await create(session);
        return session;
      };
      const expectUntouched = async (session: NewSession) => {
        // Still generation 1 with no grace slot: presenting 1 again rotates rather than answering from grace.
        await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ state: 'active', generation: 1 });
        await expect(rotate(session, 1, { sealedBearerPass: 'after' })).resolves.toEqual({ outcome: 'rotated', generation: 2 });
      };

      it('reads the session and the mirror together', async () => {
        const session = await withUser();
        await expect(ctx.store.sessionAndUser(session.prn, session.aid)).resolves.toEqual({
          session: { state: 'active', generation: 1, createdAt: session.createdAt, deviceHash: undefined, amr: ['pwd'], credentialEpoch: ADA.credentialEpoch, device: session.device },
          user: ADA,
        });
        await expect(ctx.store.sessionAndUser(id(), 'nope')).resolves.toEqual({ session: { state: 'missing' }, user: undefined });
      });

      it('records a step-up on a live session without touching its generation; a remembered rotation without it is stale', async () => {
        const session = await withUser();
        const stepUp = { authTime: ctx.clock.now(), amr: ['pwd', 'otp', 'mfa'] };
        await expect(ctx.store.stepUp(session.prn, session.aid, stepUp, ADA.credentialEpoch)).resolves.toBe('stepped');
        await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ state: 'active', generation: 1, createdAt: session.createdAt, amr: ['pwd'], stepUp });
        // Remembered before the step-up: stale, nothing written; with it: rotated.
        await expect(confirm(session, 1)).resolves.toEqual({ outcome: 'stale' });
        await expect(confirm(session, 1, { ...expected, stepUp: { ...stepUp, amr: ['pwd'] } })).resolves.toEqual({ outcome: 'stale' });
        await expect(confirm(session, 1, { ...expected, stepUp })).resolves.toEqual({ outcome: 'rotated', generation: 2 });
        // A later step-up replaces it.
        const later = { authTime: stepUp.authTime + 1000, amr: ['pwd'] };
        await expect(ctx.store.stepUp(session.prn, session.aid, later, ADA.credentialEpoch)).resolves.toBe('stepped');
        await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ generation: 2, stepUp: later });
      });

      it('records no step-up on a missing, compromised or superseded session, nor under another epoch or a disabled mirror', async () => {
        const stepUp = { authTime: ctx.clock.now(), amr: ['pwd'] };
        await expect(ctx.store.stepUp(id(), 'nope', stepUp, 0)).resolves.toBe('missing');
        const replayed = await withUser();
        await rotate(replayed, 1);
        ctx.clock.advance(20_000);
        await expect(rotate(replayed, 1, { now: ctx.clock.now() })).resolves.toMatchObject({ outcome: 'replay' });
        await expect(ctx.store.stepUp(replayed.prn, replayed.aid, stepUp, ADA.credentialEpoch)).resolves.toBe('compromised');
        const old = await withUser(ADA, ADA.credentialEpoch - 1);
        await expect(ctx.store.stepUp(old.prn, old.aid, stepUp, ADA.credentialEpoch)).resolves.toBe('superseded');
        const raced = await withUser();
        await expect(ctx.store.stepUp(raced.prn, raced.aid, stepUp, ADA.credentialEpoch - 1)).resolves.toBe('credentials_changed');
        const disabled = await withUser({ ...ADA, disabled: true });
        await expect(ctx.store.stepUp(disabled.prn, disabled.aid, stepUp, ADA.credentialEpoch)).resolves.toBe('credentials_changed');
        for (const session of [old, raced, disabled]) await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ stepUp: undefined });
      });

      it('writes a mirror only when there is none with mode absent, and without it unless its version is older', async () => {
        const prn = id();
        await expect(ctx.store.putUser(prn, ADA, { mode: 'absent' })).resolves.toBe(true);
        await expect(ctx.store.putUser(prn, { ...ADA, disabled: true }, { mode: 'absent' })).resolves.toBe(false);
        await expect(ctx.store.sessionAndUser(prn, 'x')).resolves.toMatchObject({ user: ADA });
        await expect(ctx.store.putUser(prn, { ...ADA, disabled: true })).resolves.toBe(true);
        await expect(ctx.store.sessionAndUser(prn, 'x')).resolves.toMatchObject({ user: { disabled: true } });
      });

      it('keeps the newer of two mirror writes that arrive in the wrong order (review F5)', async () => {
        const prn = id();
        // SQL committed A (version 5, still an admin) and then B (version 6, admin removed), but
        // B's mirror write reaches the store first.
        const a: UserSecurity = { ...ADA, permissions: ['read:profile', 'admin:users'], version: 5 };
        const b: UserSecurity = { ...ADA, permissions: ['read:profile'], version: 6 };
        await expect(ctx.store.putUser(prn, b)).resolves.toBe(true);
        await expect(ctx.store.putUser(prn, a)).resolves.toBe(false);
        await expect(ctx.store.sessionAndUser(prn, 'x')).resolves.toMatchObject({ user: { permissions: ['read:profile'], version: 6 } });
        // The same version again (a write's exact row after its own restriction) is taken.
        await expect(ctx.store.putUser(prn, { ...b, permissions: ['read:profile', 'x'] })).resolves.toBe(true);
      });

      it('lets repair (resync) replace a restriction of a higher version, but never a written row', async () => {
        const prn = id();
        await ctx.store.putUser(prn, { ...ADA, disabled: true, version: 9 }, { restriction: true });
        await expect(ctx.store.putUser(prn, { ...ADA, version: 8 })).resolves.toBe(false);
        await expect(ctx.store.putUser(prn, { ...ADA, version: 8 }, { mode: 'repair' })).resolves.toBe(true);
        await expect(ctx.store.sessionAndUser(prn, 'x')).resolves.toMatchObject({ user: { disabled: false, version: 8 } });
        await ctx.store.putUser(prn, { ...ADA, version: 10 });
        await expect(ctx.store.putUser(prn, { ...ADA, version: 8 }, { mode: 'repair' })).resolves.toBe(false);
      });

      it('lets a mirror written with an expiry go away after it; later writes only ever extend it', async () => {
        const gone = id();
        await ctx.store.putUser(gone, { ...ADA, disabled: true, version: 2 }, { restriction: true, expiresInMs: 200 });
        await ctx.expire(250);
        await expect(ctx.store.sessionAndUser(gone, 'x')).resolves.toEqual({ session: { state: 'missing' }, user: undefined });
        const kept = id();
        await ctx.store.putUser(kept, { ...ADA, version: 2 }, { expiresInMs: 600 });
        await ctx.store.putUser(kept, { ...ADA, version: 3 }, { expiresInMs: 100 });
        await ctx.store.putUser(kept, { ...ADA, version: 4 });
        await ctx.expire(300);
        await expect(ctx.store.sessionAndUser(kept, 'x')).resolves.toMatchObject({ user: { version: 4 } });
        await ctx.expire(400);
        await expect(ctx.store.sessionAndUser(kept, 'x')).resolves.toMatchObject({ user: undefined });
      });

      // A renewal that finds no mirror ends the session as the user's deletion (Renewal).
      it('keeps a mirror at least as long as every session created after it was written', async () => {
        const prn = id();
        await ctx.store.putUser(prn, ADA, { expiresInMs: 200 });
        const session = { ...newSession(prn), createdAt: ctx.clock.now() };
        await ctx.store.create(session, { policy, lifetimeMs: 700, now: ctx.clock.now() });
        await ctx.expire(400);
        await expect(ctx.store.sessionAndUser(prn, session.aid)).resolves.toMatchObject({ session: { state: 'active' }, user: { version: ADA.version } });
        await ctx.expire(400);
        await expect(ctx.store.sessionAndUser(prn, session.aid)).resolves.toEqual({ session: { state: 'missing' }, user: undefined });
      });

      it('keeps the profile next to the security fields, keeping the stored one when a write carries none', async () => {
        const prn = id();
        await ctx.store.putUser(prn, ADA);
        await expect(ctx.store.userProfile(prn)).resolves.toBeUndefined();
        await ctx.store.putUser(prn, { ...ADA, version: 5, profile: { email: 'ada@example.com', name: 'Ada <L>' } });
        await expect(ctx.store.userProfile(prn)).resolves.toEqual({ email: 'ada@example.com', name: 'Ada <L>' });
        // The renewal's read carries no profile: it stays out of the hot path's bytes.
        await expect(ctx.store.sessionAndUser(prn, 'x')).resolves.toEqual({ session: { state: 'missing' }, user: { ...ADA, version: 5 } });
        await ctx.store.putUser(prn, { ...ADA, version: 6, profile: { email: 'ada@example.com', name: '' } });
        await expect(ctx.store.userProfile(prn)).resolves.toEqual({ email: 'ada@example.com', name: '' });
        await ctx.store.putUser(prn, { ...ADA, disabled: true, version: 7 });
        await expect(ctx.store.userProfile(prn)).resolves.toEqual({ email: 'ada@example.com', name: '' });
        // An older write changes nothing, its profile included.
        await ctx.store.putUser(prn, { ...ADA, version: 2, profile: { email: 'old@example.com', name: 'Old' } });
        await expect(ctx.store.userProfile(prn)).resolves.toEqual({ email: 'ada@example.com', name: '' });
        await ctx.store.removeUser(prn);
        await expect(ctx.store.userProfile(prn)).resolves.toBeUndefined();
      });

      it('removes a mirror', async () => {
        const prn = id();
        await ctx.store.putUser(prn, ADA);
        await ctx.store.removeUser(prn);
        await expect(ctx.store.sessionAndUser(prn, 'x')).resolves.toMatchObject({ user: undefined });
      });

      it('rotates while the user holds exactly those permissions and that credential epoch', async () => {
        const session = await withUser();
        await expect(confirm(session, 1)).resolves.toEqual({ outcome: 'rotated', generation: 2 });
        await expect(confirm(session, 2)).resolves.toEqual({ outcome: 'rotated', generation: 3 });
      });

      it.each<[string, UserSecurity]>([
        ['a permission was granted', { ...ADA, permissions: [...ADA.permissions, 'admin:access'] }],
        ['a permission was withdrawn', { ...ADA, permissions: ['read:profile'] }],
        ['the permissions were reordered', { ...ADA, permissions: [...ADA.permissions].reverse() }],
        ['the user was disabled', { ...ADA, disabled: true }],
        ['the password changed (a new credential epoch)', { ...ADA, credentialEpoch: ADA.credentialEpoch + 1 }],
        ['the address was verified', { ...ADA, emailVerified: true }],
      ])('answers stale and writes nothing when %s', async (_change, changed) => {
        // Signed in under the epoch the mirror ends with (as the session a password change keeps),
        // so only the remembered expectation is out of date.
        const session = await withUser(ADA, changed.credentialEpoch);
        await ctx.store.putUser(session.prn, changed);
        await expect(confirm(session, 1)).resolves.toEqual({ outcome: 'stale' });
        await expectUntouched(session);
      });

      it('answers stale for a user without a mirror', async () => {
        const session = newSession(id());
        await create(session);
        await expect(confirm(session, 1, { permissions: [], credentialEpoch: 0, emailVerified: false })).resolves.toEqual({ outcome: 'stale' });
        await expectUntouched(session);
      });

      it('mirrors email_verified, and a rotation confirming the verified state once it is', async () => {
        const session = await withUser();
        await ctx.store.putUser(session.prn, { ...ADA, emailVerified: true, version: 5 });
        await expect(ctx.store.sessionAndUser(session.prn, session.aid)).resolves.toMatchObject({ user: { emailVerified: true } });
        await expect(confirm(session, 1, { ...expected, emailVerified: true })).resolves.toEqual({ outcome: 'rotated', generation: 2 });
      });

      // Review F2: a sign-in with the old password that raced a password change or reset and
      // slipped past its revokeAll calls — simulated by bumping the mirror without revoking.
      it('refuses and deletes a session signed in under an older credential epoch, however it is renewed', async () => {
        const plain = await withUser();
        const confirmed = await withUser();
        await ctx.store.putUser(plain.prn, { ...ADA, credentialEpoch: ADA.credentialEpoch + 1, version: 5 });
        await ctx.store.putUser(confirmed.prn, { ...ADA, credentialEpoch: ADA.credentialEpoch + 1, version: 5 });
        await expect(ctx.store.sessionAndUser(plain.prn, plain.aid)).resolves.toMatchObject({ session: { state: 'active', credentialEpoch: 3 }, user: { credentialEpoch: 4 } });
        await expect(rotate(plain, 1)).resolves.toEqual({ outcome: 'superseded' });
        await expect(ctx.store.state(plain.prn, plain.aid)).resolves.toEqual({ state: 'missing' });
        await expect(ctx.store.list(plain.prn, ctx.clock.now())).resolves.toEqual([]);
        // Expecting the new epoch does not help: the session's own epoch decides.
        await expect(confirm(confirmed, 1, { ...expected, credentialEpoch: 4 })).resolves.toEqual({ outcome: 'superseded' });
        await expect(ctx.store.state(confirmed.prn, confirmed.aid)).resolves.toEqual({ state: 'missing' });
      });

      it('moves the session revokeAll keeps to the new credential epoch, so it outlives the change that kept it', async () => {
        const kept = await withUser();
        const other = newSession(kept.prn, { credentialEpoch: ADA.credentialEpoch });
        await create(other);
        await expect(ctx.store.revokeAll(kept.prn, BY_USER, kept.aid, ADA.credentialEpoch + 1)).resolves.toEqual([other.aid]);
        await ctx.store.putUser(kept.prn, { ...ADA, credentialEpoch: ADA.credentialEpoch + 1, version: 5 });
        await expect(ctx.store.state(kept.prn, kept.aid)).resolves.toMatchObject({ credentialEpoch: 4 });
        await expect(rotate(kept, 1)).resolves.toEqual({ outcome: 'rotated', generation: 2 });
      });

      it('answers stale before judging the generation, so a stale replay kills nothing', async () => {
        const session = await withUser();
        await rotate(session, 1);
        await ctx.advance(11_000);
        await ctx.store.putUser(session.prn, { ...ADA, disabled: true });
        await expect(confirm(session, 1)).resolves.toEqual({ outcome: 'stale' });
        await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ state: 'active', generation: 2 });
      });
    });

    it('treats a generation two behind as a replay even inside the window', async () => {
      const session = newSession(id());
      await create(session);
      await rotate(session, 1);
      await rotate(session, 2);
      const result = await rotate(session, 1);
      expect(result).toEqual({ outcome: 'replay', revoked: [session.aid] });
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toEqual({ state: 'compromised' });
    });

    it('treats the consumed generation after the window as a replay and kills the session', async () => {
      const session = newSession(id());
      await create(session);
      await rotate(session, 1);
      await ctx.advance(11_000);
      await expect(rotate(session, 1)).resolves.toEqual({ outcome: 'replay', revoked: [session.aid] });
      await expect(rotate(session, 2)).resolves.toEqual({ outcome: 'compromised' });
    });

    it('revokes every session of the principal on replay when asked to', async () => {
      const prn = id();
      const victim = newSession(prn);
      const sibling = newSession(prn);
      await create(victim);
      await create(sibling);
      await rotate(victim, 1);
      await rotate(victim, 2);
      const result = await rotate(victim, 1, { replayRevoke: 'principal' });
      expect(result.outcome).toBe('replay');
      expect(result.outcome === 'replay' && [...result.revoked].sort()).toEqual([victim.aid, sibling.aid].sort());
      await expect(ctx.store.state(prn, sibling.aid)).resolves.toEqual({ state: 'compromised' });
      await expect(ctx.store.list(prn, ctx.clock.now())).resolves.toEqual([]);
    });

    it('lists live sessions with their details, oldest first', async () => {
      const prn = id();
      const first = newSession(prn);
      await create(first);
      await ctx.advance(1_000);
      const second = newSession(prn, { createdAt: ctx.clock.now(), deviceHash: 'abc' });
      await create(second);
      const list = await ctx.store.list(prn, ctx.clock.now());
      expect(list.map((s) => s.aid)).toEqual([first.aid, second.aid]);
      expect(list[1]).toMatchObject({ prn, device: 'Firefox on Linux', ipPrefix: '203.0.113.x', deviceHash: 'abc', generation: 1 });
    });

    it('revokes one session, and says so only once', async () => {
      const session = newSession(id());
      await create(session);
      await expect(ctx.store.revoke(session.prn, session.aid, BY_USER)).resolves.toBe(true);
      await expect(ctx.store.revoke(session.prn, session.aid, BY_USER)).resolves.toBe(false);
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toEqual({ state: 'missing' });
    });

    it('cannot revoke a session through another principal', async () => {
      const session = newSession(id());
      await create(session);
      await expect(ctx.store.revoke(id(), session.aid, BY_USER)).resolves.toBe(false);
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toMatchObject({ state: 'active' });
    });

    it('revokes all other sessions of a user', async () => {
      const prn = id();
      const keep = newSession(prn);
      const others = [newSession(prn), newSession(prn)];
      for (const s of [keep, ...others]) await create(s);
      const ended = await ctx.store.revokeAll(prn, BY_USER, keep.aid);
      expect([...ended].sort()).toEqual(others.map((s) => s.aid).sort());
      await expect(ctx.store.list(prn, ctx.clock.now())).resolves.toEqual([expect.objectContaining({ aid: keep.aid })]);
    });

    it('evicts every other session under the single policy', async () => {
      const prn = id();
      const old = newSession(prn);
      await create(old, { kind: 'single' });
      const fresh = newSession(prn);
      await expect(create(fresh, { kind: 'single' })).resolves.toEqual({ evicted: [old.aid] });
      await expect(ctx.store.state(prn, old.aid)).resolves.toEqual({ state: 'missing' });
    });

    it('evicts the oldest session past max:N', async () => {
      const prn = id();
      const sessions = [newSession(prn), newSession(prn), newSession(prn)];
      const evicted: string[] = [];
      for (const s of sessions) {
        evicted.push(...(await create(s, { kind: 'max', max: 2 })).evicted);
        await ctx.advance(10);
      }
      expect(evicted).toEqual([sessions[0]!.aid]);
      expect((await ctx.store.list(prn, ctx.clock.now())).map((s) => s.aid)).toEqual([sessions[1]!.aid, sessions[2]!.aid]);
    });

    it('keeps at most 100 live sessions per user even under allow_all, evicting the oldest', async () => {
      const prn = id();
      const first = newSession(prn);
      await create(first);
      for (let i = 0; i < 100; i++) {
        await ctx.advance(1);
        const result = await create(newSession(prn, { createdAt: ctx.clock.now() }));
        expect(result.evicted).toEqual(i === 99 ? [first.aid] : []);
      }
      expect(await ctx.store.list(prn, ctx.clock.now())).toHaveLength(100);
    });

    it('forgets a session after its lifetime', async () => {
      const session = newSession(id());
      await ctx.store.create(session, { policy, lifetimeMs: 100, now: ctx.clock.now() });
      await ctx.expire(150);
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toEqual({ state: 'missing' });
      await expect(ctx.store.list(session.prn, ctx.clock.now())).resolves.toEqual([]);
    });

    it('ends a session at its lifetime from creation, however often it renews', async () => {
      const session = newSession(id());
      await ctx.store.create(session, { policy, lifetimeMs: 300, now: ctx.clock.now() });
      await rotate(session, 1);
      await ctx.expire(200);
      await rotate(session, 2);
      await ctx.expire(150);
      await expect(ctx.store.state(session.prn, session.aid)).resolves.toEqual({ state: 'missing' });
    });

    it('answers ping', async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
    });
  });
}
