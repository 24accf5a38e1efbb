import { generateKeyPairSync, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

/**
 * A service that knows nothing of this code base: it fetches the JWKS over HTTP and verifies
 * BearerPasses with jose, as JTS.md says any service may.
 */
const AUDIENCE = 'http://localhost:3000';
const ISSUER = 'http://localhost:3000';

let testApp: TestApp;
let server: Server;
let baseUrl: string;
let user: { id: string; email: string; password: string };

beforeAll(async () => {
  testApp = await buildTestApp();
  user = await createUser(testApp);
  server = await new Promise<Server>((resolve) => {
    const listening = testApp.app.listen(0, '127.0.0.1', () => {
      resolve(listening);
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => {
      if (error) reject(error);
      else resolve();
    });
    server.closeAllConnections();
  });
  await testApp.close();
});

async function login(): Promise<string> {
  const res = await fetch(`${baseUrl}/jts/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-jts-request': '1' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { bearerPass: string };
  expect(typeof body.bearerPass).toBe('string');
  return body.bearerPass;
}

const remoteJwks = () => createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jts-jwks`));
const options = { audience: AUDIENCE, issuer: ISSUER, typ: 'JTS-S/v1' };

describe('an independent client verifying BearerPasses with jose and the published JWKS', () => {
  test('accepts a BearerPass from /jts/login and reads the JTS claims', async () => {
    const token = await login();
    const { payload, protectedHeader } = await jwtVerify(token, remoteJwks(), options);
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JTS-S/v1', kid: testApp.keyRing.signer.kid });
    expect(payload).toMatchObject({ prn: user.id, iss: ISSUER, aud: AUDIENCE });
    expect(typeof payload.aid).toBe('string');
    expect(typeof payload.tkn_id).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(testApp.config.jts.bearerPassLifetimeSeconds);
  });

  test('rejects the BearerPass with its payload changed', async () => {
    const token = await login();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, prn: 'someone-else' })).toString('base64url')}.${signature}`;
    await expect(jwtVerify(forged, remoteJwks(), options)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    // The untouched token still passes: the rejection is about the change.
    await expect(jwtVerify(token, remoteJwks(), options)).resolves.toBeDefined();
  });

  test('rejects the BearerPass with its signature changed', async () => {
    const token = await login();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const raw = Buffer.from(signature, 'base64url');
    raw[0] = raw[0]! ^ 0xff;
    await expect(jwtVerify(`${header}.${payload}.${raw.toString('base64url')}`, remoteJwks(), options)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  test('rejects a token an attacker signed with their own key under our kid', async () => {
    const token = await login();
    const [header, payload] = token.split('.') as [string, string, string];
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: attacker.privateKey, dsaEncoding: 'ieee-p1363' });
    await expect(jwtVerify(`${header}.${payload}.${signature.toString('base64url')}`, remoteJwks(), options)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });

  test('rejects the BearerPass for another audience', async () => {
    const token = await login();
    await expect(jwtVerify(token, remoteJwks(), { ...options, audience: 'https://other-api.example' })).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
  });
});
