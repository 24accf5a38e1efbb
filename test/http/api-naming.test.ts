import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login } from '../support/http';

/** Issue 14 item 13: one convention per kind of name (README, "API conventions"). */
describe('API naming convention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis' });
  });
  afterAll(async () => {
    await t.close();
  });

  const camelCase = /^[a-z][a-zA-Z0-9]*$/;

  it('lists sessions with camelCase members and ISO instants named …At', async () => {
    const user = await createUser(t);
    const { bearerPass } = await login(t.app, user.email, user.password);
    const res = await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${bearerPass}`).expect(200);
    const [session] = (res.body as { sessions: Record<string, unknown>[] }).sessions;
    expect(Object.keys(session!).sort()).toEqual(['aid', 'createdAt', 'current', 'device', 'ipPrefix', 'lastActiveAt']);
    for (const key of Object.keys(session!)) expect(key).toMatch(camelCase);
    for (const key of ['createdAt', 'lastActiveAt']) expect(new Date(session![key] as string).toISOString()).toBe(session![key]);
  });

  it('counts ended sessions as revokedSessions on every endpoint that ends several', async () => {
    const user = await createUser(t);
    await login(t.app, user.email, user.password);
    const current = await login(t.app, user.email, user.password);
    const others = await request(t.app).post('/jts/sessions/revoke-others').set(CSRF).set('Authorization', `Bearer ${current.bearerPass}`).expect(200);
    expect(others.body).toEqual({ success: true, revokedSessions: 1 });
    await login(t.app, user.email, user.password);
    const changed = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${current.bearerPass}`).send({ currentPassword: user.password, newPassword: 'another password' }).expect(200);
    expect(changed.body).toEqual({ success: true, revokedSessions: 1 });
  });

  it.each(['/api/public', '/api/health'])('gives %s a timestamp in Unix seconds, like the error envelope', async (path) => {
    const res = await request(t.app).get(path).expect(200);
    expect(res.body.timestamp).toBe(Math.floor(t.clock.now() / 1000));
    const error = await request(t.app).get('/api/nowhere');
    expect(Number.isInteger(error.body.timestamp)).toBe(true);
  });

  it('gives /api/admin a timestamp in Unix seconds', async () => {
    const user = await createUser(t, { permissions: ['admin:access'] });
    const { bearerPass } = await login(t.app, user.email, user.password);
    const res = await request(t.app).get('/api/admin').set('Authorization', `Bearer ${bearerPass}`).expect(200);
    expect(res.body.timestamp).toBe(Math.floor(t.clock.now() / 1000));
  });

  describe('validation messages tell missing, wrong type and empty apart', () => {
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['login', '/jts/login', { password: 'x' }, '`email` is required'],
      ['login', '/jts/login', { email: 'a@example.com' }, '`password` is required'],
      ['login', '/jts/login', { email: 42, password: 'x' }, '`email` must be a string'],
      ['login', '/jts/login', { email: 'a@example.com', password: ['x'] }, '`password` must be a string'],
      ['login', '/jts/login', { email: 'a@example.com', password: null }, '`password` must be a string'],
      ['login', '/jts/login', { email: '', password: 'x' }, '`email` must not be empty'],
      ['login', '/jts/login', { email: '   ', password: 'x' }, '`email` must not be empty'],
      ['login', '/jts/login', { email: 'a@example.com', password: '' }, '`password` must not be empty'],
      ['login', '/jts/login', { email: 'not-an-email', password: 'x' }, '`email` must be an email address'],
      ['register', '/jts/register', { email: 'r@example.com', password: 'long enough password' }, '`name` is required'],
      ['register', '/jts/register', { email: 'r@example.com', password: 'long enough password', name: '  ' }, '`name` must not be empty'],
      ['register', '/jts/register', { email: 'r@example.com', password: 'long enough password', name: 7 }, '`name` must be a string'],
    ];
    it.each(cases)('%s %j', async (_name, path, body, message) => {
      const res = await request(t.app).post(path).set(CSRF).send(body).expect(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message });
    });

    it.each([
      [{ newPassword: 'another password' }, '`currentPassword` is required'],
      [{ currentPassword: 'x', newPassword: '' }, '`newPassword` must not be empty'],
      [{ currentPassword: 'x', newPassword: false }, '`newPassword` must be a string'],
    ])('password change %j', async (body, message) => {
      const user = await createUser(t);
      const { bearerPass } = await login(t.app, user.email, user.password);
      const res = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${bearerPass}`).send(body).expect(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message });
    });
  });
});
