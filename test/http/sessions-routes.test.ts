import request from 'supertest';
import { buildTestApp, createUser, type StoreKind } from '../support/test-app';
import { CSRF, login, profile } from '../support/http';

const aidOf = (bearerPass: string) => (JSON.parse(Buffer.from(bearerPass.split('.')[1]!, 'base64url').toString()) as { aid: string }).aid;

describe.each<StoreKind>(['memory', 'redis'])('the sessions API (%s store)', (store) => {
  it('lists the caller’s live sessions with a device, a masked IP and the current flag', async () => {
    const t = await buildTestApp({ store });
    const user = await createUser(t);
    const laptop = await login(t.app, user.email, user.password, { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0' });
    t.clock.advance(1_000);
    await login(t.app, user.email, user.password, { 'User-Agent': 'curl/8.5.0' });
    const res = await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${laptop.bearerPass}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const sessions = (res.body as { sessions: Record<string, unknown>[] }).sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toEqual({ aid: aidOf(laptop.bearerPass), device: 'Firefox on Linux', ipPrefix: expect.stringMatching(/x$|unknown/), createdAt: expect.any(String), lastActiveAt: expect.any(String), current: true });
    expect(sessions[1]).toMatchObject({ device: 'curl', current: false });
    await t.close();
  });

  it('answers 404, not 403, for another user’s session, and leaves it alive', async () => {
    const t = await buildTestApp({ store });
    const alice = await createUser(t);
    const mallory = await createUser(t);
    const a = await login(t.app, alice.email, alice.password);
    const m = await login(t.app, mallory.email, mallory.password);
    const res = await request(t.app).delete(`/jts/sessions/${aidOf(a.bearerPass)}`).set(CSRF).set('Authorization', `Bearer ${m.bearerPass}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_found' });
    await profile(t.app, a.bearerPass).expect(200);
    await t.close();
  });

  it('answers 404 for an id this server never issues, without asking the store', async () => {
    const t = await buildTestApp({ store });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    const revoke = jest.spyOn(t.sessions, 'revoke');
    const res = await request(t.app).delete('/jts/sessions/%7Bu%3Aother%7D').set(CSRF).set('Authorization', `Bearer ${creds.bearerPass}`);
    expect(res.status).toBe(404);
    expect(revoke).not.toHaveBeenCalled();
    await t.close();
  });

  it('needs the CSRF header to revoke', async () => {
    const t = await buildTestApp({ store });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    await request(t.app).delete(`/jts/sessions/${aidOf(creds.bearerPass)}`).set('Authorization', `Bearer ${creds.bearerPass}`).expect(403);
    await request(t.app).post('/jts/sessions/revoke-others').set('Authorization', `Bearer ${creds.bearerPass}`).expect(403);
    await t.close();
  });

  it('changes the password: the old one stops working, other sessions end, this one stays', async () => {
    const t = await buildTestApp({ store });
    const user = await createUser(t);
    const here = await login(t.app, user.email, user.password);
    const elsewhere = await login(t.app, user.email, user.password);
    const wrong = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${here.bearerPass}`).send({ currentPassword: 'not it', newPassword: 'a new password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_credentials' });
    const res = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${here.bearerPass}`).send({ currentPassword: user.password, newPassword: 'a new password' });
    expect(res.body).toEqual({ success: true, revokedSessions: 1 });
    await profile(t.app, here.bearerPass).expect(200);
    await profile(t.app, elsewhere.bearerPass).expect(401);
    await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password }).expect(401);
    await login(t.app, user.email, 'a new password');
    await t.close();
  });
});
