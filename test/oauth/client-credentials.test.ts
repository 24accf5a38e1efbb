import request from 'supertest';
import { buildTestApp, type TestApp } from '../support/test-app';
import { addClient, basic, clientAdmin, tokenRequest, verifyAs } from './support';

const ORDERS = 'https://orders.example.com';

describe('POST /jts/token, grant_type=client_credentials (RFC 6749 §4.4)', () => {
  let t: TestApp;
  let secret: string;

  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    secret = await addClient(t, 'orders', ORDERS, ['read:orders', 'write:orders']);
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers RFC 6749 §5.1 with a BearerPass for the client’s audience, never cached', async () => {
    const res = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'read:orders' }, basic('orders', secret));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'read:orders' });
    const verified = await verifyAs(t, ORDERS, (res.body as { access_token: string }).access_token);
    expect(verified).toMatchObject({ ok: true, header: { typ: 'JTS-S/v1' }, payload: { prn: 'orders', atm: 'client_credentials', scope: 'read:orders', aud: ORDERS, iss: t.config.jts.issuer } });
    if (verified.ok) expect(verified.payload.exp - verified.payload.iat).toBe(3600);
  });

  it('grants every scope of the client when none is asked for', async () => {
    const res = await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ scope: 'read:orders write:orders' });
  });

  it('issues tokens this server’s own API refuses (they are for the client’s audience)', async () => {
    const { access_token: token } = (await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret))).body as { access_token: string };
    const res = await request(t.app).get('/api/admin').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'JTS-403-01' });
  });

  it('needs no X-JTS-Request header and reads no cookie', async () => {
    const res = await tokenRequest(t, { grant_type: 'client_credentials' }, { ...basic('orders', secret), Cookie: 'jts_state_proof=sp1.x.y.1.z', Origin: 'https://evil.example' });
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  describe('refuses, each with its exact answer', () => {
    const invalidClient = (message: string) => ({ error: 'invalid_client', message, action: 'none', timestamp: expect.any(Number) });

    it('a wrong secret: 401 invalid_client with a Basic challenge, and the envelope without a JTS code', async () => {
      const res = await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', `${secret.slice(0, -1)}A`));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="jts", charset="UTF-8"');
      expect(res.body).toEqual(invalidClient('Client authentication failed.'));
    });

    it('an unknown client: the same answer as a wrong secret', async () => {
      const res = await tokenRequest(t, { grant_type: 'client_credentials' }, basic('nobody', secret));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="jts", charset="UTF-8"');
      expect(res.body).toEqual(invalidClient('Client authentication failed.'));
      expect(t.audits).toContainEqual({ event: 'client.auth_failed', reason: 'unknown_client', client: 'nobody' });
    });

    it('no credentials at all', async () => {
      const res = await tokenRequest(t, { grant_type: 'client_credentials' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(invalidClient('The client_credentials grant needs HTTP Basic client authentication.'));
    });

    it('a Basic header that is not form-urlencoded id:secret', async () => {
      const res = await tokenRequest(t, { grant_type: 'client_credentials' }, { Authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(invalidClient('The Authorization header must be Basic with a form-urlencoded client id and secret.'));
    });

    it('a disabled client, even with its right secret; enabled again, it is served', async () => {
      const admin = clientAdmin(t);
      await admin.setDisabled('test', 'orders', true, t.clock.now());
      await t.clientDirectory.refresh();
      const res = await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret));
      expect(res.status).toBe(401);
      expect(res.body).toEqual(invalidClient('The client is disabled.'));
      await admin.setDisabled('test', 'orders', false, t.clock.now());
      await t.clientDirectory.refresh();
      expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret))).status).toBe(200);
    });

    it('a scope the client may not ask for: 400 invalid_scope', async () => {
      const res = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'read:orders admin:all' }, basic('orders', secret));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_scope', message: 'The client may not ask for: admin:all.', action: 'none', timestamp: expect.any(Number) });
    });

    it('a grant type it does not support: 400 unsupported_grant_type', async () => {
      const res = await tokenRequest(t, { grant_type: 'password', username: 'a', password: 'b' }, basic('orders', secret));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'unsupported_grant_type' });
    });

    it('no grant_type: 400 invalid_request', async () => {
      const res = await tokenRequest(t, { scope: 'read:orders' }, basic('orders', secret));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', message: '`grant_type` is required.', action: 'none', timestamp: expect.any(Number) });
    });

    it('the form sent as JSON: 400 invalid_request', async () => {
      const res = await request(t.app).post('/jts/token').set(basic('orders', secret)).send({ grant_type: 'client_credentials' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_request', message: 'The body must be application/x-www-form-urlencoded.', action: 'none', timestamp: expect.any(Number) });
    });

    it('and the reverse, a form sent to a JSON endpoint: 415', async () => {
      const res = await request(t.app).post('/jts/login').set('X-JTS-Request', '1').type('form').send({ email: 'a@example.com', password: 'x' });
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ error: 'unsupported_media_type' });
    });

    it('a repeated parameter (RFC 6749 §3.1): 400 invalid_request, whatever the values', async () => {
      for (const body of ['grant_type=client_credentials&scope=read:orders&scope=read:orders', 'grant_type=client_credentials&grant_type=client_credentials']) {
        const res = await tokenRequest(t, body, basic('orders', secret));
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^`(scope|grant_type)` must not be repeated \(RFC 6749 §3\.1\)\.$/) });
      }
    });

    it('a secret in the body (only client_secret_basic is accepted): 400 invalid_request', async () => {
      const res = await tokenRequest(t, { grant_type: 'client_credentials', client_id: 'orders', client_secret: secret });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', message: 'Authenticate the client with HTTP Basic (client_secret_basic); credentials in the body are not accepted.' });
    });
  });

  it('accepts both secrets during a rotation, and only the new one once it is finished', async () => {
    const admin = clientAdmin(t);
    const { secret: newSecret } = await admin.rotateSecret('test', 'orders', 3600, t.clock.now());
    await t.clientDirectory.refresh();
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret))).status).toBe(200);
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', newSecret))).status).toBe(200);
    await expect(admin.rotateSecret('test', 'orders', 3600, t.clock.now())).rejects.toMatchObject({ code: 'rotation_open' });

    await admin.finishRotation('test', 'orders', t.clock.now());
    await t.clientDirectory.refresh();
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret))).status).toBe(401);
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', newSecret))).status).toBe(200);
    secret = newSecret;
  });

  it('stops accepting the previous secret at the rotation deadline without anyone finishing it', async () => {
    const { secret: newSecret } = await clientAdmin(t).rotateSecret('test', 'orders', 60, t.clock.now());
    await t.clientDirectory.refresh();
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret))).status).toBe(200);
    t.clock.advance(61_000);
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', secret))).status).toBe(401);
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, basic('orders', newSecret))).status).toBe(200);
  });
});
