import { hashDeviceId } from '../../src/auth/device-binding';
import { openSession } from '../../src/auth/open-session';
import { authFixture, type AuthFixture } from './support/fixture';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0';

describe('openSession', () => {
  let f: AuthFixture;
  afterEach(async () => {
    await f.close();
  });

  it('creates a session described by its client and hands out generation 1 of its credentials', async () => {
    f = await authFixture();
    const { user } = await f.addUser({ permissions: ['read:profile', 'write:notes'] });
    const issued = await openSession(f.context, user, { userAgent: FIREFOX, ip: '203.0.113.77' }, 'login.succeeded', ['pwd']);

    expect(f.context.stateProofs.parse(issued.stateProof)).toEqual({ prn: user.id, aid: issued.aid, generation: 1 });
    expect(issued).toMatchObject({ prn: user.id, expiresIn: 300, stateProofMaxAge: 604_800 });
    expect(f.claimsOf(issued.bearerPass)).toMatchObject({ prn: user.id, aid: issued.aid, perm: ['read:profile', 'write:notes'] });
    await expect(f.sessions.list(user.id, f.clock.now())).resolves.toEqual([
      expect.objectContaining({ aid: issued.aid, generation: 1, createdAt: f.clock.now(), device: 'Firefox on Linux', ipPrefix: '203.0.113.x', deviceHash: undefined }),
    ]);
    expect(f.audits).toEqual([{ event: 'login.succeeded', prn: user.id, aid: issued.aid, evicted: [] }]);
  });

  it('remembers the new session’s renewal facts, so its first renewal can skip the reads', async () => {
    f = await authFixture();
    const { user } = await f.addUser();
    const issued = await openSession(f.context, user, {}, 'login.succeeded', ['pwd']);
    expect(f.context.renewFacts.get(user.id, issued.aid)).toEqual({ createdAt: f.clock.now(), deviceHash: undefined, permissions: user.permissions, credentialEpoch: 0, amr: ['pwd'], emailVerified: false, device: 'Unknown client' });
  });

  it('binds the session to the X-JTS-Device-ID it was opened with', async () => {
    f = await authFixture();
    const { user } = await f.addUser();
    const issued = await openSession(f.context, user, { deviceId: 'device-1' }, 'login.succeeded', ['pwd']);
    const [session] = await f.sessions.list(user.id, f.clock.now());
    expect(session?.deviceHash).toBe(hashDeviceId('device-1'));
    expect(f.claimsOf(issued.bearerPass).dfp).toBe(hashDeviceId('device-1'));
  });

  it('audits a registration without the eviction list', async () => {
    f = await authFixture();
    const { user } = await f.addUser();
    const issued = await openSession(f.context, user, {}, 'register', ['pwd']);
    expect(f.audits).toEqual([{ event: 'register', prn: user.id, aid: issued.aid }]);
  });

  it('lets the session policy evict older sessions, audits it and forgets their facts', async () => {
    f = await authFixture({ settings: { sessionPolicy: { kind: 'single' } } });
    const { user } = await f.addUser();
    const first = await openSession(f.context, user, {}, 'login.succeeded', ['pwd']);
    f.clock.advance(1_000);
    const second = await openSession(f.context, user, {}, 'login.succeeded', ['pwd']);

    expect((await f.sessions.list(user.id, f.clock.now())).map((s) => s.aid)).toEqual([second.aid]);
    expect(f.context.renewFacts.get(user.id, first.aid)).toBeUndefined();
    expect(f.audits.slice(1)).toEqual([
      { event: 'login.succeeded', prn: user.id, aid: second.aid, evicted: [first.aid] },
      { event: 'session.revoked', prn: user.id, aids: [first.aid], reason: 'policy' },
    ]);
    expect(f.claimsOf(second.bearerPass).spl).toBe('single');
  });
});
