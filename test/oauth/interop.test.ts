import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import { login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { ACCESS_TOKEN, addClient, EXCHANGE, verifyAs } from './support';

/**
 * Someone else's RFC-following client (oauth4webapi, by the author of jose) against a real
 * listening server: interoperability proven by code we did not write.
 */
describe('oauth4webapi against a listening server', () => {
  let t: TestApp;
  let server: Server;
  let as: oauth.AuthorizationServer;
  let secret: string;
  let issuer: URL;
  const client: oauth.Client = { client_id: 'orders' };
  const ORDERS = 'https://orders.example.com';
  // Plain http on localhost in a test; production issuers are https. The library marks the
  // option deprecated on purpose ("make it stand out"), which is the point here.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const insecure = { [oauth.allowInsecureRequests]: true };

  beforeAll(async () => {
    // The issuer is the listening address, so the library can discover everything from it.
    let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
    server = createServer((req, res) => {
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { JTS_ISSUER: base, JTS_AUDIENCE: base } });
    handler = t.app;
    secret = await addClient(t, 'orders', ORDERS, ['read:orders', 'write:orders']);
    issuer = new URL(base);
    // RFC 8414 discovery by the library: every endpoint below comes from our metadata.
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });

  it('discovers the server from its issuer alone (RFC 8414)', () => {
    expect(as).toMatchObject({
      issuer: issuer.origin,
      token_endpoint: `${issuer.origin}/jts/token`,
      introspection_endpoint: `${issuer.origin}/jts/introspect`,
      grant_types_supported: expect.arrayContaining(['client_credentials', EXCHANGE]) as string[],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
    });
  });

  it('refuses metadata that names another issuer (the library’s own check, so ours must match exactly)', async () => {
    const other = new URL('http://127.0.0.1:1/');
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    await expect(oauth.processDiscoveryResponse(other, response)).rejects.toMatchObject({ code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('obtains a client-credentials token with client_secret_basic and introspects it', async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), { scope: 'read:orders' }, insecure);
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'read:orders' });
    await expect(verifyAs(t, ORDERS, result.access_token)).resolves.toMatchObject({ ok: true, payload: { atm: 'client_credentials', prn: 'orders' } });

    const introspection = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic(secret), result.access_token, insecure));
    expect(introspection).toMatchObject({ active: true, client_id: 'orders', scope: 'read:orders', token_type: 'Bearer' });
  });

  it('reads our RFC 6749 §5.2 errors as OAuth errors', async () => {
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('not-the-secret'), {}, insecure);
    const error = await oauth.processClientCredentialsResponse(as, client, response).catch((caught: unknown) => caught);
    // The library reads the RFC 6749 §5.2 `WWW-Authenticate: Basic` challenge of a 401 first.
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect(error).toMatchObject({ status: 401, cause: [{ scheme: 'basic', parameters: { realm: 'jts' } }] });
    const wrongScope = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), { scope: 'admin' }, insecure);
    await expect(oauth.processClientCredentialsResponse(as, client, wrongScope)).rejects.toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('exchanges a user’s BearerPass for a downstream token (RFC 8693)', async () => {
    const user = await createUser(t, { permissions: ['read:orders'] });
    const { bearerPass } = await login(t.app, user.email, user.password);
    const response = await oauth.genericTokenEndpointRequest(
      as,
      client,
      oauth.ClientSecretBasic(secret),
      EXCHANGE,
      { subject_token: bearerPass, subject_token_type: ACCESS_TOKEN, audience: ORDERS, scope: 'read:orders' },
      insecure,
    );
    const result = await oauth.processGenericTokenEndpointResponse(as, client, response);
    expect(result).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'read:orders', issued_token_type: ACCESS_TOKEN });
    await expect(verifyAs(t, ORDERS, result.access_token)).resolves.toMatchObject({ ok: true, payload: { prn: user.id, act: { sub: 'orders' } } });
  });
});
