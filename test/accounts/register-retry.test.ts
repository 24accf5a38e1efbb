import Redis from 'ioredis';
import request from 'supertest';
import { CSRF, login, profile } from '../support/http';
import { PrivateRedis, redisAnswers, waitFor } from '../support/redis-server';
import { buildTestApp, type TestApp } from '../support/test-app';

/**
 * A registration writes the account in PostgreSQL, then its Redis mirror, then its session. When
 * a Redis step fails after the SQL write the answer is 503 — and the client's retry must register,
 * not meet 409 email_taken for an account nobody can sign in to (seen in a clean-clone CI run).
 */
describe('registration retried after a Redis failure between the SQL write and the session', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  let admin: Redis | undefined;

  beforeEach(async () => {
    redis = await PrivateRedis.start();
    t = await buildTestApp({ store: 'redis', redisUrl: redis.url, accounts: 'postgres' });
  });
  afterEach(async () => {
    admin?.disconnect();
    admin = undefined;
    await t.close();
    await redis.destroy();
  });

  const register = (email: string) => request(t.app).post('/jts/register').set(CSRF).send({ email, password: 'correct horse battery', name: 'Retry' });

  it('Redis down (the mirror write fails): 503, nothing left in PostgreSQL, and the retry registers', async () => {
    await redis.stop();
    const first = await register('retry-down@example.com');
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ error: 'service_unavailable' });
    await expect(t.users.findByEmail('retry-down@example.com')).resolves.toBeUndefined();

    await redis.start();
    await waitFor(() => redisAnswers(redis.port), 5_000);
    let retry = await register('retry-down@example.com');
    // ioredis reconnects on its own schedule: a client retries a 503 as told by retry_after.
    for (let i = 0; retry.status === 503 && i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      retry = await register('retry-down@example.com');
    }
    expect(retry.status).toBe(201);
    expect((await profile(t.app, (retry.body as { bearerPass: string }).bearerPass)).status).toBe(200);
    await login(t.app, 'retry-down@example.com', 'correct horse battery');
  });

  it('the mirror is written but the session is refused: 500, the row is undone, and the retry registers', async () => {
    // Redis ACLs let this server's connection write user mirrors and rate limits but no session
    // key: the failure falls exactly between the mirror and the session.
    admin = new Redis(redis.url);
    await admin.call('ACL', 'SETUSER', 'default', 'resetkeys', '~*:user', '~*rl:*', '~*users');
    const first = await register('retry-session@example.com');
    // Redis's NOPERM is no outage, so it is a 500 rather than a 503; what matters is the undo.
    expect(first.status).toBe(500);
    await expect(t.users.findByEmail('retry-session@example.com')).resolves.toBeUndefined();

    await admin.call('ACL', 'SETUSER', 'default', 'allkeys');
    const retry = await register('retry-session@example.com');
    expect(retry.status).toBe(201);
    await login(t.app, 'retry-session@example.com', 'correct horse battery');
  });

  it('never undoes an account that was written since it was created (compare-and-delete on the version)', async () => {
    const created = await register('taken@example.com');
    expect(created.status).toBe(201);
    const user = await t.users.findByEmail('taken@example.com');
    await t.users.update(user!.id, { name: 'Renamed' }, Date.now());
    await expect(t.users.discardNew(user!.id, 1)).resolves.toBe(false);
    expect((await register('taken@example.com')).status).toBe(409);
  });
});
