import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import type { AuditEvent } from '../../src/auth/audit';
import { auditLog } from '../../src/observability/audit-log';
import { createLogger } from '../../src/observability/logger';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, renew, stateProofFrom } from '../support/http';

describe('request logs', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', env: { TRUST_PROXY: 'loopback' } });
  });
  afterEach(async () => {
    await t.close();
  });

  it('contain no password, cookie, StateProof or BearerPass from a login, a renew and a logout', async () => {
    const user = await createUser(t, { password: 'hunter2-very-secret' });
    const res = await request(t.app)
      .post('/jts/login')
      .set(CSRF)
      .set('X-JTS-Device-ID', 'device-secret-id')
      .set('Cookie', 'other=cookie-secret-value')
      .send({ email: user.email, password: user.password });
    expect(res.status).toBe(200);
    const { bearerPass, stateProof } = res.body as { bearerPass: string; stateProof: string };
    const renewed = await request(t.app).post('/jts/renew').set(CSRF).set('X-JTS-StateProof', stateProof).set('X-JTS-Device-ID', 'device-secret-id');
    expect(renewed.status).toBe(200);
    const second = (renewed.body as { stateProof: string }).stateProof;
    await request(t.app).get('/api/profile?token=query-secret').set('Authorization', `Bearer ${bearerPass}`);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${second}`);

    const log = t.logLines.join('');
    expect(t.logLines.length).toBeGreaterThan(4);
    for (const secret of [user.password, bearerPass, stateProof, second, 'cookie-secret-value', 'device-secret-id', 'query-secret']) {
      expect(log).not.toContain(secret);
    }
  });

  it('carry the request id, method, path, status, duration and the client address behind the proxy', async () => {
    await request(t.app).get('/healthz').set('X-Request-Id', 'req-42').set('X-Forwarded-For', '198.51.100.7');
    const line = t.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => (l.req as { id?: string } | undefined)?.id === 'req-42');
    expect(line).toMatchObject({ req: { id: 'req-42', method: 'GET', url: '/healthz', ip: '198.51.100.7' }, res: { statusCode: 200 }, responseTime: expect.any(Number) });
  });

  it('log 5xx at error level, other answers at info', async () => {
    await request(t.app).get('/nope').set('X-Request-Id', 'req-404');
    const line = t.logLines.map((l) => JSON.parse(l) as { level: number; req?: { id: string } }).find((l) => l.req?.id === 'req-404');
    expect(line?.level).toBe(30);
  });
});

describe('createLogger', () => {
  it('redacts credential fields wherever a caller logs them', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      pretty: false,
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    });
    logger.info({ password: 'p1', body: { password: 'p2', bearerPass: 'b1', stateProof: 's1' }, req: { headers: { authorization: 'Bearer b2', cookie: 'c1', 'x-jts-stateproof': 's2', 'x-metrics-token': 'm1' } } }, 'x');
    for (const secret of ['p1', 'p2', 'b1', 's1', 'b2', 'c1', 's2', 'm1']) expect(lines.join('')).not.toContain(`"${secret}"`);
  });
});

describe('audit log', () => {
  function capture() {
    const lines: { level: number; audit: boolean; event: string; msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
          cb();
        },
      }),
    );
    return { lines, sink: auditLog(logger) };
  }

  it('writes one line per event with a stable event field and the event as message', () => {
    const { lines, sink } = capture();
    sink({ event: 'login.succeeded', prn: 'p', aid: 'a', evicted: [] });
    expect(lines).toEqual([expect.objectContaining({ level: 30, audit: true, event: 'login.succeeded', msg: 'login.succeeded', prn: 'p', aid: 'a' })]);
  });

  it.each<AuditEvent>([
    { event: 'replay.detected', prn: 'p', aid: 'a', presented: 1, revoked: ['a'] },
    { event: 'store.unavailable', operation: 'POST /jts/renew' },
    { event: 'rate_limited', limiter: 'login-ip' },
  ])('logs $event at warn', (event) => {
    const { lines, sink } = capture();
    sink(event);
    expect(lines[0]).toMatchObject({ level: 40, event: event.event });
  });
});

describe('audit events', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('tell the story of login → renew → grace → replay in order, with aid and prn', async () => {
    const user = await createUser(t);
    const first = await login(t.app, user.email, user.password);
    const second = await renew(t.app, first.stateProof);
    expect(second.status).toBe(200);
    await renew(t.app, first.stateProof);
    t.clock.advance(11_000);
    const replay = await renew(t.app, first.stateProof);
    expect(replay.body).toMatchObject({ error_code: 'JTS-401-05' });

    const aid = t.audits.find((e) => e.event === 'login.succeeded')!;
    expect(t.audits.map((e) => e.event)).toEqual(['login.succeeded', 'renew', 'renew.grace', 'replay.detected']);
    expect(t.audits[3]).toEqual({ event: 'replay.detected', prn: user.id, aid: (aid as { aid: string }).aid, presented: 1, revoked: [(aid as { aid: string }).aid] });
    expect(stateProofFrom(second)).toBeDefined();
  });

  it('cover failed login, register, logout, revocation and password change', async () => {
    const user = await createUser(t);
    await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: 'wrong password' });
    await request(t.app).post('/jts/register').set(CSRF).send({ email: `n${Date.now()}@example.com`, password: 'long enough pass', name: 'N' });
    const a = await login(t.app, user.email, user.password);
    await login(t.app, user.email, user.password);
    await login(t.app, user.email, user.password);
    const bAid = t.audits.filter((e) => e.event === 'login.succeeded')[1] as { aid: string };
    await request(t.app).delete(`/jts/sessions/${bAid.aid}`).set(CSRF).set('Authorization', `Bearer ${a.bearerPass}`);
    await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${a.bearerPass}`).send({ currentPassword: user.password, newPassword: 'a new long password' });
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${a.stateProof}`);

    // The registration's verification mail is issued in the background, at no fixed point.
    const audits = t.audits.filter((e) => !e.event.startsWith('challenge.'));
    const events = audits.map((e) => e.event);
    expect(events).toEqual([
      'login.failed',
      'register',
      'login.succeeded',
      'login.succeeded',
      'login.succeeded',
      'session.revoked',
      'password.changed',
      'session.revoked',
      'logout',
    ]);
    expect(audits[0]).toEqual({ event: 'login.failed', reason: 'wrong_password', prn: user.id });
    expect(audits[5]).toMatchObject({ reason: 'user', aids: [bAid.aid] });
    expect(audits[7]).toMatchObject({ reason: 'password_change', aids: [expect.any(String)] });
  });

  it('report store.unavailable when a request meets a store that cannot answer', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    t.redis!.disconnect();
    const res = await renew(t.app, creds.stateProof);
    expect(res.status).toBe(503);
    expect(t.audits).toContainEqual({ event: 'store.unavailable', operation: 'POST /jts/renew' });
  });

  it('never carry a credential', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    await renew(t.app, creds.stateProof);
    const serialised = JSON.stringify(t.audits);
    for (const secret of [user.password, creds.bearerPass, creds.stateProof, user.email]) expect(serialised).not.toContain(secret);
  });
});
