import bcrypt from 'bcrypt';
import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, renew } from '../support/http';
import { waitFor } from '../support/redis-server';

interface Line {
  level: number;
  msg: string;
  audit?: boolean;
  event?: string;
  reqId?: string;
  ip?: string;
  prn?: string;
  code?: string;
  req?: { id: string; ip?: string };
  res?: { statusCode: number; error?: string };
}

const linesOf = (t: TestApp): Line[] => t.logLines.map((line) => JSON.parse(line) as Line);
const auditLines = (t: TestApp, event: string) => linesOf(t).filter((line) => line.audit === true && line.event === event);
const requestLine = (t: TestApp, id: string) => linesOf(t).find((line) => line.req?.id === id);

/** Issue 14 item 11: what an operator needs in the log lines, and only that. */
describe('operators\' logs', () => {
  let t: TestApp;
  afterEach(async () => {
    await t.close();
  });

  it('audit lines carry the request id and the canonical client address; login.failed names an existing account', async () => {
    t = await buildTestApp({ store: 'redis', env: { TRUST_PROXY: 'loopback' } });
    const user = await createUser(t);
    await request(t.app).post('/jts/login').set(CSRF).set('X-Request-Id', 'req-wrong').set('X-Forwarded-For', '::FFFF:203.0.113.9').send({ email: user.email, password: 'not the password' }).expect(401);
    await request(t.app).post('/jts/login').set(CSRF).set('X-Request-Id', 'req-unknown').set('X-Forwarded-For', '2001:DB8:0:0:0:0:0:A').send({ email: 'nobody@example.com', password: 'whatever' }).expect(401);
    await request(t.app).post('/jts/login').set(CSRF).set('X-Request-Id', 'req-ok').set('X-Forwarded-For', '198.51.100.7').send({ email: user.email, password: user.password }).expect(200);

    const failed = auditLines(t, 'login.failed');
    expect(failed).toEqual([
      expect.objectContaining({ reason: 'wrong_password', prn: user.id, reqId: 'req-wrong', ip: '203.0.113.9' }),
      expect.objectContaining({ reason: 'unknown_email', reqId: 'req-unknown', ip: '2001:db8::a' }),
    ]);
    expect(failed[1]).not.toHaveProperty('prn');
    expect(auditLines(t, 'login.succeeded')).toEqual([expect.objectContaining({ prn: user.id, reqId: 'req-ok', ip: '198.51.100.7' })]);
    // The request line spells the address the same way.
    expect(requestLine(t, 'req-wrong')?.req?.ip).toBe('203.0.113.9');
  });

  it('replay.detected carries the address and the request id (warn)', async () => {
    t = await buildTestApp({ store: 'redis', env: { TRUST_PROXY: 'loopback' } });
    const user = await createUser(t);
    const first = await login(t.app, user.email, user.password);
    await renew(t.app, first.stateProof).expect(200);
    t.clock.advance(11_000);
    await renew(t.app, first.stateProof).set('X-Request-Id', 'req-thief').set('X-Forwarded-For', '192.0.2.66').expect(401);
    expect(auditLines(t, 'replay.detected')).toEqual([expect.objectContaining({ level: 40, reqId: 'req-thief', ip: '192.0.2.66', prn: user.id })]);
  });

  it('rate_limited carries the address and the request id', async () => {
    t = await buildTestApp({ store: 'redis', env: { TRUST_PROXY: 'loopback', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_REGISTER: '1/1h' } });
    const send = (id: string) => request(t.app).post('/jts/register').set(CSRF).set('X-Request-Id', id).set('X-Forwarded-For', '2001:db8::1').send({ email: `${id}@example.com`, password: 'long enough password', name: 'R' });
    await send('req-first').expect(201);
    await send('req-limited').expect(429);
    expect(auditLines(t, 'rate_limited')).toEqual([expect.objectContaining({ level: 40, limiter: 'register-ip', reqId: 'req-limited', ip: '2001:db8::1' })]);
    expect(requestLine(t, 'req-limited')?.res).toEqual({ statusCode: 429, error: 'rate_limited' });
  });

  it('request lines of a 4xx carry the error key; others carry none', async () => {
    t = await buildTestApp({ store: 'redis' });
    await request(t.app).get('/nowhere').set('X-Request-Id', 'r404').expect(404);
    await request(t.app).post('/jts/login').set(CSRF).set('X-Request-Id', 'r400').send({ email: 'a@example.com' }).expect(400);
    await request(t.app).post('/jts/login').set('X-Request-Id', 'r403').send({ email: 'a@example.com', password: 'x' }).expect(403);
    await request(t.app).get('/api/profile').set('X-Request-Id', 'r401').expect(401);
    await request(t.app).get('/api/admin').set('X-Request-Id', 'r400b').set('Authorization', 'Bearer nope').expect(400);
    await request(t.app).get('/healthz').set('X-Request-Id', 'r200').expect(200);
    expect(requestLine(t, 'r404')?.res).toEqual({ statusCode: 404, error: 'not_found' });
    expect(requestLine(t, 'r400')?.res).toEqual({ statusCode: 400, error: 'invalid_request' });
    expect(requestLine(t, 'r403')?.res?.error).toMatch(/^csrf_/);
    expect(requestLine(t, 'r401')?.res).toEqual({ statusCode: 401, error: 'stateproof_invalid' });
    expect(requestLine(t, 'r400b')?.res).toEqual({ statusCode: 400, error: expect.any(String) as string });
    expect(requestLine(t, 'r200')?.res).toEqual({ statusCode: 200 });
  });

  it('a sign-in refused because every hashing slot is taken is audited and logged as that, not as an outage', async () => {
    t = await buildTestApp({ store: 'redis', env: { BCRYPT_MAX_PENDING: '1' } });
    const user = await createUser(t);
    const realCompare = bcrypt.compare.bind(bcrypt) as (data: string, hash: string) => Promise<boolean>;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = false;
    const heldCompare = async (data: string, hash: string): Promise<boolean> => {
      entered = true;
      await held;
      return realCompare(data, hash);
    };
    // bcrypt.compare's last overload takes a callback and returns void; the code under test uses the promise one.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    const compare = jest.spyOn(bcrypt, 'compare').mockImplementationOnce(heldCompare as unknown as typeof bcrypt.compare);
    try {
      const first = request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password }).then((res) => res);
      await waitFor(() => entered, 5_000);
      const busy = await request(t.app).post('/jts/login').set(CSRF).set('X-Request-Id', 'req-busy').send({ email: user.email, password: user.password });
      expect(busy.status).toBe(503);
      release();
      expect((await first).status).toBe(200);
    } finally {
      compare.mockRestore();
    }
    expect(auditLines(t, 'hashing.busy')).toEqual([expect.objectContaining({ level: 40, slots: 1, reqId: 'req-busy' })]);
    const handled = linesOf(t).filter((line) => line.code === 'hashing_busy');
    expect(handled).toHaveLength(1);
    expect(handled[0]?.msg).toContain('hashing slot');
    expect(linesOf(t).some((line) => line.msg.includes('a backing service is unavailable'))).toBe(false);
    expect(requestLine(t, 'req-busy')?.res).toEqual({ statusCode: 503, error: 'service_unavailable' });
  });
});
