import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { MFA_TICKET_MAX_ATTEMPTS } from '../../src/auth/second-factor';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login } from '../support/http';
import { codeOf, SmtpSink, tokenOf } from '../support/smtp-sink';

/**
 * Security review of the MFA / claims / email-verification work (review R1–R4): each test is an
 * attack, and fails while the weakness it names is there.
 */
const STEP = 30_000;
const UA = { 'User-Agent': 'review-test/1.0' };

describe('security review: attacks on password change, second factor and first mailbox proof', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: sink.mailEnv });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  const post = (path: string, body: object, headers: Record<string, string> = UA) => request(t.app).post(path).set(CSRF).set(headers).send(body);
  const withBearer = (bearerPass: string) => ({ ...UA, Authorization: `Bearer ${bearerPass}` });

  /**
   * Holds the next check of `password` inside its bcrypt step until `release()`; `inside` resolves
   * once it is there. The check itself is the real one.
   */
  function holdPasswordCheck(password: string): { inside: Promise<void>; release: () => void } {
    let entered: () => void = () => undefined;
    let release: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const verify = t.hasher.verify.bind(t.hasher);
    jest.spyOn(t.hasher, 'verify').mockImplementation(async (candidate, hash) => {
      const verdict = await verify(candidate, hash);
      if (candidate === password) {
        entered();
        await gate;
      }
      return verdict;
    });
    return { inside, release };
  }

  // R1 (High): an attacker holding a session and the password keeps a password change in flight;
  // the owner resets the password by email; the change, checked against the old hash, lands after
  // the reset and overwrites it, so the attacker knows the password again.
  it('R1: a password change checked before a reset does not overwrite the reset', async () => {
    const owner = await createUser(t, { emailVerified: true });
    const attacker = await login(t.app, owner.email, owner.password, UA);
    const resetMail = sink.next(owner.email);
    await post('/jts/password/forgot', { email: owner.email }).expect(202);
    const token = tokenOf(await resetMail, 'reset');

    const held = holdPasswordCheck(owner.password);
    const change = post('/jts/password', { currentPassword: owner.password, newPassword: 'attacker chosen password' }, withBearer(attacker.bearerPass)).then((res) => res);
    await held.inside;
    await post('/jts/password/reset', { token, newPassword: 'owner chosen password' }).expect(200);
    held.release();
    const changed = await change;
    jest.restoreAllMocks();

    expect(changed.status).toBe(401);
    expect((await post('/jts/login', { email: owner.email, password: 'attacker chosen password' })).status).toBe(401);
    expect((await post('/jts/login', { email: owner.email, password: 'owner chosen password' })).status).toBe(200);
  });

  // R1, second way in: the squatter of a pre-registered address keeps a change in flight while
  // the owner's first code sign-in voids the squatter's password (review M1's fix).
  it('R1: a password change checked before the first mailbox proof does not hand the account back to the squatter', async () => {
    const squatter = await createUser(t, { password: 'squatter password 1' });
    const session = await login(t.app, squatter.email, squatter.password, UA);

    const held = holdPasswordCheck(squatter.password);
    const change = post('/jts/password', { currentPassword: squatter.password, newPassword: 'squatter password 2' }, withBearer(session.bearerPass)).then((res) => res);
    await held.inside;
    const mail = sink.next(squatter.email);
    await post('/jts/login/code', { email: squatter.email }).expect(202);
    const ownerSignIn = await post('/jts/login/code/verify', { email: squatter.email, code: codeOf(await mail) });
    expect(ownerSignIn.status).toBe(200);
    held.release();
    await change;
    jest.restoreAllMocks();

    expect((await post('/jts/login', { email: squatter.email, password: 'squatter password 2' })).status).toBe(401);
  });

  // R2 (Medium): with JTS_EMAIL_VERIFICATION=optional a squatter registered the owner's address and
  // set up an authenticator. The owner's first mailbox proof voids the squatter's password and
  // sessions but cannot void a factor, so every way in ended at mfa_required with the squatter's
  // factor. Now an authenticator is added only to a verified address.
  it('R2: a squatter cannot lock the owner of a pre-registered address out with an authenticator (enrolment needs a proven address)', async () => {
    const email = `owner-${Date.now()}@example.com`;
    const registered = await post('/jts/register', { email, password: 'squatter password', name: 'Squatter' });
    expect(registered.status).toBe(201);
    await sink.next(email); // the verification link registration mails
    const started = await post('/jts/mfa/totp', {}, withBearer((registered.body as { bearerPass: string }).bearerPass));
    expect(started.status).toBe(403);
    expect(started.body).toMatchObject({ error: 'email_unverified', message: 'Verify your email address before adding a second factor.' });
    // The owner's way in stays open: a code sign-in to the address answers the login, not mfa_required.
    expect((await post('/jts/login/code', { email })).status).toBe(202);
    const code = codeOf(await sink.next(email));
    const signedIn = await post('/jts/login/code/verify', { email, code });
    expect(signedIn.status).toBe(200);
  });

  // R3 (Low): a session signed in with the password only, before the authenticator was added, is
  // "fresh" for JTS_FRESH_AUTH_MAX_AGE after its own sign-in and removed the authenticator (200).
  it('R3: a password-only session from before the enrolment cannot remove the authenticator', async () => {
    const user = await createUser(t, { emailVerified: true });
    const earlier = await login(t.app, user.email, user.password, UA);
    const owner = await login(t.app, user.email, user.password, UA);
    const { secret } = (await post('/jts/mfa/totp', {}, withBearer(owner.bearerPass))).body as { secret: string };
    await post('/jts/mfa/totp/confirm', { code: TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: t.clock.now() }) }, withBearer(owner.bearerPass)).expect(200);
    t.clock.advance(60_000);
    const removal = await request(t.app).delete('/jts/mfa/totp').set(CSRF).set(withBearer(earlier.bearerPass));
    expect(removal.status).toBe(401);
    expect(removal.body).toMatchObject({ error: 'insufficient_user_authentication', action: 'reauth' });
    expect((await request(t.app).get('/jts/mfa').set(withBearer(owner.bearerPass))).body).toMatchObject({ recoveryCodesLeft: 10 });
  });

  // R4 (Low, not fixed): SecondFactors.verify reads the ticket live, checks the code, and only then
  // spends an attempt, so concurrent wrong codes are all checked. Proven on 43aeee9: 20 wrong
  // recovery codes sent at once on one ticket were all answered mfa_code_invalid (the per-account
  // limits still bound the total).
  it.todo(`R4: one ticket takes at most ${MFA_TICKET_MAX_ATTEMPTS} wrong codes, even sent at once`);
});

describe('security review: guessing the confirmation code of an enrolment (rate limits on)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'loopback' } });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  });
  afterEach(async () => {
    await t.close();
  });

  // R5 (Medium): POST /jts/mfa/totp/confirm checks a 6-digit code with no limit at all, and needs
  // no fresh sign-in: any BearerPass of the account (a stolen one included) can guess the code of
  // an enrolment left unconfirmed (they never expire) and so receive the ten recovery codes.
  it('R5: wrong confirmation codes are throttled per account, whatever the address', async () => {
    const user = await createUser(t, { emailVerified: true });
    const { bearerPass } = await login(t.app, user.email, user.password, { 'X-Forwarded-For': '198.51.100.1' });
    const auth = { Authorization: `Bearer ${bearerPass}` };
    await request(t.app).post('/jts/mfa/totp').set(CSRF).set(auth).expect(201);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await request(t.app)
        .post('/jts/mfa/totp/confirm')
        .set(CSRF)
        .set(auth)
        .set('X-Forwarded-For', `203.0.113.${i + 1}`)
        .send({ code: String(100_000 + i) });
      statuses.push(res.status);
    }
    expect(statuses).toContain(429);
  });
});
