import bcrypt from 'bcrypt';
import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, renewOk } from '../support/http';

const NFC = 'Crème-brûlée-42'.normalize('NFC');
const NFD = NFC.normalize('NFD');

/** Issue 14 item 4: one password, whatever Unicode form the client's keyboard or platform sends. */
describe('passwords in any Unicode form (NFKC before every check and hash)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'pglite' });
  });
  afterAll(async () => {
    await t.close();
  });

  const register = (email: string, password: string) => request(t.app).post('/jts/register').set(CSRF).send({ email, password, name: 'Uni' });
  const signIn = (email: string, password: string) => request(t.app).post('/jts/login').set(CSRF).send({ email, password });

  it.each([
    ['NFC', NFC, 'NFD', NFD],
    ['NFD', NFD, 'NFC', NFC],
    ['a ligature', 'ﬁnal-answer-42', 'plain letters', 'final-answer-42'],
    ['full-width digits', 'digits-１２３４５', 'ASCII digits', 'digits-12345'],
    ['ASCII', 'Angstrom-\u00C5-ohm-\u03A9', 'compatibility signs', 'Angstrom-\u212B-ohm-\u2126'],
  ])('registers with %s and signs in with %s', async (_from, registered, _to, typed) => {
    const email = `uni${Math.random().toString(36).slice(2)}@example.com`;
    await register(email, registered).expect(201);
    await signIn(email, typed).expect(200);
    await signIn(email, registered).expect(200);
  });

  it('accepts 30 × é in either form (60 bytes normalised, 90 as NFD) and refuses 37 in either', async () => {
    const email = `e30${Math.random().toString(36).slice(2)}@example.com`;
    await register(email, 'é'.repeat(30).normalize('NFD')).expect(201);
    await signIn(email, 'é'.repeat(30).normalize('NFC')).expect(200);
    for (const form of ['NFC', 'NFD'] as const) {
      const res = await register(`e37${form}@example.com`, 'é'.repeat(37).normalize(form)).expect(400);
      expect(res.body).toMatchObject({ error: 'invalid_request' });
      expect(res.body.message).toContain('72 bytes');
    }
  });

  it('changes the password with the current one in another form and the new one normalised', async () => {
    const user = await createUser(t, { password: NFC });
    const session = await login(t.app, user.email, NFD);
    await request(t.app)
      .post('/jts/password')
      .set(CSRF)
      .set('Authorization', `Bearer ${session.bearerPass}`)
      .send({ currentPassword: NFD, newPassword: 'ｎｅｗ-ｐａｓｓ-９' })
      .expect(200);
    await signIn(user.email, 'new-pass-9').expect(200);
    await signIn(user.email, NFC).expect(401);
  });

  it('upgrades a hash of the raw NFD text from before normalisation at sign-in, without ending sessions', async () => {
    const user = await createUser(t);
    const legacy = await bcrypt.hash(NFD, 4);
    await t.users.update(user.id, { passwordHash: legacy }, t.clock.now());
    const { credentialEpoch } = (await t.users.get(user.id))!;

    const first = await login(t.app, user.email, NFD);
    const upgraded = (await t.users.get(user.id))!;
    expect(upgraded.passwordHash).not.toBe(legacy);
    expect(await bcrypt.compare(NFC, upgraded.passwordHash)).toBe(true);
    expect(upgraded.credentialEpoch).toBe(credentialEpoch);
    expect(t.audits).toContainEqual({ event: 'password.rehashed', prn: user.id });

    // Another device signs in while the first session lives: the first keeps renewing.
    await expect(t.users.upgradePasswordHash(user.id, upgraded.passwordHash, legacy)).resolves.toBe(true);
    await login(t.app, user.email, NFD, { 'x-jts-device-id': 'second-device' });
    await renewOk(t.app, first.stateProof);
    await expect(t.sessions.list(user.id, t.clock.now())).resolves.toHaveLength(2);

    // From now on the other form works too.
    await signIn(user.email, NFC).expect(200);
  });
});
