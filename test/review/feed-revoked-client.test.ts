import request from 'supertest';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { clientAdmin } from '../oauth/support';
import { listen, SseReader, subscriberClient } from '../events/support';

/**
 * Review finding: GET /jts/events checks the client and its `jts:events` scope once, when the
 * stream opens. A client deleted (or its scope withdrawn, its secret rotated after a leak) keeps
 * receiving every user's session and credential events on the streams it already holds, for as
 * long as it keeps the connection open (keepalives hold it up; nothing re-checks it).
 */
describe('GET /jts/events after the client is deleted (real Redis, PGlite accounts)', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'pglite' });
    server = await listen(t);
  });
  afterEach(async () => {
    await server.close();
    await t.close();
  });

  it('ends the open stream, or at least stops sending it events', async () => {
    const auth = await subscriberClient(t, 'leaky');
    const reader = await SseReader.open(server.url, auth);
    expect(reader.response.status).toBe(200);
    await reader.until((r) => r.frames.length > 0);

    await clientAdmin(t).delete('test', 'leaky');
    await t.clientDirectory.refresh();
    // The deleted client cannot open a new stream...
    expect((await request(t.app).get('/jts/events/poll').set(auth)).status).toBe(401);

    // ...but the one it holds still carries everyone's events.
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect({ ended: reader.ended, eventsAfterDeletion: reader.events.length }).toEqual({ ended: true, eventsAfterDeletion: 0 });
    reader.close();
  });
});
