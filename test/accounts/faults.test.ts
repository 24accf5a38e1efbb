import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { CSRF, login, profile, renew, renewOk, type Credentials } from '../support/http';
import type { App } from 'supertest/types';
import { PrivatePostgres } from '../support/postgres-server';
import { PrivateRedis } from '../support/redis-server';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

/**
 * Outages of the two stores, each on a server of its own that the test stops or empties:
 * PostgreSQL down must not touch verify and renew; Redis emptied must not lose an account.
 */
/** A BearerPass-guarded route that reads no account (GET /api/profile reads the user's name and email). */
const verified = (app: App, bearerPass: string) => request(app).get('/api/admin').set('Authorization', `Bearer ${bearerPass}`);

describe('PostgreSQL stopped and started again', () => {
  let postgres: PrivatePostgres;
  let t: TestApp;
  let fullPath: TestApp | undefined;

  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await fullPath?.close();
    await postgres.destroy();
  });

  it('answers login, register and the admin API 503 with retry_after, writes nothing, keeps verify and renew at 200, and signs in again within 2 s of its return', async () => {
    const shared = { store: 'redis' as const, stateProofSecret: randomBytes(32), env: { DATABASE_TIMEOUT: '1000', REDIS_KEY_PREFIX: `pg${randomBytes(4).toString('hex')}:` } };
    t = await buildTestApp({ ...shared, accounts: 'postgres', databaseUrl: postgres.url });
    // A second instance that remembers no renewal facts: every renewal there takes the full path.
    fullPath = await buildTestApp({ ...shared, renewFactsCapacity: 0 });
    const user = await createUser(t, { permissions: ['read:profile', 'admin:access'] });
    let creds: Credentials = await login(t.app, user.email, user.password);
    const other = await login(t.app, user.email, user.password);
    const admin = await createUser(t, { permissions: ['read:profile', 'admin:users'] });
    const adminCreds = await login(t.app, admin.email, admin.password);
    const asAdmin = { Authorization: `Bearer ${adminCreds.bearerPass}` };

    await postgres.stop();

    const loginAnswer = await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password });
    expect(loginAnswer.status).toBe(503);
    expect(loginAnswer.body).toMatchObject({ error: 'service_unavailable', retry_after: expect.any(Number) as number });
    expect(JSON.stringify(loginAnswer.body)).not.toMatch(/SELECT|users|ECONNREFUSED|terminated/i);
    const registerAnswer = await request(t.app).post('/jts/register').set(CSRF).send({ email: 'during-outage@example.com', password: 'correct horse', name: 'Late' });
    expect(registerAnswer.status).toBe(503);
    expect(registerAnswer.body).toMatchObject({ error: 'service_unavailable', retry_after: expect.any(Number) as number });

    // The admin API reads and writes PostgreSQL: 503 with retry_after, nothing written, no SQL in the answer.
    for (const answer of [
      await request(t.app).get('/admin/users').set(asAdmin),
      await request(t.app).post('/admin/users').set(CSRF).set(asAdmin).send({ email: 'admin-made@example.com', password: 'correct horse' }),
      await request(t.app).patch(`/admin/users/${user.id}`).set(CSRF).set(asAdmin).send({ disabled: true }),
      await request(t.app).delete(`/admin/users/${user.id}`).set(CSRF).set(asAdmin),
    ]) {
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ error: 'service_unavailable', retry_after: expect.any(Number) as number });
      expect(answer.headers['retry-after']).toEqual(expect.any(String));
      expect(JSON.stringify(answer.body)).not.toMatch(/SELECT|users|ECONNREFUSED|terminated/i);
    }

    // Verify and renew never wait on SQL.
    expect((await verified(t.app, creds.bearerPass)).status).toBe(200);
    creds = await renewOk(t.app, creds.stateProof);
    expect((await verified(t.app, creds.bearerPass)).status).toBe(200);
    expect((await renew(fullPath.app, other.stateProof)).status).toBe(200);
    // The profile comes from the Redis mirror too: the demo API never waits on SQL either.
    const shown = await profile(t.app, creds.bearerPass);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id: user.id, email: user.email, name: expect.any(String) as string });

    await postgres.start();
    const back = Date.now();
    let status = 0;
    while (Date.now() - back < 2_000) {
      status = (await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password })).status;
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (status !== 200) process.stderr.write(t.logLines.filter((line) => line.includes('"level":50')).join('\n').slice(0, 3000));
    expect(status).toBe(200);
    expect(Date.now() - back).toBeLessThan(2_000);
    // Nothing half-written: the registration refused during the outage left no account behind.
    await expect(t.users.findByEmail('during-outage@example.com')).resolves.toBeUndefined();
    await expect(t.users.findByEmail('admin-made@example.com')).resolves.toBeUndefined();
    await expect(t.users.get(user.id)).resolves.toMatchObject({ disabled: false });
    expect((await renew(t.app, creds.stateProof)).status).toBe(200);
    expect((await request(t.app).post('/jts/register').set(CSRF).send({ email: 'during-outage@example.com', password: 'correct horse', name: 'Late' })).status).toBe(201);
  }, 60_000);
});

describe('Redis restarted empty', () => {
  let redis: PrivateRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });
  afterAll(async () => {
    await t.close();
    await redis.destroy();
  });

  it('keeps every account: old sessions get JTS-401-04, everyone signs in again, the mirror is rebuilt, never a 5xx', async () => {
    t = await buildTestApp({ store: 'redis', redisUrl: redis.url, accounts: 'postgres' });
    const users = await Promise.all([createUser(t), createUser(t, { permissions: ['read:profile', 'admin:access'] }), createUser(t)]);
    const sessions = await Promise.all(users.map((u) => login(t.app, u.email, u.password)));

    await t.redis!.flushall();

    for (const session of sessions) {
      const answer = await renew(t.app, session.stateProof);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error_code: 'JTS-401-04' });
      expect((await profile(t.app, session.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-04' });
    }
    for (const [index, user] of users.entries()) {
      const creds = await login(t.app, user.email, user.password);
      expect((await profile(t.app, creds.bearerPass)).status).toBe(200);
      const renewed = await renewOk(t.app, creds.stateProof);
      const claims = JSON.parse(Buffer.from(renewed.bearerPass.split('.')[1]!, 'base64url').toString()) as { perm: string[] };
      expect(claims.perm).toEqual(index === 1 ? ['read:profile', 'admin:access'] : ['read:profile']);
    }
    // And a change after the rebuild still reaches the mirror: disable ends renewals.
    const [first] = users;
    const creds = await login(t.app, first.email, first.password);
    await t.users.update(first.id, { disabled: true }, Date.now());
    expect((await renew(t.app, creds.stateProof)).body).toMatchObject({ error_code: 'JTS-401-04' });
  });
});
