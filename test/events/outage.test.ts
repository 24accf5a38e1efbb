import request from 'supertest';
import { CSRF, login } from '../support/http';
import { PrivateRedis } from '../support/redis-server';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { listen, SseReader, subscriberClient, verifySet } from './support';

const aidOf = (stateProof: string) => stateProof.split('.')[2];

describe('the feed while Redis is down', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let auth: { Authorization: string };

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    t = await buildTestApp({ store: 'redis', accounts: 'postgres', redisUrl: redis.url });
    auth = await subscriberClient(t);
    http = await listen(t);
  });

  afterAll(async () => {
    await http.close();
    await t.close();
    await redis.destroy();
  });

  async function signInAndOut(): Promise<string> {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    expect((await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`)).status).toBe(200);
    return aidOf(creds.stateProof) as string;
  }

  const sessionOf = async (set: string | undefined) => ((await verifySet(t, set as string)).payload.sub_id as { session: { id: string } }).session.id;

  it('answers new subscribers 503 in the JSON shape, keeps open streams open, and resumes them when Redis is back', async () => {
    const reader = await SseReader.open(http.url, auth);
    const before = await signInAndOut();
    await reader.until((r) => r.events.length === 1);
    expect(await sessionOf(reader.events[0]?.data)).toBe(before);

    await redis.stop();
    const refused = await request(t.app).get('/jts/events').set(auth);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.body).toEqual({ error: 'service_unavailable', message: 'A backing service is unavailable.', action: 'retry', retry_after: 2, timestamp: expect.any(Number) });
    expect((await request(t.app).get('/jts/events/poll').set(auth)).status).toBe(503);
    // The tail retries with its cursor; the subscriber is not cut off.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reader.ended).toBe(false);

    await redis.start();
    const deadline = Date.now() + 10_000;
    while ((await request(t.app).get('/readyz')).status !== 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await signInAndOut();
    await reader.until((r) => r.events.length === 2, 10_000);
    expect(await sessionOf(reader.events[1]?.data)).toBe(after);
    const again = await SseReader.open(http.url, auth);
    expect(again.response.status).toBe(200);
    again.close();
    reader.close();
  });
});
