import request from 'supertest';
import { buildTestApp, type TestApp } from '../support/test-app';
import { addClient, basic, introspect, tokenRequest } from './support';

const ORDERS = 'https://orders.example.com';
const rawBasic = (text: string) => ({ Authorization: `Basic ${Buffer.from(text).toString('base64')}` });

/**
 * Bugs reported against other authorization servers, tried on ours (each test names its report).
 * They pass without a change to the server: they are here so that none of them creeps in later.
 */
describe('client authentication and introspection: bugs seen elsewhere', () => {
  let t: TestApp;
  let secret: string;

  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    secret = await addClient(t, 'orders', ORDERS, ['read:orders']);
    await addClient(t, 'billing', 'https://billing.example.com', []);
  });
  afterAll(async () => {
    await t.close();
  });

  // keycloak/keycloak#43532: a "%" not followed by two hex digits crashed Basic parsing (500).
  it('answers a Basic header with malformed percent-encoding 401 invalid_client, never 500', async () => {
    for (const credentials of ['orders:%zz', 'orders:abc%', '%E0%A4%A:x', `orders:${secret}%`]) {
      const token = await tokenRequest(t, { grant_type: 'client_credentials' }, rawBasic(credentials));
      const introspected = await introspect(t, 'x', rawBasic(credentials));
      for (const res of [token, introspected]) {
        expect({ credentials, status: res.status, error: (res.body as { error: string }).error }).toEqual({ credentials, status: 401, error: 'invalid_client' });
        expect(res.headers['www-authenticate']).toMatch(/^Basic realm="jts"/);
      }
    }
  });

  // keycloak/keycloak#11908 and #31476: RFC 6749 §2.3.1 form-urlencodes id and secret before Basic;
  // a server must decode exactly that ("%6F" is "o", "+" is a space), no more and no less.
  it('form-decodes the Basic id and secret as RFC 6749 §2.3.1 says', async () => {
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, rawBasic(`%6Frders:${secret}`))).status).toBe(200);
    const encodedSecret = Buffer.from(secret).toString('hex').replace(/(..)/g, '%$1');
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, rawBasic(`orders:${encodedSecret}`))).status).toBe(200);
    // "+" decodes to a space, so "or+ders" is another (unknown) id.
    expect((await tokenRequest(t, { grant_type: 'client_credentials' }, rawBasic(`or+ders:${secret}`))).status).toBe(401);
  });

  // PostHog/posthog#82258: introspection trusted a client id named in the request over the authenticated one.
  it('refuses a body client_id that differs from the authenticated client at /jts/introspect', async () => {
    const res = await request(t.app).post('/jts/introspect').type('form').set(basic('orders', secret)).send({ token: 'x', client_id: 'billing' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client', message: '`client_id` in the body differs from the authenticated client.' });
  });

  // frappe/frappe#42693: bad client credentials answered 200 {active:false}, indistinguishable from an inactive token.
  it('answers wrong client credentials at /jts/introspect 401, not {active: false}', async () => {
    const res = await introspect(t, 'x', basic('orders', 'not-the-secret'));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client' });
    expect(res.body).not.toHaveProperty('active');
  });
});
