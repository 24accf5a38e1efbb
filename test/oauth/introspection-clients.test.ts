import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { login } from '../support/http';
import { ACCESS_TOKEN, addClient, basic, clientAdmin, EXCHANGE, introspect, tokenRequest } from './support';

const ORDERS = 'https://orders.example.com';
const FRONTEND = 'https://frontend.example.com';

/** Introspection follows the clients behind a token: its own client (client credentials) and its acting client (`act.sub`, token exchange). */
describe('POST /jts/introspect and the state of the clients behind a token', () => {
  let t: TestApp;
  let orders: { Authorization: string };
  let frontendSecret: string;

  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres' });
    orders = basic('orders', await addClient(t, 'orders', ORDERS, ['read:orders']));
    frontendSecret = await addClient(t, 'frontend', FRONTEND, []);
  });

  afterEach(async () => {
    await t.close();
  });

  async function exchangedByFrontend(): Promise<string> {
    const user = await createUser(t, { permissions: ['read:orders'] });
    const { bearerPass } = await login(t.app, user.email, user.password);
    const res = await tokenRequest(t, { grant_type: EXCHANGE, subject_token: bearerPass, subject_token_type: ACCESS_TOKEN, audience: ORDERS }, basic('frontend', frontendSecret));
    expect(res.status).toBe(200);
    return (res.body as { access_token: string }).access_token;
  }

  it('an exchanged token whose acting client is disabled is inactive, and active again once it is enabled', async () => {
    const token = await exchangedByFrontend();
    expect((await introspect(t, token, orders)).body).toMatchObject({ active: true, act: { sub: 'frontend' }, client_id: 'frontend' });
    await clientAdmin(t).setDisabled('test', 'frontend', true, t.clock.now());
    await t.clientDirectory.refresh();
    expect((await introspect(t, token, orders)).body).toEqual({ active: false });
    await clientAdmin(t).setDisabled('test', 'frontend', false, t.clock.now());
    await t.clientDirectory.refresh();
    expect((await introspect(t, token, orders)).body).toMatchObject({ active: true });
  });

  it('an exchanged token whose acting client was deleted stays inactive, even once a new client takes the same id', async () => {
    const token = await exchangedByFrontend();
    await clientAdmin(t).delete('test', 'frontend');
    await t.clientDirectory.refresh();
    expect((await introspect(t, token, orders)).body).toEqual({ active: false });
    t.clock.advance(1000);
    await addClient(t, 'frontend', FRONTEND, []);
    expect((await introspect(t, token, orders)).body).toEqual({ active: false });
    // A token the new client gets is active: the rule is about age, not the id.
    expect((await introspect(t, await exchangedByFrontendAfterReRegistration(), orders)).body).toMatchObject({ active: true });
  });

  async function exchangedByFrontendAfterReRegistration(): Promise<string> {
    frontendSecret = (await clientAdmin(t).rotateSecret('test', 'frontend', 0, t.clock.now())).secret;
    await t.clientDirectory.refresh();
    return exchangedByFrontend();
  }

  it('a client-credentials token of a disabled or deleted client is inactive (asked as its own client would, which can no longer authenticate)', async () => {
    const res = await tokenRequest(t, { grant_type: 'client_credentials' }, orders);
    const token = (res.body as { access_token: string }).access_token;
    const caller = t.clientDirectory.findEnabled('orders');
    if (caller === undefined) throw new Error('orders is registered');
    await expect(t.oauth.introspection.introspect(token, caller)).resolves.toMatchObject({ active: true, client_id: 'orders' });
    await clientAdmin(t).setDisabled('test', 'orders', true, t.clock.now());
    await t.clientDirectory.refresh();
    await expect(t.oauth.introspection.introspect(token, caller)).resolves.toEqual({ active: false });
    expect((await introspect(t, token, orders)).status).toBe(401);
    await clientAdmin(t).delete('test', 'orders');
    t.clock.advance(1000);
    await addClient(t, 'orders', ORDERS, ['read:orders']);
    await expect(t.oauth.introspection.introspect(token, caller)).resolves.toEqual({ active: false });
  });
});
