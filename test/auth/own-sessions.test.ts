import type { IssuedCredentials } from '../../src/auth/credentials';
import { openSession } from '../../src/auth/open-session';
import { OwnSessions } from '../../src/auth/own-sessions';
import { Renewal } from '../../src/auth/renewal';
import type { User } from '../../src/users/types';
import { authFixture, type AuthFixture } from './support/fixture';

const CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

describe('OwnSessions', () => {
  let f: AuthFixture;
  let own: OwnSessions;
  let user: User;
  let a: IssuedCredentials;
  let b: IssuedCredentials;

  beforeEach(async () => {
    f = await authFixture();
    own = new OwnSessions(f.context);
    ({ user } = await f.addUser());
    a = await openSession(f.context, user, { userAgent: CHROME, ip: '2001:db8:1234:5678::1' }, 'login.succeeded', ['pwd']);
    f.clock.advance(60_000);
    b = await openSession(f.context, user, { userAgent: 'curl/8.5.0', ip: '198.51.100.7' }, 'login.succeeded', ['pwd']);
    f.audits.length = 0;
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await f.close();
  });

  describe('list', () => {
    it('shows the user’s sessions as the API answers them, the caller’s marked current', async () => {
      const stranger = (await f.addUser()).user;
      await openSession(f.context, stranger, {}, 'login.succeeded', ['pwd']);
      f.clock.advance(30_000);
      await new Renewal(f.context).renew(a.stateProof, {});
      const views = await own.list(user.id, b.aid);
      expect(views.sort((x, y) => x.createdAt.localeCompare(y.createdAt))).toEqual([
        { aid: a.aid, device: 'Chrome on macOS', ipPrefix: '2001:db8:1234::/48', createdAt: '2026-01-01T12:00:00.000Z', lastActiveAt: '2026-01-01T12:01:30.000Z', current: false },
        { aid: b.aid, device: 'curl', ipPrefix: '198.51.100.x', createdAt: '2026-01-01T12:01:00.000Z', lastActiveAt: '2026-01-01T12:01:00.000Z', current: true },
      ]);
    });
  });

  describe('revoke', () => {
    it('ends one of the user’s sessions, audits it and forgets its facts', async () => {
      await expect(own.revoke(user.id, a.aid)).resolves.toBe(true);
      expect((await f.sessions.list(user.id, f.clock.now())).map((s) => s.aid)).toEqual([b.aid]);
      expect(f.context.renewFacts.get(user.id, a.aid)).toBeUndefined();
      expect(f.audits).toEqual([{ event: 'session.revoked', prn: user.id, aids: [a.aid], reason: 'user' }]);
    });

    it('answers false, and audits nothing, for an unknown aid or another user’s session', async () => {
      const stranger = (await f.addUser()).user;
      const theirs = await openSession(f.context, stranger, {}, 'login.succeeded', ['pwd']);
      f.audits.length = 0;
      await expect(own.revoke(user.id, 'no-such-aid')).resolves.toBe(false);
      await expect(own.revoke(user.id, theirs.aid)).resolves.toBe(false);
      await expect(f.sessions.list(stranger.id, f.clock.now())).resolves.toHaveLength(1);
      expect(f.audits).toEqual([]);
    });
  });

  describe('revokeOthers', () => {
    it('ends every session but the kept one and forgets their facts', async () => {
      await expect(own.revokeOthers(user.id, b.aid)).resolves.toEqual([a.aid]);
      expect((await f.sessions.list(user.id, f.clock.now())).map((s) => s.aid)).toEqual([b.aid]);
      expect(f.context.renewFacts.get(user.id, a.aid)).toBeUndefined();
      expect(f.context.renewFacts.get(user.id, b.aid)).toBeDefined();
      expect(f.audits).toEqual([{ event: 'session.revoked', prn: user.id, aids: [a.aid], reason: 'others' }]);
    });

    it('audits the request even when there was nothing else to end', async () => {
      await own.revokeOthers(user.id, b.aid);
      f.audits.length = 0;
      await expect(own.revokeOthers(user.id, b.aid)).resolves.toEqual([]);
      expect(f.audits).toEqual([{ event: 'session.revoked', prn: user.id, aids: [], reason: 'others' }]);
    });
  });

  describe('logout', () => {
    it('ends the StateProof’s session and forgets its facts; a second logout is not an error', async () => {
      await expect(own.logout(a.stateProof)).resolves.toEqual({ ended: true });
      await expect(f.sessions.state(user.id, a.aid)).resolves.toEqual({ state: 'missing' });
      expect(f.context.renewFacts.get(user.id, a.aid)).toBeUndefined();
      await expect(own.logout(a.stateProof)).resolves.toEqual({ ended: false });
      expect(f.audits).toEqual([
        { event: 'logout', prn: user.id, aid: a.aid, ended: true },
        { event: 'logout', prn: user.id, aid: a.aid, ended: false },
      ]);
      await expect(f.sessions.state(user.id, b.aid)).resolves.toMatchObject({ state: 'active' });
    });

    it('accepts an earlier StateProof of the session', async () => {
      await new Renewal(f.context).renew(a.stateProof, {});
      await expect(own.logout(a.stateProof)).resolves.toEqual({ ended: true });
    });

    it('answers { ended: false } for a value that is not our StateProof, without a store call or an audit', async () => {
      const revoke = jest.spyOn(f.sessions, 'revoke');
      for (const value of [undefined, 'garbage', `${a.stateProof}x`]) await expect(own.logout(value)).resolves.toEqual({ ended: false });
      expect(revoke).not.toHaveBeenCalled();
      expect(f.audits).toEqual([]);
    });
  });
});
