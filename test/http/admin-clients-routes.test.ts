import request from 'supertest';
import { SqlClientStore } from '../../src/accounts/sql-client-store';
import { CSRF, login, type Credentials } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { basic, clientAdmin, tokenRequest } from '../oauth/support';

const ADMIN = ['read:profile', 'admin:clients'];
const ORDERS = 'https://orders.example.com';
const auth = (creds: Credentials) => ({ Authorization: `Bearer ${creds.bearerPass}` });

interface ClientBody {
  id: string;
  audience: string;
  scopes: string[];
  disabled: boolean;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** /admin/clients through the real app: clients and accounts in the run's PostgreSQL, sessions in its Redis. */
describe('the admin API for service clients (/admin/clients)', () => {
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
  const post = (path: string, body?: object, creds = adminCreds) => {
    const req = request(t.app).post(path).set(CSRF).set(auth(creds));
    return body === undefined ? req : req.send(body);
  };
  const patch = (path: string, body: object, creds = adminCreds) => request(t.app).patch(path).set(CSRF).set(auth(creds)).send(body);
  const del = (path: string, creds = adminCreds) => request(t.app).delete(path).set(CSRF).set(auth(creds));
  const register = async (id = 'orders', audience = ORDERS, scopes = ['read:orders', 'write:orders']) => {
    const res = await post('/admin/clients', { id, audience, scopes });
    expect(res.status).toBe(201);
    return res.body as { client: ClientBody; clientSecret: string };
  };
  const clientCredentials = (id: string, secret: string) => tokenRequest(t, { grant_type: 'client_credentials' }, basic(id, secret));

  describe('registering', () => {
    it('answers 201 with the secret once, stores only its hash, and the client gets tokens at /jts/token at once', async () => {
      const res = await post('/admin/clients', { id: 'orders', audience: ORDERS, scopes: ['read:orders', 'read:orders', 'write:orders'] });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.location).toBe('/admin/clients/orders');
      const { client, clientSecret } = res.body as { client: ClientBody; clientSecret: string };
      expect(client).toEqual({ id: 'orders', audience: ORDERS, scopes: ['read:orders', 'write:orders'], disabled: false, previousSecretExpiresAt: null, createdAt: expect.any(String) as string, updatedAt: expect.any(String) as string });
      expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const stored = await new SqlClientStore(t.database!.db).get('orders');
      expect(stored?.secretHash).not.toBe(clientSecret);
      expect(JSON.stringify(stored)).not.toContain(clientSecret);
      // No refresh by the test: the change made through this instance reloaded its directory.
      const token = await clientCredentials('orders', clientSecret);
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ token_type: 'Bearer', scope: 'read:orders write:orders' });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'client.create', actor: admin.id, target: 'orders', outcome: 'ok' });
    });

    it('never shows a secret or a hash when listing or reading', async () => {
      const { clientSecret } = await register();
      const stored = await new SqlClientStore(t.database!.db).get('orders');
      for (const res of [await get('/admin/clients'), await get('/admin/clients/orders')]) {
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.text).not.toContain(clientSecret);
        expect(res.text).not.toContain(stored!.secretHash);
        const clients = res.body as { clients?: object[]; client?: object };
        for (const client of clients.clients ?? [clients.client ?? {}]) {
          expect(Object.keys(client).sort()).toEqual(['audience', 'createdAt', 'disabled', 'id', 'previousSecretExpiresAt', 'scopes', 'updatedAt']);
        }
      }
      expect((await get('/admin/clients')).body).toEqual({ clients: [expect.objectContaining({ id: 'orders', audience: ORDERS })] });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'clients.list', actor: admin.id, outcome: 'ok' });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'client.read', actor: admin.id, target: 'orders', outcome: 'ok' });
    });

    it('answers 409 for a taken id or audience, naming which', async () => {
      await register();
      const id = await post('/admin/clients', { id: 'orders', audience: 'https://other.example.com' });
      expect(id.status).toBe(409);
      expect(id.body).toMatchObject({ error: 'client_id_taken', message: 'a client with id orders already exists' });
      const audience = await post('/admin/clients', { id: 'shop', audience: ORDERS });
      expect(audience.status).toBe(409);
      expect(audience.body).toMatchObject({ error: 'audience_taken', message: `another client already has the audience ${ORDERS}` });
    });

    it.each([
      [{ audience: ORDERS }, '`id` is required'],
      [{ id: 7, audience: ORDERS }, '`id` must be a string'],
      [{ id: 'Orders!', audience: ORDERS }, /^`id` must be 1 to 64 lower-case letters/],
      [{ id: '', audience: ORDERS }, /^`id` must be 1 to 64/],
      [{ id: 'x'.repeat(65), audience: ORDERS }, /^`id` must be 1 to 64/],
      [{ id: 'orders' }, '`audience` is required'],
      [{ id: 'orders', audience: ['https://a.example.com'] }, '`audience` must be a string'],
      [{ id: 'orders', audience: 'orders' }, /^`audience` must be an absolute http\(s\) URL/],
      [{ id: 'orders', audience: 'https://u:p@orders.example.com' }, /without credentials or fragment/],
      [{ id: 'orders', audience: 'https://orders.example.com/#x' }, /without credentials or fragment/],
      [{ id: 'orders', audience: ORDERS, scopes: 'read:orders' }, '`scopes` must be an array of strings'],
      [{ id: 'orders', audience: ORDERS, scopes: [1] }, '`scopes.0` must be a string'],
      [{ id: 'orders', audience: ORDERS, scopes: ['read orders'] }, /^`scopes\.0` must be 1 to 128 printable ASCII/],
      [{ id: 'orders', audience: ORDERS, scopes: ['a"b'] }, /^`scopes\.0` must be/],
      [{ id: 'orders', audience: ORDERS, secret: 'mine' }, 'Unknown member: `secret`.'],
      [[], 'The body must be a JSON object.'],
    ])('refuses %j with 400 invalid_request: %s', async (body, message) => {
      const res = await post('/admin/clients', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: typeof message === 'string' ? message : expect.stringMatching(message) });
      expect((await get('/admin/clients')).body).toEqual({ clients: [] });
    });

    it('refuses this server’s own audience (JTS_AUDIENCE): its tokens would pass as users’ BearerPasses here', async () => {
      const res = await post('/admin/clients', { id: 'api', audience: t.config.jts.audience });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^`audience` must not be this server's own audience/) as string });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'client.create', actor: admin.id, target: 'api', outcome: 'invalid' });
    });

    it('refuses a body that is not JSON with 415', async () => {
      const res = await request(t.app).post('/admin/clients').set(CSRF).set(auth(adminCreds)).type('form').send({ id: 'orders', audience: ORDERS });
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ error: 'unsupported_media_type' });
    });
  });

  describe('disabling, enabling, changing scopes, deleting', () => {
    it('disabling refuses /jts/token at once on this instance; enabling lets it in again', async () => {
      const { clientSecret } = await register();
      const disabled = await patch('/admin/clients/orders', { disabled: true });
      expect(disabled.status).toBe(200);
      expect(disabled.body).toMatchObject({ client: { id: 'orders', disabled: true } });
      const refused = await clientCredentials('orders', clientSecret);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'invalid_client', message: 'The client is disabled.' });
      expect((await patch('/admin/clients/orders', { disabled: false })).status).toBe(200);
      expect((await clientCredentials('orders', clientSecret)).status).toBe(200);
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'client.disable', actor: admin.id, target: 'orders', outcome: 'ok', fields: ['disabled'] });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'client.enable', actor: admin.id, target: 'orders', outcome: 'ok', fields: ['disabled'] });
    });

    it('a change made elsewhere (the CLI, another instance) is seen at the next directory refresh', async () => {
      const { clientSecret } = await register();
      await clientAdmin(t).setDisabled('cli', 'orders', true, t.clock.now());
      expect((await clientCredentials('orders', clientSecret)).status).toBe(200);
      await t.clientDirectory.refresh();
      expect((await clientCredentials('orders', clientSecret)).status).toBe(401);
    });

    it('changes the scopes a client may ask for', async () => {
      const { clientSecret } = await register();
      const res = await patch('/admin/clients/orders', { scopes: ['read:orders'] });
      expect(res.body).toMatchObject({ client: { scopes: ['read:orders'] } });
      const token = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'write:orders' }, basic('orders', clientSecret));
      expect(token.status).toBe(400);
      expect(token.body).toMatchObject({ error: 'invalid_scope' });
    });

    it.each([
      [{}, 'The body must set at least one of `disabled`, `scopes`.'],
      [{ disabled: 'yes' }, '`disabled` must be true or false'],
      [{ disabled: true, audience: 'https://x.example.com' }, 'Unknown member: `audience`.'],
      [{ scopes: ['bad scope'] }, /^`scopes\.0` must be/],
    ])('refuses the change %j with 400 invalid_request', async (body, message) => {
      await register();
      const res = await patch('/admin/clients/orders', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: typeof message === 'string' ? message : expect.stringMatching(message) });
      expect((await get('/admin/clients/orders')).body).toMatchObject({ client: { disabled: false, scopes: ['read:orders', 'write:orders'] } });
    });

    it('deletes a client: its secret stops working at once, a second delete is 404, and the id may be registered again', async () => {
      const { clientSecret } = await register();
      const res = await del('/admin/clients/orders');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true });
      expect((await clientCredentials('orders', clientSecret)).status).toBe(401);
      expect((await del('/admin/clients/orders')).status).toBe(404);
      expect((await get('/admin/clients/orders')).body).toMatchObject({ error: 'not_found', message: 'no client with id orders' });
      const again = await register();
      expect(again.clientSecret).not.toBe(clientSecret);
    });

    it('answers 404 not_found for an unknown id on every route, and 400 for a malformed one', async () => {
      for (const res of [
        await get('/admin/clients/nobody'),
        await patch('/admin/clients/nobody', { disabled: true }),
        await del('/admin/clients/nobody'),
        await post('/admin/clients/nobody/rotate-secret'),
        await post('/admin/clients/nobody/finish-rotation'),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ error: 'not_found', message: 'no client with id nobody' });
      }
      const malformed = await get('/admin/clients/NO%20BODY');
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^`id` must be/) as string });
    });
  });

  describe('rotating a secret', () => {
    it('keeps both secrets valid during the grace period, shows the new one once, and finishing drops the old one', async () => {
      const { clientSecret: first } = await register();
      const rotated = await post('/admin/clients/orders/rotate-secret', { graceSeconds: 3600 });
      expect(rotated.status).toBe(201);
      expect(rotated.headers['cache-control']).toBe('no-store');
      const { client, clientSecret: second } = rotated.body as { client: ClientBody; clientSecret: string };
      expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(second).not.toBe(first);
      expect(client.previousSecretExpiresAt).toBe(new Date(t.clock.now() + 3600_000).toISOString());
      expect((await clientCredentials('orders', first)).status).toBe(200);
      expect((await clientCredentials('orders', second)).status).toBe(200);
      const read = await get('/admin/clients/orders');
      expect(read.text).not.toContain(second);
      expect(read.body).toMatchObject({ client: { previousSecretExpiresAt: client.previousSecretExpiresAt } });

      const again = await post('/admin/clients/orders/rotate-secret');
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: 'rotation_in_progress', message: expect.stringMatching(/^a rotation of orders is open until \d{4}-.*Z; finish it first \(npm run client -- rotate-secret --finish, or POST \/admin\/clients\/orders\/finish-rotation\)$/) as string });

      const finished = await post('/admin/clients/orders/finish-rotation');
      expect(finished.status).toBe(200);
      expect(finished.body).toMatchObject({ client: { previousSecretExpiresAt: null } });
      expect(finished.text).not.toContain(second);
      expect((await clientCredentials('orders', first)).status).toBe(401);
      expect((await clientCredentials('orders', second)).status).toBe(200);
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'client.rotate', actor: admin.id, target: 'orders', outcome: 'rotation_open' });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'client.rotation_finish', actor: admin.id, target: 'orders', outcome: 'ok' });
    });

    it('defaults to a day of grace without a body, and 0 ends the old secret at once', async () => {
      const { clientSecret: first } = await register();
      const rotated = await post('/admin/clients/orders/rotate-secret');
      expect(rotated.status).toBe(201);
      expect((rotated.body as { client: ClientBody }).client.previousSecretExpiresAt).toBe(new Date(t.clock.now() + 86_400_000).toISOString());
      await post('/admin/clients/orders/finish-rotation');
      const { clientSecret: second } = (await post('/admin/clients/orders/rotate-secret', { graceSeconds: 0 })).body as { clientSecret: string };
      expect((await clientCredentials('orders', first)).status).toBe(401);
      expect((await clientCredentials('orders', second)).status).toBe(200);
      expect((await get('/admin/clients/orders')).body).toMatchObject({ client: { previousSecretExpiresAt: null } });
    });

    it.each([
      [{ graceSeconds: -1 }, /^`graceSeconds` must be a whole number of seconds from 0 to 2592000$/],
      [{ graceSeconds: 2_592_001 }, /^`graceSeconds` must be a whole number/],
      [{ graceSeconds: 1.5 }, /^`graceSeconds` must be a whole number/],
      [{ graceSeconds: '1h' }, /^`graceSeconds` must be a number$/],
      [{ grace: 60 }, /^Unknown member: `grace`\.$/],
    ])('refuses %j with 400 invalid_request and keeps the current secret', async (body, message) => {
      const { clientSecret } = await register();
      const res = await post('/admin/clients/orders/rotate-secret', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(message) as string });
      expect((await clientCredentials('orders', clientSecret)).status).toBe(200);
      expect((await get('/admin/clients/orders')).body).toMatchObject({ client: { previousSecretExpiresAt: null } });
    });
  });

  describe('who may call it', () => {
    it('refuses a caller without admin:clients (an admin:users holder included) with JTS-403-02, and no BearerPass with JTS-401-03', async () => {
      await register();
      const usersAdmin = await createUser(t, { permissions: ['read:profile', 'admin:users', 'admin:access'] });
      const creds = await login(t.app, usersAdmin.email, usersAdmin.password);
      for (const res of [
        await get('/admin/clients', creds),
        await get('/admin/clients/orders', creds),
        await post('/admin/clients', { id: 'x', audience: 'https://x.example.com' }, creds),
        await patch('/admin/clients/orders', { disabled: true }, creds),
        await post('/admin/clients/orders/rotate-secret', undefined, creds),
        await post('/admin/clients/orders/finish-rotation', undefined, creds),
        await del('/admin/clients/orders', creds),
      ]) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: 'permission_denied', error_code: 'JTS-403-02' });
        expect(res.text).not.toMatch(/[A-Za-z0-9_-]{43}/);
      }
      const anonymous = await request(t.app).get('/admin/clients');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ error_code: 'JTS-401-03' });
      expect((await get('/admin/clients/orders')).body).toMatchObject({ client: { disabled: false } });
    });

    it('refuses an administrator whose account lost admin:clients, though their BearerPass still names it', async () => {
      await t.users.update(admin.id, { permissions: ['read:profile'] }, t.clock.now());
      const res = await get('/admin/clients');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error_code: 'JTS-403-02', message: 'Missing permission: admin:clients.' });
      expect(t.audits).toContainEqual({ event: 'admin.action', action: 'clients.list', actor: admin.id, outcome: 'forbidden' });
    });

    it('needs X-JTS-Request and an allowed Origin on every state-changing call', async () => {
      await register();
      for (const res of [
        await request(t.app).post('/admin/clients').set(auth(adminCreds)).send({ id: 'x', audience: 'https://x.example.com' }),
        await request(t.app).patch('/admin/clients/orders').set(auth(adminCreds)).send({ disabled: true }),
        await request(t.app).delete('/admin/clients/orders').set(auth(adminCreds)),
        await request(t.app).post('/admin/clients/orders/rotate-secret').set(auth(adminCreds)),
        await request(t.app).post('/admin/clients/orders/finish-rotation').set(auth(adminCreds)),
      ]) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: 'csrf_missing' });
      }
      const foreign = await post('/admin/clients', { id: 'x', audience: 'https://x.example.com' }).set('Origin', 'https://evil.example');
      expect(foreign.body).toMatchObject({ error: 'csrf_origin' });
      expect((await get('/admin/clients')).body).toEqual({ clients: [expect.objectContaining({ id: 'orders', disabled: false, previousSecretExpiresAt: null })] });
    });
  });
});
