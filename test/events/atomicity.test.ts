import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { CSRF, login, renew, renewOk } from '../support/http';
import { buildTestApp, createUser, testRedisUrl, type TestApp } from '../support/test-app';

/**
 * "No instance can revoke without publishing", shown by behaviour: a Redis whose ACL refuses
 * XADD to this server's user must refuse the revocations too, and leave every session alive. An
 * XADD sent after the script, or placed in it after the writes (a script keeps what it wrote
 * before a failing command), would leave the session ended and no event: these tests fail then.
 */
describe('a Redis that refuses XADD refuses the revocation with it', () => {
  const user = `noxadd${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let admin: Redis;
  let t: TestApp;

  beforeAll(async () => {
    admin = new Redis(testRedisUrl());
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all', '-xadd');
    const url = new URL(testRedisUrl());
    t = await buildTestApp({ store: 'redis', redisUrl: `redis://${user}:${password}@${url.host}`, env: { JTS_REPLAY_REVOKE: 'principal' } });
  });

  afterAll(async () => {
    await t.close();
    await admin.call('ACL', 'DELUSER', user);
    admin.disconnect();
  });

  const stream = () => `${t.config.redis.keyPrefix}events`;

  async function signedIn() {
    const account = await createUser(t);
    return { account, creds: await login(t.app, account.email, account.password) };
  }

  it('logout: an error, and the session renews on', async () => {
    const { creds } = await signedIn();
    const res = await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`);
    expect(res.status).toBe(500);
    expect((await renew(t.app, creds.stateProof)).status).toBe(200);
    expect(await admin.exists(stream())).toBe(0);
  });

  it('revoking every session (admin, password change): an error, and every session lives on', async () => {
    const { account, creds } = await signedIn();
    const other = await login(t.app, account.email, account.password);
    await expect(t.administration.revokeSessions('cli', account.id)).rejects.toThrow(/can't run this command/);
    expect((await renew(t.app, creds.stateProof)).status).toBe(200);
    expect((await renew(t.app, other.stateProof)).status).toBe(200);
    expect(await admin.exists(stream())).toBe(0);
  });

  it('a replay: an error, and no session becomes a tombstone', async () => {
    const { account, creds } = await signedIn();
    const other = await login(t.app, account.email, account.password);
    const next = await renewOk(t.app, creds.stateProof);
    t.clock.advance((t.config.jts.rotationGraceSeconds + 1) * 1000);
    expect((await renew(t.app, creds.stateProof)).status).toBe(500);
    expect((await renew(t.app, next.stateProof)).status).toBe(200);
    expect((await renew(t.app, other.stateProof)).status).toBe(200);
    expect(await admin.exists(stream())).toBe(0);
  });

  it('a sign-in whose policy evicts: an error, and the oldest session stays', async () => {
    const single = await buildTestApp({ store: 'redis', redisUrl: `redis://${user}:${password}@${new URL(testRedisUrl()).host}`, env: { JTS_SESSION_POLICY: 'single' } });
    try {
      const account = await createUser(single);
      const first = await login(single.app, account.email, account.password);
      const second = await request(single.app).post('/jts/login').set(CSRF).send({ email: account.email, password: account.password });
      expect(second.status).toBe(500);
      expect((await renew(single.app, first.stateProof)).status).toBe(200);
    } finally {
      await single.close();
    }
  });
});
