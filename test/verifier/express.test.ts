import { generateKeyPairSync } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { KeyRing } from '../../src/jts/key-ring';
import { createVerifier } from '@jts-auth/verifier';
import { requireBearerPass } from '@jts-auth/verifier/express';
import { requireAmr, requireFreshAuth, requirePermissions } from '../../src/verifier/guards';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { login, renewOk } from '../support/http';

const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

function listen(app: express.Express, port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(port, '127.0.0.1', () => {
      resolve(server);
    });
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => { resolve(); }));

/** A second service that knows nothing but the auth server's JWKS URL. */
function otherService(jwksUrl: string) {
  const verifier = createVerifier({ jwksUrl, audience: 'http://localhost:3000', issuer: 'http://localhost:3000', unknownKidCooldownMs: 0 });
  const app = express();
  app.get('/orders', requireBearerPass(verifier), (req, res) => {
    res.json({ orders: [], for: req.jts?.payload.prn });
  });
  app.get('/admin', requireBearerPass(verifier), requirePermissions(['admin:access']), (_req, res) => {
    res.json({ ok: true });
  });
  return { app, verifier };
}

describe('a service verifying with only the JWKS URL', () => {
  const firstKey = ec();
  let auth: TestApp;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    auth = await buildTestApp({ keyRing: await KeyRing.from([{ alg: 'ES256', privateKey: firstKey.privateKey }]) });
    server = await listen(auth.app);
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await close(server);
  });

  it('accepts the auth server’s BearerPasses and rejects tampered ones', async () => {
    const user = await createUser(auth);
    const { bearerPass } = await login(auth.app, user.email, user.password);
    const { app } = otherService(`http://127.0.0.1:${port}/.well-known/jts-jwks`);
    await expect(request(app).get('/orders').set('Authorization', `Bearer ${bearerPass}`)).resolves.toMatchObject({ status: 200, body: { for: user.id } });

    const [h, p, s] = bearerPass.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, perm: ['admin:access'] })).toString('base64url')}.${s}`;
    const res = await request(app).get('/admin').set('Authorization', `Bearer ${tampered}`);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error_code: 'JTS-401-02' });
    await expect(request(app).get('/orders')).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-03' } });
  });

  it('cannot see a logout: the BearerPass stays valid there until it expires (the protocol’s trade)', async () => {
    const user = await createUser(auth);
    const creds = await login(auth.app, user.email, user.password);
    await request(auth.app).post('/jts/logout').set('x-jts-request', '1').set('Cookie', `jts_state_proof=${creds.stateProof}`).expect(200);
    const { app } = otherService(`http://127.0.0.1:${port}/.well-known/jts-jwks`);
    await request(app).get('/orders').set('Authorization', `Bearer ${creds.bearerPass}`).expect(200);
    await request(auth.app).get('/api/profile').set('Authorization', `Bearer ${creds.bearerPass}`).expect(401);
  });

  it('picks up a rotated key when the JWKS changes, and still accepts tokens of the previous key', async () => {
    const user = await createUser(auth);
    const old = await login(auth.app, user.email, user.password);
    const { app } = otherService(`http://127.0.0.1:${port}/.well-known/jts-jwks`);
    await request(app).get('/orders').set('Authorization', `Bearer ${old.bearerPass}`).expect(200);

    // Roll the auth server over to a new signer that still publishes the old public key.
    await close(server);
    const rotated = await buildTestApp({
      keyRing: await KeyRing.from([
        { alg: 'ES256', privateKey: ec().privateKey },
        { alg: 'ES256', publicKey: firstKey.publicKey },
      ]),
    });
    server = await listen(rotated.app, port);
    const rotatedUser = await createUser(rotated);
    const fresh = await login(rotated.app, rotatedUser.email, rotatedUser.password);
    expect(fresh.bearerPass.split('.')[0]).not.toBe(old.bearerPass.split('.')[0]);

    await request(app).get('/orders').set('Authorization', `Bearer ${fresh.bearerPass}`).expect(200);
    await request(app).get('/orders').set('Authorization', `Bearer ${old.bearerPass}`).expect(200);
  });

  it('answers JTS-500-01 (retry) when it has never been able to reach the key set', async () => {
    const { app } = otherService('http://127.0.0.1:1/.well-known/jts-jwks');
    const res = await request(app).get('/orders').set('Authorization', 'Bearer a.b.c');
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: 'key_unavailable', error_code: 'JTS-500-01', action: 'retry' });
  });

  it('works from a fixed key set too, without fetching', async () => {
    const user = await createUser(auth);
    const { bearerPass } = await login(auth.app, user.email, user.password);
    const verifier = createVerifier({ keys: auth.keyRing.jwks().keys, audience: 'http://localhost:3000' });
    await expect(verifier.verify(bearerPass)).resolves.toMatchObject({ ok: true, payload: { prn: user.id } });
    await expect(verifier.verify('nope')).resolves.toMatchObject({ ok: false, error: { code: 'JTS-400-01' } });
  });

  it('fetches at most once per cooldown, whatever the tokens, even while the key set is unreachable', async () => {
    let fetches = 0;
    const failing: typeof fetch = () => {
      fetches += 1;
      return Promise.reject(new Error('connection refused'));
    };
    const verifier = createVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks', fetch: failing, unknownKidCooldownMs: 60_000 });
    for (let i = 0; i < 20; i++) await expect(verifier.verify(`garbage-${i}`)).resolves.toMatchObject({ ok: false, error: { code: 'JTS-500-01' } });
    expect(fetches).toBe(1);
  });

  it('keeps working keys when the key set later answers empty', async () => {
    const user = await createUser(auth);
    const { bearerPass } = await login(auth.app, user.email, user.password);
    let body: unknown = auth.keyRing.jwks();
    const serve: typeof fetch = () => Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
    const verifier = createVerifier({ jwksUrl: 'http://jwks.test/keys', fetch: serve, unknownKidCooldownMs: 0, audience: 'http://localhost:3000' });
    await expect(verifier.verify(bearerPass)).resolves.toMatchObject({ ok: true });
    body = { keys: [] };
    const [h, p] = bearerPass.split('.');
    const foreignKid = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h!, 'base64url').toString()) as object, kid: 'unknown' })).toString('base64url')}.${p}.sig`;
    await verifier.verify(foreignKid);
    await expect(verifier.verify(bearerPass)).resolves.toMatchObject({ ok: true });
  });
});

describe('step-up guards in a service verifying with only the JWKS URL', () => {
  let auth: TestApp;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    auth = await buildTestApp();
    server = await listen(auth.app);
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await close(server);
    await auth.close();
  });

  it('judges the auth server’s real amr and auth_time with the step-up guards, on the clock it is given', async () => {
    const user = await createUser(auth);
    const session = await login(auth.app, user.email, user.password);
    const verifier = createVerifier({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jts-jwks`, audience: 'http://localhost:3000', issuer: 'http://localhost:3000', clock: auth.clock });
    const app = express();
    app.get('/payouts', requireBearerPass(verifier), requireFreshAuth(300, { clock: auth.clock }), (_req, res) => res.json({ ok: true }));
    app.get('/vault', requireBearerPass(verifier), requireAmr('mfa'), (_req, res) => res.json({ ok: true }));
    const get = (path: string, bearerPass: string) => request(app).get(path).set('Authorization', `Bearer ${bearerPass}`);

    await get('/payouts', session.bearerPass).expect(200);
    const vault = await get('/vault', session.bearerPass);
    expect(vault.status).toBe(401);
    expect(vault.body).toEqual({ error: 'insufficient_user_authentication', message: 'This needs a sign-in with: mfa. Sign in again with them, then retry.', action: 'reauth', timestamp: expect.any(Number) as number });

    // A renewal makes a new BearerPass but not a new sign-in: auth_time stays, and grows old.
    auth.clock.advance(301_000);
    const renewed = await renewOk(auth.app, session.stateProof);
    const stale = await get('/payouts', renewed.bearerPass);
    expect(stale.status).toBe(401);
    expect(stale.body).toEqual({ error: 'insufficient_user_authentication', message: 'This needs a recent sign-in: sign in again, then retry.', action: 'reauth', timestamp: Math.floor(auth.clock.now() / 1000) });
    expect(stale.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", max_age="300"');
    await get('/payouts', (await login(auth.app, user.email, user.password)).bearerPass).expect(200);
  });
});
