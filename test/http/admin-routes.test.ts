import request from 'supertest';
import { CSRF, login, profile, renew, type Credentials } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const ADMIN = ['read:profile', 'admin:users'];
const auth = (creds: Credentials) => ({ Authorization: `Bearer ${creds.bearerPass}` });

/** The admin API through the real app: accounts in the run's PostgreSQL, sessions in the run's Redis. */
describe('the admin API (/admin/users)', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof createUser>>;
  let adminCreds: Credentials;

  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    admin = await createUser(t, { email: 'root@example.com', permissions: ADMIN });
    adminCreds = await login(t.app, admin.email, admin.password);
  });
  afterEach(async () => {
    await t.close();
  });

  const get = (path: string, creds = adminCreds) => request(t.app).get(path).set(auth(creds));
  const post = (path: string, body: object, creds = adminCreds) => request(t.app).post(path).set(CSRF).set(auth(creds)).send(body);
  const patch = (path: string, body: object, creds = adminCreds) => request(t.app).patch(path).set(CSRF).set(auth(creds)).send(body);
  const del = (path: string, creds = adminCreds) => request(t.app).delete(path).set(CSRF).set(auth(creds));

  describe('who may call it', () => {
    it('refuses a caller without admin:users with JTS-403-02, and one without a BearerPass with JTS-401-03', async () => {
      const plain = await createUser(t, { permissions: ['read:profile', 'admin:access'] });
      const creds = await login(t.app, plain.email, plain.password);
      for (const res of [await get('/admin/users', creds), await get(`/admin/users/${admin.id}`, creds), await del(`/admin/users/${admin.id}`, creds)]) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: 'permission_denied', error_code: 'JTS-403-02' });
      }
      const anonymous = await request(t.app).get('/admin/users');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ error_code: 'JTS-401-03' });
      await expect(t.users.get(admin.id)).resolves.toBeDefined();
    });

    it('refuses a demoted administrator at once, though their BearerPass still names admin:users', async () => {
      const second = await createUser(t, { permissions: ADMIN });
      const secondCreds = await login(t.app, second.email, second.password);
      expect((await patch(`/admin/users/${second.id}`, { permissions: ['read:profile'] })).status).toBe(200);
      const res = await get('/admin/users', secondCreds);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error_code: 'JTS-403-02' });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'users.search', actor: second.id, outcome: 'forbidden' });
    });

    it('needs X-JTS-Request on every state-changing call, as /jts does', async () => {
      const target = await createUser(t);
      for (const res of [
        await request(t.app).post('/admin/users').set(auth(adminCreds)).send({ email: 'x@example.com', password: 'correct horse' }),
        await request(t.app).patch(`/admin/users/${target.id}`).set(auth(adminCreds)).send({ name: 'X' }),
        await request(t.app).delete(`/admin/users/${target.id}`).set(auth(adminCreds)),
        await request(t.app).delete(`/admin/users/${target.id}/sessions`).set(auth(adminCreds)),
      ]) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: 'csrf_missing' });
      }
      const foreign = await post('/admin/users', { email: 'x@example.com', password: 'correct horse' }).set('Origin', 'https://evil.example');
      expect(foreign.body).toMatchObject({ error: 'csrf_origin' });
      await expect(t.users.get(target.id)).resolves.toMatchObject({ name: 'Test User' });
    });
  });

  describe('GET /admin/users', () => {
    it('pages through equal-prefix emails by (email, id) with an opaque cursor, case-insensitively', async () => {
      for (let i = 0; i < 5; i++) await createUser(t, { email: `team${i}@example.com` });
      await createUser(t, { email: 'other@example.com' });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(`/admin/users?query=TEAM&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        const body = res.body as { users: { email: string; passwordHash?: string }[]; nextCursor: string | null };
        expect(body.users.length).toBeLessThanOrEqual(2);
        for (const user of body.users) expect(user).not.toHaveProperty('passwordHash');
        seen.push(...body.users.map((u) => u.email));
        cursor = body.nextCursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(['team0@example.com', 'team1@example.com', 'team2@example.com', 'team3@example.com', 'team4@example.com']);
    });

    it('matches LIKE wildcards literally and defaults to 20 per page', async () => {
      await createUser(t, { email: 'a_b@example.com' });
      await createUser(t, { email: 'axb@example.com' });
      await createUser(t, { email: 'p%q@example.com' });
      expect(((await get('/admin/users?query=a_')).body as { users: { email: string }[] }).users.map((u) => u.email)).toEqual(['a_b@example.com']);
      expect(((await get('/admin/users?query=%25')).body as { users: unknown[] }).users).toEqual([]);
      for (let i = 0; i < 20; i++) await createUser(t, { email: `bulk${String(i).padStart(2, '0')}@example.com` });
      const first = (await get('/admin/users')).body as { users: unknown[]; nextCursor: string | null };
      expect(first.users).toHaveLength(20);
      expect(first.nextCursor).toEqual(expect.any(String));
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'users.search', actor: admin.id, outcome: 'ok' });
    });

    it.each([
      ['limit=0', /`limit` must be an integer from 1 to 100/],
      ['limit=101', /`limit` must be an integer from 1 to 100/],
      ['limit=2.5', /`limit`/],
      ['limit=x', /`limit`/],
      ['cursor=not-a-cursor', /`cursor` must be a `nextCursor`/],
      ['cursor=%%%', /malformed|`cursor`/],
      ['query=a&query=b', /`query` must be given at most once/],
      [`query=${'a'.repeat(255)}`, /`query` must be at most 254/],
      ['query=%ZZ', /The request URL is malformed \(bad percent-encoding\)/],
      ['query=50%', /The request URL is malformed \(bad percent-encoding\)/],
    ])('answers 400 invalid_request naming the cause for %s', async (query, message) => {
      const res = await get(`/admin/users?${query}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(message) as string });
    });

    it('refuses a cursor returned for another query', async () => {
      await createUser(t, { email: 'zz1@example.com' });
      await createUser(t, { email: 'zz2@example.com' });
      const { nextCursor } = (await get('/admin/users?query=zz&limit=1')).body as { nextCursor: string };
      const res = await get(`/admin/users?query=root&cursor=${nextCursor}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/another `query`/) as string });
    });
  });

  describe('one user', () => {
    it('reads a user by id, and answers 404 not_found for an unknown one', async () => {
      const user = await createUser(t, { email: 'read@example.com', name: 'Reader' });
      const res = await get(`/admin/users/${user.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        user: { id: user.id, email: 'read@example.com', name: 'Reader', permissions: ['read:profile'], disabled: false, mfaRequired: false, createdAt: expect.any(String), updatedAt: expect.any(String) },
      });
      for (const missing of [await get('/admin/users/nobody'), await patch('/admin/users/nobody', { name: 'X' }), await del('/admin/users/nobody'), await get('/admin/users/nobody/sessions'), await del('/admin/users/nobody/sessions')]) {
        expect(missing.status).toBe(404);
        expect(missing.body).toMatchObject({ error: 'not_found' });
      }
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'user.read', actor: admin.id, target: user.id, outcome: 'ok' });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'user.delete', actor: admin.id, target: 'nobody', outcome: 'not_found' });
    });

    it('creates a user who can sign in; a duplicate email in any case or padding is 409 email_taken', async () => {
      const res = await post('/admin/users', { email: ' New@Example.com ', password: 'correct horse', permissions: ['read:profile', 'read:profile'] });
      expect(res.status).toBe(201);
      const { user } = res.body as { user: { id: string } };
      expect(res.body).toMatchObject({ user: { email: 'new@example.com', name: 'New', permissions: ['read:profile'], disabled: false } });
      expect(res.headers.location).toBe(`/admin/users/${user.id}`);
      await login(t.app, 'new@example.com', 'correct horse');
      const again = await post('/admin/users', { email: 'NEW@example.com  ', password: 'correct horse' });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: 'email_taken' });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'user.create', actor: admin.id, target: user.id, outcome: 'ok' });
    });

    it.each([
      [{ password: 'correct horse' }, /^`email` /],
      [{ email: 'a@example.com', password: 'short' }, /password|characters/i],
      [{ email: 'a@example.com', password: 'correct horse', permissions: ['has space'] }, /^`permissions\.0` /],
      [{ email: 'a@example.com', password: 'correct horse', admin: true }, /Unknown member: `admin`/],
    ])('refuses a bad create body with 400 invalid_request naming the cause (%j)', async (body, message) => {
      const res = await post('/admin/users', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(message) as string });
    });

    it('updates name and permissions (shown at the next renewal) and refuses an empty or unknown patch', async () => {
      const user = await createUser(t);
      const creds = await login(t.app, user.email, user.password);
      const res = await patch(`/admin/users/${user.id}`, { name: 'Renamed', permissions: ['read:profile', 'write:notes'] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ user: { name: 'Renamed', permissions: ['read:profile', 'write:notes'] }, revokedSessions: 0 });
      const renewed = await renew(t.app, creds.stateProof);
      const claims = JSON.parse(Buffer.from((renewed.body as { bearerPass: string }).bearerPass.split('.')[1]!, 'base64url').toString()) as { perm: string[] };
      expect(claims.perm).toEqual(['read:profile', 'write:notes']);
      expect((await patch(`/admin/users/${user.id}`, {})).body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/at least one of/) as string });
      expect((await patch(`/admin/users/${user.id}`, { password: 'new password' })).body).toMatchObject({ message: 'Unknown member: `password`.' });
      expect((await patch(`/admin/users/${user.id}`, { disabled: 'yes' })).body).toMatchObject({ message: expect.stringMatching(/^`disabled` must be true or false/) as string });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'user.update', actor: admin.id, target: user.id, outcome: 'ok', fields: ['name', 'permissions'] });
    });

    it('disables a user: their sessions end and their BearerPass is refused at once; enabling lets them sign in again', async () => {
      const user = await createUser(t);
      const creds = await login(t.app, user.email, user.password);
      const res = await patch(`/admin/users/${user.id}`, { disabled: true });
      expect(res.body).toMatchObject({ user: { disabled: true }, revokedSessions: 1 });
      expect((await profile(t.app, creds.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-04' });
      expect((await renew(t.app, creds.stateProof)).body).toMatchObject({ error_code: 'JTS-401-04' });
      await expect(login(t.app, user.email, user.password)).rejects.toThrow(/401/);
      await patch(`/admin/users/${user.id}`, { disabled: false }).expect(200);
      await login(t.app, user.email, user.password);
    });

    it('deletes a user: the account, every session and the mirror go; their BearerPass is refused at once and renew is JTS-401-04', async () => {
      const user = await createUser(t);
      const one = await login(t.app, user.email, user.password);
      const two = await login(t.app, user.email, user.password);
      expect((await profile(t.app, one.bearerPass)).status).toBe(200);
      const res = await del(`/admin/users/${user.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, revokedSessions: 2 });
      const refused = await request(t.app).get('/api/admin').set(auth(one));
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error_code: 'JTS-401-04' });
      expect((await renew(t.app, two.stateProof)).body).toMatchObject({ error_code: 'JTS-401-04' });
      await expect(t.users.get(user.id)).resolves.toBeUndefined();
      expect(await t.redis!.exists(`${t.config.redis.keyPrefix}{u:${user.id}}:user`)).toBe(0);
      expect((await get(`/admin/users/${user.id}`)).status).toBe(404);
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'user.delete', actor: admin.id, target: user.id, outcome: 'ok' });
    });
  });

  describe('a user’s sessions', () => {
    it('lists them in the shape of GET /jts/sessions and ends them all', async () => {
      const user = await createUser(t);
      const creds = await login(t.app, user.email, user.password, { 'User-Agent': 'curl/8.5.0' });
      const own = await request(t.app).get('/jts/sessions').set(auth(creds));
      const listed = await get(`/admin/users/${user.id}/sessions`);
      expect(listed.status).toBe(200);
      // One mapper for both: the same members; only `current` differs (the admin's session is not theirs).
      expect(listed.body).toEqual({ sessions: (own.body as { sessions: object[] }).sessions.map((s) => ({ ...s, current: false })) });
      const ended = await del(`/admin/users/${user.id}/sessions`);
      expect(ended.body).toEqual({ success: true, revokedSessions: 1 });
      expect((await profile(t.app, creds.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-04' });
      expect((await get(`/admin/users/${user.id}/sessions`)).body).toEqual({ sessions: [] });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'sessions.revoke', actor: admin.id, target: user.id, outcome: 'ok' });
      expect(t.audits).toContainEqual({ event: 'session.revoked', prn: user.id, aids: [expect.any(String)], reason: 'admin' });
    });
  });

  describe('the last administrator', () => {
    it('cannot be deleted, disabled or lose admin:users; another administrator can be', async () => {
      for (const res of [await del(`/admin/users/${admin.id}`), await patch(`/admin/users/${admin.id}`, { disabled: true }), await patch(`/admin/users/${admin.id}`, { permissions: ['read:profile'] })]) {
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ error: 'last_admin', action: 'none' });
      }
      await expect(t.users.get(admin.id)).resolves.toMatchObject({ disabled: false, permissions: ADMIN });
      // A change that keeps admin:users is fine.
      expect((await patch(`/admin/users/${admin.id}`, { name: 'Still root', permissions: [...ADMIN, 'x'] })).status).toBe(200);
      const second = await createUser(t, { permissions: ADMIN });
      expect((await patch(`/admin/users/${second.id}`, { disabled: true })).status).toBe(200);
      // A disabled holder does not count: the first is the last enabled one again.
      expect((await del(`/admin/users/${admin.id}`)).status).toBe(409);
      expect((await del(`/admin/users/${second.id}`)).status).toBe(200);
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'user.delete', actor: admin.id, target: admin.id, outcome: 'last_admin' });
    });

    it('lets exactly one of two concurrent demotions through (real PostgreSQL, row locks)', async () => {
      const second = await createUser(t, { permissions: ADMIN });
      const secondCreds = await login(t.app, second.email, second.password);
      for (let round = 0; round < 5; round++) {
        // Each administrator removes the other's admin:users at the same moment.
        const [a, b] = await Promise.all([patch(`/admin/users/${second.id}`, { permissions: ['read:profile'] }), patch(`/admin/users/${admin.id}`, { permissions: ['read:profile'] }, secondCreds)]);
        const statuses = [a.status, b.status].sort();
        // The loser is refused either by the guard (409) or, when the winner's commit came first, because it is no longer an administrator (403).
        expect(statuses[0]).toBe(200);
        expect([403, 409]).toContain(statuses[1]);
        const holders = (await t.users.list()).filter((u) => !u.disabled && u.permissions.includes('admin:users'));
        expect(holders).toHaveLength(1);
        // Restore both for the next round, through the store (the loser is no administrator any more).
        await t.users.update(admin.id, { permissions: ADMIN }, t.clock.now());
        await t.users.update(second.id, { permissions: ADMIN }, t.clock.now());
      }
    });

    it('refuses two concurrent deletions of the last two administrators by a third party to leave none', async () => {
      const second = await createUser(t, { permissions: ADMIN });
      // A CLI-like actor in the service (no admin check): both deletions race inside PostgreSQL.
      const results = await Promise.allSettled([t.administration.delete('cli', admin.id), t.administration.delete('cli', second.id)]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'last_admin' } });
      expect((await t.users.list()).filter((u) => u.permissions.includes('admin:users'))).toHaveLength(1);
    });
  });
});
