import request from 'supertest';
import { buildTestApp, createUser, type StoreKind } from '../support/test-app';
import { CSRF, login, profile } from '../support/http';

describe.each<StoreKind>(['memory', 'redis'])('a login racing a password change (%s store)', (store) => {
  it('does not leave a session opened with the old password alive', async () => {
    const t = await buildTestApp({ store });
    const user = await createUser(t);
    const owner = await login(t.app, user.email, user.password);

    // Hold the attacker's login inside its password check until the owner's change is done.
    const realVerify = t.hasher.verify.bind(t.hasher);
    let release: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => {
      release = resolve;
    });
    const spy = jest.spyOn(t.hasher, 'verify').mockImplementationOnce(async (password, hash) => {
      const ok = await realVerify(password, hash);
      await changed;
      return ok;
    });

    const attacker = request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password }).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${owner.bearerPass}`).send({ currentPassword: user.password, newPassword: 'the new password' }).expect(200);
    release();

    const res = await attacker;
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_credentials' });
    const sessions = await t.sessions.list(user.id, t.clock.now());
    expect(sessions).toHaveLength(1);
    await profile(t.app, owner.bearerPass).expect(200);
    spy.mockRestore();
    await t.close();
  });
});
