import type { IssuedCredentials } from '../../src/auth/credentials';
import { openSession } from '../../src/auth/open-session';
import { Renewal } from '../../src/auth/renewal';
import type { User } from '../../src/users/types';
import { authFixture, type AuthFixture, type AuthFixtureOptions } from './support/fixture';

// The fast path (facts remembered where the session was opened or last renewed) and the full
// path (capacity 0: every renewal reads the session and the user) must answer alike.
const variants: [string, AuthFixtureOptions][] = [
  ['memory store', { store: 'memory' }],
  ['redis store', { store: 'redis' }],
  ['memory store, full path only', { store: 'memory', renewFactsCapacity: 0 }],
  ['redis store, full path only', { store: 'redis', renewFactsCapacity: 0 }],
];

describe.each(variants)('Renewal (%s)', (_name, variant) => {
  let f: AuthFixture;
  let renewal: Renewal;
  let user: User;
  let first: IssuedCredentials;

  async function setUp(options: AuthFixtureOptions = {}, client = {}) {
    f = await authFixture({ ...variant, ...options, settings: { ...variant.settings, ...options.settings } });
    renewal = new Renewal(f.context);
    ({ user } = await f.addUser());
    first = await openSession(f.context, user, client, 'login.succeeded', ['pwd']);
    f.audits.length = 0;
  }
  afterEach(async () => {
    jest.restoreAllMocks();
    await f.close();
  });

  it('rotates: a new StateProof of the next generation and a new BearerPass, audited as renew', async () => {
    await setUp();
    f.clock.advance(60_000);
    const next = await renewal.renew(first.stateProof, {});
    expect(f.context.stateProofs.parse(next.stateProof)).toEqual({ prn: user.id, aid: first.aid, generation: 2 });
    expect(next.bearerPass).not.toBe(first.bearerPass);
    expect(f.claimsOf(next.bearerPass)).toMatchObject({ prn: user.id, aid: first.aid, perm: ['read:profile'], ath: f.claimsOf(first.bearerPass).ath });
    expect(next).toMatchObject({ prn: user.id, aid: first.aid, expiresIn: 300, stateProofMaxAge: 604_800 - 60 });
    expect(f.audits).toEqual([{ event: 'renew', prn: user.id, aid: first.aid, generation: 2 }]);
  });

  it('answers the consumed StateProof inside the grace window with the same credentials, the BearerPass’s life counted down', async () => {
    await setUp();
    const a = await renewal.renew(first.stateProof, {});
    f.clock.advance(9_000);
    const b = await renewal.renew(first.stateProof, {});
    expect(b).toEqual({ ...a, expiresIn: 300 - 9, stateProofMaxAge: 604_800 - 9 });
    expect(f.audits.map((e) => e.event)).toEqual(['renew', 'renew.grace']);
  });

  it('treats the consumed StateProof after the configured grace window as a replay and kills the session', async () => {
    await setUp({ settings: { rotationGraceSeconds: 2 } });
    const next = await renewal.renew(first.stateProof, {});
    f.clock.advance(3_000);
    await expect(renewal.renew(first.stateProof, {})).rejects.toMatchObject({ code: 'JTS-401-05' });
    expect(f.audits).toContainEqual({ event: 'replay.detected', prn: user.id, aid: first.aid, presented: 1, revoked: [first.aid] });
    expect(f.context.renewFacts.get(user.id, first.aid)).toBeUndefined();
    await expect(renewal.renew(next.stateProof, {})).rejects.toMatchObject({ code: 'JTS-401-05' });
    expect(f.audits).toContainEqual({ event: 'renew.rejected', reason: 'compromised', prn: user.id, aid: first.aid });
  });

  it('refuses what is not a StateProof of ours with JTS-401-03, without asking the store', async () => {
    await setUp();
    const state = jest.spyOn(f.sessions, 'state');
    const rotate = jest.spyOn(f.sessions, 'rotate');
    const forged = `${first.stateProof.slice(0, -3)}AAA`;
    for (const value of [undefined, '', 'garbage', forged, 42]) {
      await expect(renewal.renew(value, {})).rejects.toMatchObject({ code: 'JTS-401-03' });
    }
    expect(state).not.toHaveBeenCalled();
    expect(rotate).not.toHaveBeenCalled();
    expect(f.audits).toEqual(Array(5).fill({ event: 'renew.rejected', reason: 'invalid' }));
  });

  it('refuses a session ended elsewhere with JTS-401-04, audited as missing', async () => {
    await setUp();
    await f.sessions.revoke(user.id, first.aid, { reason: 'revoked', initiator: 'user' });
    await expect(renewal.renew(first.stateProof, {})).rejects.toMatchObject({ code: 'JTS-401-04' });
    expect(f.audits).toEqual([{ event: 'renew.rejected', reason: 'missing', prn: user.id, aid: first.aid }]);
  });

  it('ends the session of a disabled user with JTS-401-04', async () => {
    await setUp();
    await f.users.update(user.id, { disabled: true }, f.clock.now());
    await expect(renewal.renew(first.stateProof, {})).rejects.toMatchObject({ code: 'JTS-401-04', message: 'The account is disabled or no longer exists.' });
    expect(f.audits).toEqual([{ event: 'renew.rejected', reason: 'user_gone', prn: user.id, aid: first.aid }]);
    await expect(f.sessions.state(user.id, first.aid)).resolves.toEqual({ state: 'missing' });
  });

  it('mints changed permissions into the next BearerPass', async () => {
    await setUp();
    await f.users.update(user.id, { permissions: ['read:profile', 'admin:access'] }, f.clock.now());
    const next = await renewal.renew(first.stateProof, {});
    expect(f.claimsOf(next.bearerPass).perm).toEqual(['read:profile', 'admin:access']);
    expect(f.context.renewFacts.get(user.id, first.aid)?.permissions).toEqual(variant.renewFactsCapacity === 0 ? undefined : ['read:profile', 'admin:access']);
  });

  it('renews a device-bound session only from its device: JTS-401-06 otherwise, with nothing rotated', async () => {
    await setUp({}, { deviceId: 'device-1' });
    await expect(renewal.renew(first.stateProof, { deviceId: 'device-2' })).rejects.toMatchObject({ code: 'JTS-401-06' });
    await expect(renewal.renew(first.stateProof, {})).rejects.toMatchObject({ code: 'JTS-401-06' });
    expect(f.audits).toEqual(Array(2).fill({ event: 'renew.rejected', reason: 'device_mismatch', prn: user.id, aid: first.aid }));
    const next = await renewal.renew(first.stateProof, { deviceId: 'device-1' });
    expect(f.context.stateProofs.parse(next.stateProof)?.generation).toBe(2);
  });

  it('reads neither the session nor the user mirror when it remembers the facts, both in one call when it does not, and never the accounts database', async () => {
    await setUp();
    const read = jest.spyOn(f.sessions, 'sessionAndUser');
    const get = jest.spyOn(f.users, 'get');
    // A chain of renewals, as a tab renewing all day: each one from the facts the previous left.
    let stateProof = first.stateProof;
    for (let i = 0; i < 3; i++) stateProof = (await renewal.renew(stateProof, {})).stateProof;
    expect(read).toHaveBeenCalledTimes(variant.renewFactsCapacity === 0 ? 3 : 0);
    expect(get).not.toHaveBeenCalled();
  });

  it('takes the full path when the store finds the remembered permissions stale', async () => {
    await setUp();
    const rotate = jest.spyOn(f.sessions, 'rotate');
    const confirming = jest.spyOn(f.sessions, 'rotateConfirmingUser');
    await f.users.update(user.id, { permissions: ['write:notes'] }, f.clock.now());
    const next = await renewal.renew(first.stateProof, {});
    expect(f.claimsOf(next.bearerPass).perm).toEqual(['write:notes']);
    // Remembered facts: one refused conditional rotation, then the full path's rotation.
    expect(confirming.mock.calls.map(([, expected]) => expected)).toEqual(variant.renewFactsCapacity === 0 ? [] : [expect.objectContaining({ permissions: ['read:profile'], credentialEpoch: 0 })]);
    expect(rotate).toHaveBeenCalledTimes(1);
    expect(f.audits).toEqual([{ event: 'renew', prn: user.id, aid: first.aid, generation: 2 }]);
  });

  it('tells the store the configured grace window and how long to remember a compromised session', async () => {
    await setUp({ settings: { rotationGraceSeconds: 7, bearerPassLifetimeSeconds: 600 } });
    const rotate = jest.spyOn(f.sessions, 'rotate');
    const confirming = jest.spyOn(f.sessions, 'rotateConfirmingUser');
    await renewal.renew(first.stateProof, {});
    const request = rotate.mock.calls[0]?.[0] ?? confirming.mock.calls[0]?.[0];
    expect(request).toEqual(expect.objectContaining({ graceMs: 7_000, tombstoneMs: 720_000, replayRevoke: 'session', now: f.clock.now(), presented: 1 }));
  });
});
