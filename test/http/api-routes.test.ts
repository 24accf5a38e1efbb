import type { Socket } from 'node:net';
import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { login } from '../support/http';

/**
 * GET /api/profile sends its session check and its user read together (authenticatedRoute), so
 * with auto-pipelining they share one write to Redis and one round trip (README, Performance).
 * Counted as writes on the client's socket: ioredis writes each auto-pipeline in one go.
 */
describe('GET /api/profile on Redis', () => {
  let t: TestApp;
  let writes: number;
  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis' });
    const stream = (t.redis as unknown as { stream: Socket }).stream;
    const write = stream.write.bind(stream);
    stream.write = ((...args: Parameters<Socket['write']>) => {
      writes += 1;
      return write(...args);
    }) as Socket['write'];
  });
  afterAll(async () => {
    await t.close();
  });

  async function redisWritesFor(path: string, bearerPass: string): Promise<{ status: number; writes: number }> {
    writes = 0;
    const res = await request(t.app).get(path).set('Authorization', `Bearer ${bearerPass}`);
    return { status: res.status, writes };
  }

  it('checks the session and reads the user in one round trip', async () => {
    const user = await createUser(t);
    const { bearerPass } = await login(t.app, user.email, user.password);
    expect(await redisWritesFor('/api/profile', bearerPass)).toEqual({ status: 200, writes: 1 });
  });

  it('as authenticate() alone checks the session in one (the yardstick)', async () => {
    const admin = await createUser(t, { permissions: ['admin:access'] });
    const { bearerPass } = await login(t.app, admin.email, admin.password);
    expect(await redisWritesFor('/api/admin', bearerPass)).toEqual({ status: 200, writes: 1 });
  });

  it('refuses an ended session with the session check’s answer', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    await request(t.app).post('/jts/logout').set('x-jts-request', '1').set('Cookie', `jts_state_proof=${creds.stateProof}`).expect(200);
    const res = await request(t.app).get('/api/profile').set('Authorization', `Bearer ${creds.bearerPass}`);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error_code: 'JTS-401-04', message: 'The session has ended.' });
  });

  it('refuses a live session whose account is gone from the accounts database and the mirror', async () => {
    const own = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    try {
      const user = await createUser(own);
      const { bearerPass } = await login(own.app, user.email, user.password);
      // Deleted by hand in SQL (not through the admin API, which also ends the sessions) and its
      // mirror lost: the profile falls back to PostgreSQL, which has no such account.
      await own.database?.db.deleteFrom('users').where('id', '=', user.id).execute();
      await own.sessions.removeUser(user.id);
      const res = await request(own.app).get('/api/profile').set('Authorization', `Bearer ${bearerPass}`);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error_code: 'JTS-401-04', message: 'The account no longer exists.' });
    } finally {
      await own.close();
    }
  });
});
