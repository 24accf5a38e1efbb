import { redisKeys } from '../../src/sessions/redis-keys';
import { login, renew } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { pollAll, revocationsOf, subscriberClient } from '../events/support';

/**
 * Review finding: a sign-in's ensureMirror (put-user-1.lua, mode 'absent') returns without touching
 * a mirror that still exists, whatever little TTL it has left; create-3.lua then extends the
 * mirror's TTL only if it still exists (PEXPIRE on a missing key does nothing). A sign-in that
 * starts just before the mirror's TTL ends (the end of the account's previous longest session)
 * opens a session with no mirror: its first full renewal finds no user, ends the session and
 * publishes a `user_deleted` security event to every subscriber for an account that exists.
 *
 * The delay before the session's creation stands for the ordinary latency between the two Redis
 * calls (bcrypt is already done by then; a GC pause, a slow Redis, a busy event loop).
 */
describe('a sign-in racing the expiry of the user mirror (real Redis, PGlite accounts)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'pglite', renewFactsCapacity: 0 });
  });
  afterEach(async () => {
    await t.close();
  });

  it('the new session keeps a mirror: its renewal succeeds and no user_deleted event is published', async () => {
    const auth = await subscriberClient(t);
    const user = await createUser(t, { emailVerified: true });
    const mirror = redisKeys(t.config.redis.keyPrefix).userMirror(user.id);
    expect(await t.redis!.exists(mirror)).toBe(1);
    // The mirror's TTL is about to end (the previous session's end).
    await t.redis!.pexpire(mirror, 150);
    const create = t.sessions.create.bind(t.sessions);
    jest.spyOn(t.sessions, 'create').mockImplementationOnce(async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return create(...args);
    });
    const session = await login(t.app, user.email, user.password);
    const renewed = await renew(t.app, session.stateProof);
    const published = await revocationsOf(t, await pollAll(t, auth), user.id);
    expect({ status: renewed.status, mirror: await t.redis!.exists(mirror), published }).toEqual({ status: 200, mirror: 1, published: [] });
  });
});
