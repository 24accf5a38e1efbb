import request from 'supertest';
import { CSRF, login, renew, renewOk } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CREDENTIAL_CHANGE, pollAll, revocationsOf, SESSION_REVOKED, subscriberClient, verifySet, type PolledEvent } from './support';

const aidOf = (stateProof: string) => stateProof.split('.')[2];

describe.each(['redis', 'memory'] as const)('every session end that matters is published as a signed SET (%s store)', (store) => {
  let t: TestApp;
  let auth: { Authorization: string };

  beforeAll(async () => {
    t = await buildTestApp({ store, accounts: store === 'redis' ? 'postgres' : 'pglite' });
    auth = await subscriberClient(t);
  });

  afterAll(async () => {
    await t.close();
  });

  /** The verified revocations of `prn` published since `before` (the id of the newest event then). */
  async function published(prn: string, before: PolledEvent[]) {
    const all = await pollAll(t, auth);
    return revocationsOf(t, all.slice(before.length), prn);
  }

  it('logout: one session-revoked SET, reason logout, initiated by the user, with the wire format exactly', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    const before = await pollAll(t, auth);
    expect((await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`)).status).toBe(200);
    const after = await pollAll(t, auth);
    expect(after).toHaveLength(before.length + 1);
    const event = after.at(-1) as PolledEvent;
    const { header, payload } = await verifySet(t, event.set);
    expect(header).toEqual({ alg: 'ES256', kid: t.keyRing.signer.kid, typ: 'secevent+jwt' });
    expect(Object.keys(payload).sort()).toEqual(['events', 'iat', 'iss', 'jti', 'sub_id']);
    expect(payload.jti).toBe(event.id);
    expect(payload.sub_id).toEqual({ format: 'complex', session: { format: 'opaque', id: aidOf(creds.stateProof) }, user: { format: 'opaque', id: user.id } });
    const body = payload.events[SESSION_REVOKED] as Record<string, number | string | object>;
    expect(body).toEqual({ event_timestamp: expect.any(Number), initiating_entity: 'user', reason_admin: { en: 'logout' }, jts_not_after: expect.any(Number) });
    // Not after: the revocation + the longest life of a token bound to the session (exchanged: 900 s) + grace (10 s).
    expect((body.jts_not_after as number) - (body.event_timestamp as number)).toBeGreaterThanOrEqual(910);
    expect((body.jts_not_after as number) - (body.event_timestamp as number)).toBeLessThanOrEqual(911);
  });

  it('revoking one of one’s own sessions, and all the others', async () => {
    const user = await createUser(t);
    const [a, b, c] = [await login(t.app, user.email, user.password), await login(t.app, user.email, user.password), await login(t.app, user.email, user.password)];
    const before = await pollAll(t, auth);
    expect((await request(t.app).delete(`/jts/sessions/${aidOf(b.stateProof)}`).set(CSRF).set('Authorization', `Bearer ${a.bearerPass}`)).status).toBe(200);
    expect((await request(t.app).post('/jts/sessions/revoke-others').set(CSRF).set('Authorization', `Bearer ${a.bearerPass}`)).status).toBe(200);
    expect(await published(user.id, before)).toEqual([
      expect.objectContaining({ aid: aidOf(b.stateProof), reason: 'revoked', initiator: 'user' }),
      expect.objectContaining({ aid: aidOf(c.stateProof), reason: 'revoked', initiator: 'user' }),
    ]);
  });

  it('an administrator ending a user’s sessions, disabling and deleting users', async () => {
    const revoked = await createUser(t);
    const disabled = await createUser(t);
    const deleted = await createUser(t);
    const sessions = { revoked: await login(t.app, revoked.email, revoked.password), disabled: await login(t.app, disabled.email, disabled.password), deleted: await login(t.app, deleted.email, deleted.password) };
    const before = await pollAll(t, auth);
    await t.administration.revokeSessions('cli', revoked.id);
    await t.administration.update('cli', disabled.id, { disabled: true });
    await t.administration.delete('cli', deleted.id);
    const all = await pollAll(t, auth);
    const fresh = all.slice(before.length);
    expect(await revocationsOf(t, fresh, revoked.id)).toEqual([expect.objectContaining({ aid: aidOf(sessions.revoked.stateProof), reason: 'admin', initiator: 'admin' })]);
    expect(await revocationsOf(t, fresh, disabled.id)).toEqual([expect.objectContaining({ aid: aidOf(sessions.disabled.stateProof), reason: 'user_disabled', initiator: 'admin' })]);
    expect(await revocationsOf(t, fresh, deleted.id)).toEqual([expect.objectContaining({ aid: aidOf(sessions.deleted.stateProof), reason: 'user_deleted', initiator: 'admin' })]);
  });

  it('a replay detected at renewal: the session it ends, initiated by the system', async () => {
    const user = await createUser(t);
    const first = await login(t.app, user.email, user.password);
    await renewOk(t.app, first.stateProof);
    t.clock.advance((t.config.jts.rotationGraceSeconds + 1) * 1000);
    const before = await pollAll(t, auth);
    expect((await renew(t.app, first.stateProof)).body).toMatchObject({ error_code: 'JTS-401-05' });
    expect(await published(user.id, before)).toEqual([expect.objectContaining({ aid: aidOf(first.stateProof), reason: 'replay_detected', initiator: 'system' })]);
  });

  it('a replay under JTS_REPLAY_REVOKE=principal: every session of the principal, one SET each', async () => {
    const strict = await buildTestApp({ store, accounts: store === 'redis' ? 'postgres' : 'pglite', env: { JTS_REPLAY_REVOKE: 'principal' } });
    try {
      const strictAuth = await subscriberClient(strict);
      const user = await createUser(strict);
      const first = await login(strict.app, user.email, user.password);
      const second = await login(strict.app, user.email, user.password);
      await renewOk(strict.app, first.stateProof);
      strict.clock.advance((strict.config.jts.rotationGraceSeconds + 1) * 1000);
      expect((await renew(strict.app, first.stateProof)).body).toMatchObject({ error_code: 'JTS-401-05' });
      const ended = await revocationsOf(strict, await pollAll(strict, strictAuth), user.id);
      expect(ended.map((e) => e.aid).sort()).toEqual([aidOf(first.stateProof), aidOf(second.stateProof)].sort());
      expect(ended.every((e) => e.reason === 'replay_detected' && e.initiator === 'system')).toBe(true);
    } finally {
      await strict.close();
    }
  });

  it('a password change: every other session, then one credential-change SET', async () => {
    const user = await createUser(t);
    const kept = await login(t.app, user.email, user.password);
    const other = await login(t.app, user.email, user.password);
    const before = await pollAll(t, auth);
    const res = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${kept.bearerPass}`).send({ currentPassword: user.password, newPassword: 'another long passphrase' });
    expect(res.status).toBe(200);
    const fresh = (await pollAll(t, auth)).slice(before.length);
    expect(await revocationsOf(t, fresh, user.id)).toEqual([expect.objectContaining({ aid: aidOf(other.stateProof), reason: 'password_changed', initiator: 'user' })]);
    const changes = [];
    for (const event of fresh) {
      const { payload } = await verifySet(t, event.set);
      if (payload.events[CREDENTIAL_CHANGE]) changes.push(payload);
    }
    expect(changes).toEqual([
      expect.objectContaining({ sub_id: { format: 'opaque', id: user.id }, events: { [CREDENTIAL_CHANGE]: { event_timestamp: expect.any(Number), initiating_entity: 'user', credential_type: 'password', change_type: 'update' } } }),
    ]);
  });

  it('a session evicted by the policy at sign-in', async () => {
    const single = await buildTestApp({ store, accounts: store === 'redis' ? 'postgres' : 'pglite', env: { JTS_SESSION_POLICY: 'single' } });
    try {
      const singleAuth = await subscriberClient(single);
      const user = await createUser(single);
      const first = await login(single.app, user.email, user.password);
      await login(single.app, user.email, user.password);
      expect(await revocationsOf(single, await pollAll(single, singleAuth), user.id)).toEqual([expect.objectContaining({ aid: aidOf(first.stateProof), reason: 'evicted', initiator: 'policy' })]);
    } finally {
      await single.close();
    }
  });

  it('a sign-in that raced a password change, ended at its first renewal (published by the store after the script)', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    // What a change the sign-in slipped past leaves: the mirror one credential epoch ahead of the session.
    await t.sessions.putUser(user.id, { disabled: false, permissions: ['read:profile'], credentialEpoch: 1, version: 99, emailVerified: false });
    const before = await pollAll(t, auth);
    expect((await renew(t.app, creds.stateProof)).status).toBe(401);
    expect(await published(user.id, before)).toEqual([expect.objectContaining({ aid: aidOf(creds.stateProof), reason: 'password_changed', initiator: 'system' })]);
  });

  it('nothing for what ends nothing: a second logout, a garbage StateProof', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`);
    const before = await pollAll(t, auth);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', 'jts_state_proof=garbage');
    expect(await pollAll(t, auth)).toHaveLength(before.length);
  });
});
