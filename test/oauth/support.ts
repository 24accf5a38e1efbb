import request from 'supertest';
import { generateClientSecret, hashClientSecret } from '../../src/accounts/client-secret';
import { SqlClientStore } from '../../src/accounts/sql-client-store';
import { ClientAdministration } from '../../src/auth/client-admin';
import { createVerifier } from '@jts-auth/verifier';
import type { TestApp } from '../support/test-app';

export const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** RFC 6749 §2.3.1: id and secret form-urlencoded, joined by ":", base64 in a Basic header. */
export function basic(id: string, secret: string): { Authorization: string } {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return { Authorization: `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}` };
}

export function clientAdmin(t: TestApp): ClientAdministration {
  if (!t.database) throw new Error('the test app needs accounts in SQL');
  return new ClientAdministration({ clients: new SqlClientStore(t.database.db), serverAudience: t.config.jts.audience });
}

/** Registers a client and reloads the app's directory, as the periodic refresh would. */
export async function addClient(t: TestApp, id: string, audience: string, scopes: string[]): Promise<string> {
  const { secret } = await clientAdmin(t).add('test', { id, audience, scopes }, t.clock.now());
  await t.clientDirectory.refresh();
  return secret;
}

/**
 * Writes a client row straight into the table, past the service's checks: a client registered
 * before a rule existed (e.g. one with this server's own audience, refused since). Returns its secret.
 */
export async function addLegacyClient(t: TestApp, id: string, audience: string, scopes: string[]): Promise<string> {
  if (!t.database) throw new Error('the test app needs accounts in SQL');
  const secret = generateClientSecret();
  const now = t.clock.now();
  await new SqlClientStore(t.database.db).create({ id, secretHash: hashClientSecret(secret), previousSecretHash: undefined, previousSecretExpiresAt: undefined, scopes, audience, disabled: false, createdAt: now, updatedAt: now });
  await t.clientDirectory.refresh();
  return secret;
}

export function tokenRequest(t: TestApp, form: Record<string, string> | string, headers: Record<string, string> = {}) {
  return request(t.app).post('/jts/token').type('form').set(headers).send(form);
}

export function introspect(t: TestApp, token: string, headers: Record<string, string>) {
  return request(t.app).post('/jts/introspect').type('form').set(headers).send({ token });
}

/** Verifies as another service does: its own audience, the server's public keys. */
export async function verifyAs(t: TestApp, audience: string, token: string) {
  const verifier = createVerifier({ keys: t.keyRing.jwks().keys, audience, issuer: t.config.jts.issuer, clock: t.clock });
  return verifier.verify(token);
}
