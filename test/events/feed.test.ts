import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { basic } from '../oauth/support';
import { listen, pollAll, revocationsOf, SseReader, subscriberClient, verifySet } from './support';

const aidOf = (stateProof: string) => stateProof.split('.')[2];

async function logout(t: TestApp, stateProof: string): Promise<void> {
  expect((await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${stateProof}`)).status).toBe(200);
}

/** Signs a user in and out on `t`; resolves to the ended session's aid. */
async function signInAndOut(t: TestApp): Promise<string> {
  const user = await createUser(t);
  const creds = await login(t.app, user.email, user.password);
  await logout(t, creds.stateProof);
  return aidOf(creds.stateProof) as string;
}

const aidsOf = async (t: TestApp, reader: SseReader) => {
  const aids: unknown[] = [];
  for (const frame of reader.events) aids.push(((await verifySet(t, frame.data as string)).payload.sub_id as { session: { id: string } }).session.id);
  return aids;
};

describe('GET /jts/events: two instances sharing one Redis', () => {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  let a: TestApp;
  let b: TestApp;
  let bHttp: Awaited<ReturnType<typeof listen>>;
  let auth: { Authorization: string };
  const readers: SseReader[] = [];
  const open = async (headers: Record<string, string> = {}, path?: string) => {
    const reader = await SseReader.open(bHttp.url, { ...auth, ...headers }, path);
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    const env = { REDIS_KEY_PREFIX: prefix };
    a = await buildTestApp({ store: 'redis', accounts: 'postgres', env });
    b = await buildTestApp({ store: 'redis', accounts: 'postgres', env });
    auth = await subscriberClient(b);
    bHttp = await listen(b);
  });

  afterEach(() => {
    for (const reader of readers.splice(0)) reader.close();
  });

  afterAll(async () => {
    await bHttp.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('a logout on A reaches a subscriber on B as a signed SET, with the headers and framing of the wire format', async () => {
    const reader = await open();
    expect(reader.response.status).toBe(200);
    expect(reader.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(reader.response.headers.get('cache-control')).toBe('no-store');
    const aid = await signInAndOut(a);
    const total = (await pollAll(b, auth)).length;
    await reader.until((r) => r.events.length === total);
    expect((await aidsOf(b, reader)).at(-1)).toBe(aid);
    const last = reader.events.at(-1);
    const { payload } = await verifySet(b, last?.data as string);
    expect(payload.jti).toBe(last?.id);
    expect(reader.frames[0]).toEqual({ retry: '2000' });
  });

  it('starts at the oldest retained event without Last-Event-ID, then follows live', async () => {
    const earlier = await pollAll(b, auth);
    const reader = await open();
    await reader.until((r) => r.events.length >= earlier.length);
    expect(reader.events.map((f) => f.id)).toEqual(earlier.map((e) => e.id));
    const aid = await signInAndOut(a);
    await reader.until((r) => r.events.length === earlier.length + 1);
    expect((await aidsOf(b, reader)).at(-1)).toBe(aid);
  });

  it('a subscriber reconnecting with Last-Event-ID misses nothing and gets nothing twice (the header wins over a stale ?after)', async () => {
    const first = await open();
    await signInAndOut(a);
    const all = await pollAll(b, auth);
    await first.until((r) => r.events.length === all.length);
    const lastSeen = first.events.at(-1)?.id as string;
    first.close();
    const missed = [await signInAndOut(a), await signInAndOut(a), await signInAndOut(a)];
    const again = await open({ 'Last-Event-ID': lastSeen }, `/jts/events?after=${all[0]?.id ?? ''}`);
    await again.until((r) => r.events.length >= 3);
    const live = await signInAndOut(a);
    await again.until((r) => r.events.length === 4);
    expect(await aidsOf(b, again)).toEqual([...missed, live]);
    // ?after alone resumes too.
    const byQuery = await open({}, `/jts/events?after=${lastSeen}`);
    await byQuery.until((r) => r.events.length === 4);
    expect(byQuery.events.map((f) => f.id)).toEqual(again.events.map((f) => f.id));
  });

  it('fans out from one blocking read per instance, however many subscribers', async () => {
    const subscribers = await Promise.all([open(), open(), open(), open()]);
    await signInAndOut(a);
    const total = (await pollAll(b, auth)).length;
    for (const reader of subscribers) await reader.until((r) => r.events.length === total);
    const clients = (await (b.redis as NonNullable<TestApp['redis']>).client('LIST')) as string;
    const blocked = clients.split('\n').filter((line) => / cmd=xread\b/.test(line) && line.includes(' flags=b'));
    // A's feed has no subscriber, so it never opened its tail: B's one connection is all there is.
    expect(blocked).toHaveLength(1);
  });

  it('a restarted instance serves every event with the same ids (and jti)', async () => {
    await signInAndOut(a);
    const before = await pollAll(b, auth);
    await b.close();
    b = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { REDIS_KEY_PREFIX: prefix } });
    auth = await subscriberClient(b);
    await bHttp.close();
    bHttp = await listen(b);
    const after = await pollAll(b, auth);
    expect(after.map((e) => e.id)).toEqual(before.map((e) => e.id));
    for (const event of after) expect((await verifySet(b, event.set)).payload.jti).toBe(event.id);
  });

  it('says `gap` first when the requested id is older than what is retained', async () => {
    await signInAndOut(a);
    await signInAndOut(a);
    const all = await pollAll(b, auth);
    const oldest = all.at(-1)?.id as string;
    // What retention does with time: everything before the newest entry is trimmed.
    await (b.redis as NonNullable<TestApp['redis']>).xtrim(`${prefix}events`, 'MINID', oldest);
    const polled = await request(b.app).get('/jts/events/poll').query({ after: all[0]?.id }).set(auth);
    expect(polled.body).toEqual({ events: [{ id: oldest, set: expect.any(String) }], next: oldest, moreAvailable: false, gap: true });
    const reader = await open({ 'Last-Event-ID': all[0]?.id as string });
    await reader.until((r) => r.events.length === 1);
    expect(reader.frames.slice(1, 2)).toEqual([{ event: 'gap', data: JSON.stringify({ oldest }) }]);
    // Not a gap for one who had read the oldest retained entry.
    expect((await request(b.app).get('/jts/events/poll').query({ after: oldest }).set(auth)).body).toEqual({ events: [], next: oldest, moreAvailable: false, gap: false });
  });

  it('ends every stream on shutdown, so the server can drain', async () => {
    const reader = await open();
    await reader.until((r) => r.frames.length > 0);
    const closed = new Promise<void>((resolve) => bHttp.server.close(() => { resolve(); }));
    b.events.close();
    await reader.until((r) => r.ended);
    // As server.ts does: the client's now idle keep-alive connection must not hold the close.
    bHttp.server.closeIdleConnections();
    await closed;
    bHttp = await listen(b);
  });
});

describe('GET /jts/events and /jts/events/poll refuse', () => {
  let t: TestApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let auth: { Authorization: string };

  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { JTS_EVENTS_MAX_STREAMS_PER_CLIENT: '2' } });
    auth = await subscriberClient(t);
    http = await listen(t);
  });

  afterAll(async () => {
    await http.close();
    await t.close();
  });

  it.each(['/jts/events', '/jts/events/poll'])('%s: no or bad client credentials (401 Basic), a client without jts:events (403)', async (path) => {
    const none = await request(t.app).get(path);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="jts", charset="UTF-8"');
    expect(none.body).toMatchObject({ error: 'invalid_client' });
    const wrong = await request(t.app).get(path).set(basic('verifier', 'not-the-secret'));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'invalid_client', message: 'Client authentication failed.', action: 'none', timestamp: expect.any(Number) });
    const orders = await subscriberClient(t, `orders-${path.length}`, ['read:orders']);
    const scopeless = await request(t.app).get(path).set(orders);
    expect(scopeless.status).toBe(403);
    expect(scopeless.body).toEqual({ error: 'insufficient_scope', message: 'The client needs the scope jts:events.', action: 'none', timestamp: expect.any(Number) });
  });

  it('HEAD /jts/events answers the stream’s headers and ends (holding no stream)', async () => {
    const res = await request(t.app).head('/jts/events').set(auth);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(t.events.size).toBe(0);
  });

  it('a malformed resume id or limit: 400 invalid_request', async () => {
    expect((await request(t.app).get('/jts/events').set(auth).set('Last-Event-ID', 'yesterday')).body).toMatchObject({ error: 'invalid_request' });
    expect((await request(t.app).get('/jts/events/poll').query({ after: '1-2-3' }).set(auth)).status).toBe(400);
    expect((await request(t.app).get('/jts/events/poll').query({ limit: '1001' }).set(auth)).status).toBe(400);
    expect((await request(t.app).get('/jts/events/poll').query({ limit: '0' }).set(auth)).status).toBe(400);
  });

  it('a stream beyond JTS_EVENTS_MAX_STREAMS_PER_CLIENT: 429, and a slot frees when a stream closes', async () => {
    const held = [await SseReader.open(http.url, auth), await SseReader.open(http.url, auth)];
    const third = await request(t.app).get('/jts/events').set(auth);
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ error: 'rate_limited', retry_after: 2 });
    held[0]?.close();
    const deadline = Date.now() + 5000;
    while (t.events.size > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await SseReader.open(http.url, auth);
    expect(again.response.status).toBe(200);
    again.close();
    held[1]?.close();
  });
});

describe('the memory store (npm start, nothing installed)', () => {
  it('serves its revocations over SSE and poll', async () => {
    const t = await buildTestApp({ store: 'memory', accounts: 'pglite' });
    const http = await listen(t);
    try {
      const auth = await subscriberClient(t);
      const reader = await SseReader.open(http.url, auth);
      const aid = await signInAndOut(t);
      await reader.until((r) => r.events.length === 1);
      expect(await aidsOf(t, reader)).toEqual([aid]);
      const user = await createUser(t);
      const polled = await pollAll(t, auth);
      expect(polled.map((e) => e.id)).toEqual(reader.events.map((f) => f.id));
      expect(await revocationsOf(t, polled, user.id)).toEqual([]);
      reader.close();
    } finally {
      await http.close();
      await t.close();
    }
  });
});
