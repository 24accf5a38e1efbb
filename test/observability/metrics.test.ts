import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, renew, renewOk } from '../support/http';

/** The value of one sample line of the Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelPart = /\{([^}]*)\}/.exec(line)?.[1] ?? '';
    const have = labelPart.split(',');
    if (wanted.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(t.app).get('/metrics').set(headers);
  expect(res.status).toBe(200);
  return res.text;
}

describe('/metrics', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers in the Prometheus text format with the default process metrics', async () => {
    const res = await request(t.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(res.text).toContain(`# TYPE ${name}`);
    }
  });

  it('counts logins by result', async () => {
    const user = await createUser(t);
    const before = await scrape(t);
    expect(sample(before, 'jts_logins_total', { result: 'ok' })).toBe(0);
    await login(t.app, user.email, user.password);
    await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: 'wrong password' });
    await request(t.app).post('/jts/login').set(CSRF).send({ email: 'nobody@example.com', password: 'wrong password' });
    const after = await scrape(t);
    expect(sample(after, 'jts_logins_total', { result: 'ok' })).toBe(1);
    expect(sample(after, 'jts_logins_total', { result: 'failed' })).toBe(2);
  });

  it('counts renewals by outcome and the revocations a replay causes', async () => {
    const user = await createUser(t);
    const first = await login(t.app, user.email, user.password);
    await renewOk(t.app, first.stateProof);
    await renew(t.app, first.stateProof);
    await renew(t.app, 'garbage');
    t.clock.advance(11_000);
    await renew(t.app, first.stateProof);
    const text = await scrape(t);
    expect(sample(text, 'jts_renewals_total', { outcome: 'rotated' })).toBe(1);
    expect(sample(text, 'jts_renewals_total', { outcome: 'grace' })).toBe(1);
    expect(sample(text, 'jts_renewals_total', { outcome: 'invalid' })).toBe(1);
    expect(sample(text, 'jts_renewals_total', { outcome: 'replay' })).toBe(1);
    expect(sample(text, 'jts_session_revocations_total', { reason: 'replay' })).toBe(1);
  });

  it('counts logouts and user revocations', async () => {
    const user = await createUser(t);
    const a = await login(t.app, user.email, user.password);
    const b = await login(t.app, user.email, user.password);
    await request(t.app).post('/jts/sessions/revoke-others').set(CSRF).set('Authorization', `Bearer ${a.bearerPass}`);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${a.stateProof}`);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${b.stateProof}`);
    const text = await scrape(t);
    expect(sample(text, 'jts_session_revocations_total', { reason: 'others' })).toBe(1);
    // b was already ended: a second logout of a dead session is not a revocation.
    expect(sample(text, 'jts_session_revocations_total', { reason: 'logout' })).toBe(1);
  });

  it('counts store errors', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    t.redis!.disconnect();
    await renew(t.app, creds.stateProof);
    const text = await scrape(t);
    expect(sample(text, 'jts_store_errors_total', { operation: 'POST /jts/renew' })).toBe(1);
  });

  it('observes request durations by route template and status, never by raw URL', async () => {
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    await request(t.app).delete('/jts/sessions/some-unknown-aid').set(CSRF).set('Authorization', `Bearer ${creds.bearerPass}`);
    await request(t.app).delete('/jts/sessions/another-one').set(CSRF).set('Authorization', `Bearer ${creds.bearerPass}`);
    await request(t.app).get('/no/such/path/12345');
    const text = await scrape(t);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/jts/login', status: '200' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'DELETE', route: '/jts/sessions/:aid', status: '404' })).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(text).not.toContain('some-unknown-aid');
    expect(text).not.toContain('12345');
    expect(sample(text, 'http_request_duration_seconds_bucket', { route: '/jts/login', le: '+Inf' })).toBe(1);
  });

  it('keeps one registry per app: two apps never mix their counts', async () => {
    const other = await buildTestApp();
    const user = await createUser(t);
    await login(t.app, user.email, user.password);
    expect(sample(await scrape(other), 'jts_logins_total', { result: 'ok' })).toBe(0);
    expect(sample(await scrape(t), 'jts_logins_total', { result: 'ok' })).toBe(1);
    await other.close();
  });

  it('counts rate-limited requests by limiter', async () => {
    const limited = await buildTestApp({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_RENEW: '1/1m' } });
    await renew(limited.app, 'x');
    await renew(limited.app, 'x');
    expect(sample(await scrape(limited), 'jts_rate_limited_total', { limiter: 'renew-ip' })).toBe(1);
    await limited.close();
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  const token = 'a-metrics-token-of-enough-length';
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['no token', {}],
    ['a wrong bearer token', { Authorization: 'Bearer wrong-token' }],
    ['a wrong X-Metrics-Token', { 'X-Metrics-Token': `${token}x` }],
    ['a prefix of the token', { 'X-Metrics-Token': token.slice(0, 10) }],
  ])('refuses %s with a JSON 401', async (_name, headers) => {
    const res = await request(t.app).get('/metrics').set(headers);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_credentials', action: 'none' });
    expect(res.text).not.toContain('process_cpu');
  });

  it.each([
    ['Authorization: Bearer', { Authorization: `Bearer ${token}` }],
    ['X-Metrics-Token', { 'X-Metrics-Token': token }],
  ])('serves the metrics with the token in %s', async (_name, headers) => {
    await expect(scrape(t, headers)).resolves.toContain('jts_logins_total');
  });

  it('refuses a token shorter than 16 characters at start-up', async () => {
    await expect(buildTestApp({ env: { METRICS_TOKEN: 'short' } })).rejects.toThrow(/METRICS_TOKEN/);
  });
});
