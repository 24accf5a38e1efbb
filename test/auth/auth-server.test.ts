import { JTSAuthServer } from '../../src/auth/auth-server';
import { authFixture, type AuthFixture } from './support/fixture';

describe('JTSAuthServer (the façade)', () => {
  let f: AuthFixture;
  let server: JTSAuthServer;
  let user: Awaited<ReturnType<AuthFixture['addUser']>>;

  beforeEach(async () => {
    f = await authFixture();
    server = new JTSAuthServer(f.deps);
    user = await f.addUser();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await f.close();
  });

  it('shares one renew-facts cache: sign-in fills it, renewal reads it, ending a session empties it', async () => {
    const kept = await server.login(user.user.email, user.password, {});
    const loggedOut = await server.login(user.user.email, user.password, {});
    const revoked = await server.login(user.user.email, user.password, {});
    const others = await server.login(user.user.email, user.password, {});
    const state = jest.spyOn(f.sessions, 'state');

    // Remembered at login: the renewal goes straight to the rotation.
    const renewed = await server.renew(kept.stateProof, {});
    expect(state).not.toHaveBeenCalled();

    await server.logout(loggedOut.stateProof);
    await expect(server.revokeSession(user.user.id, revoked.aid)).resolves.toBe(true);
    await expect(server.revokeOtherSessions(user.user.id, kept.aid)).resolves.toEqual([others.aid]);
    // The logout read the session once to check its device; count only the renewals' reads below.
    state.mockClear();
    // Forgotten where they were ended: each renewal reads the store and learns the session is gone.
    for (const ended of [loggedOut, revoked, others]) await expect(server.renew(ended.stateProof, {})).rejects.toMatchObject({ code: 'JTS-401-04' });
    expect(state).toHaveBeenCalledTimes(3);

    await expect(server.listSessions(user.user.id, kept.aid)).resolves.toEqual([expect.objectContaining({ aid: kept.aid, current: true })]);
    expect(renewed.aid).toBe(kept.aid);
  });

  it('forgets the sessions a password change ends', async () => {
    const current = await server.login(user.user.email, user.password, {});
    const other = await server.login(user.user.email, user.password, {});
    await expect(server.changePassword(user.user.id, current.aid, user.password, 'the new password')).resolves.toEqual({ revokedSessions: 1 });
    const state = jest.spyOn(f.sessions, 'state');
    await expect(server.renew(other.stateProof, {})).rejects.toMatchObject({ code: 'JTS-401-04' });
    expect(state).toHaveBeenCalledTimes(1);
  });

  it('registers and signs the new account in', async () => {
    const issued = await server.register({ email: 'New@Example.com', password: 'a long enough pass', name: 'New' }, {});
    await expect(f.users.findByEmail('new@example.com')).resolves.toMatchObject({ id: issued.prn, name: 'New' });
    await expect(server.renew(issued.stateProof, {})).resolves.toMatchObject({ prn: issued.prn, aid: issued.aid });
  });
});
