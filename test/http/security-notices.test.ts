import bcrypt from 'bcrypt';
import request from 'supertest';
import { CSRF, login, renew, renewOk } from '../support/http';
import { kindOf, SmtpSink, tokenOf, type ReceivedMail } from '../support/smtp-sink';
import { buildTestApp, createUser, type TestApp, type TestAppOptions } from '../support/test-app';

const PUBLIC_URL = 'https://app.example.com';
const OWNER = { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'X-Forwarded-For': '203.0.113.7' };
const THIEF = { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'X-Forwarded-For': '198.51.100.23' };

interface SessionsBody {
  sessions: { aid: string; device: string }[];
  ended: { aid: string; device: string; endedAt: string; reason: string }[];
}

/** Every URL a mail's text names. */
const urlsIn = (mail: ReceivedMail) => (mail.parsed.text ?? '').match(/https?:\/\/\S+/g) ?? [];

describe('security notices (real SMTP, real Redis)', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  afterEach(async () => {
    await t.close();
  });

  const build = (options: TestAppOptions = {}) =>
    buildTestApp({ store: 'redis', ...options, env: { ...sink.mailEnv, TRUST_PROXY: 'loopback', PUBLIC_URL, JTS_EMAIL_VERIFICATION: 'off', ...options.env } });

  /** Mails of `kind` to `to` that arrived and were not taken, once every mail accepted so far has left. */
  async function leftOver(to: string, kind: string): Promise<ReceivedMail[]> {
    await t.email.idle();
    // The sink parses what it received asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 150));
    return sink.received.filter((m) => m.envelope.to.includes(to) && kindOf(m) === kind);
  }

  /** Signs in as the owner, renews once, and lets the grace window pass: the first StateProof is now a stolen one. */
  async function stolenStateProof(user: { email: string; password: string }) {
    const signedIn = await login(t.app, user.email, user.password, OWNER);
    const renewed = await renewOk(t.app, signedIn.stateProof);
    t.clock.advance(11_000);
    return { stolen: signedIn.stateProof, current: renewed };
  }

  describe.each([
    ['from remembered renewal facts', {}],
    ['from the store (no renewal facts)', { renewFactsCapacity: 0 }],
  ])('token theft alert, %s', (_name, options) => {
    it('mails the owner once however often the stolen StateProof is presented, naming who presented it and the ended session', async () => {
      t = await build(options);
      const user = await createUser(t, { name: 'Ada' });
      const { stolen, current } = await stolenStateProof(user);
      const alert = sink.next(user.email, 'token-theft');
      const first = await renew(t.app, stolen).set(THIEF);
      expect(first.body).toMatchObject({ error_code: 'JTS-401-05' });
      for (let i = 0; i < 49; i++) await renew(t.app, stolen).set(THIEF).expect(401);
      // The owner's own, newer StateProof was of the same session: it is dead too, and mails nothing more.
      await renew(t.app, current.stateProof).set(OWNER).expect(401);

      const mail = await alert;
      expect(mail.parsed.subject).toBe('Security alert: a stolen session token was used — JTS Auth');
      const text = mail.parsed.text ?? '';
      expect(text).toContain('It was presented by: Chrome on Windows, network 198.51.100.x.');
      expect(text).toContain('We ended this session at once');
      expect(text).toMatch(/- Firefox on Linux, signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      expect(text).toContain('change your password');
      // Never the full address, never a secret: the only link is the app's.
      expect(text).not.toContain('198.51.100.23');
      expect(urlsIn(mail)).toEqual([PUBLIC_URL]);
      expect(mail.parsed.html).toContain('Chrome on Windows');
      await expect(leftOver(user.email, 'token-theft')).resolves.toEqual([]);
      expect(t.audits.filter((e) => e.event === 'replay.detected')).toHaveLength(1);
    });
  });

  it('names the presenter\'s IPv6 network as a /48', async () => {
    t = await build();
    const user = await createUser(t);
    const { stolen } = await stolenStateProof(user);
    const alert = sink.next(user.email, 'token-theft');
    await renew(t.app, stolen).set({ ...THIEF, 'X-Forwarded-For': '2001:db8:abcd:12::1' }).expect(401);
    expect((await alert).parsed.text).toContain('network 2001:db8:abcd::/48.');
  });

  it('lists the ended session to its owner as ended by token theft until JTS_ENDED_SESSIONS_LISTED_FOR has passed', async () => {
    t = await build({ env: { JTS_ENDED_SESSIONS_LISTED_FOR: '3600' } });
    const user = await createUser(t);
    const { stolen, current } = await stolenStateProof(user);
    const victimAid = (await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${current.bearerPass}`).expect(200)).body as SessionsBody;
    const aid = victimAid.sessions[0]?.aid;
    expect(victimAid.ended).toEqual([]);
    await renew(t.app, stolen).set(THIEF).expect(401);
    await t.email.idle();

    const again = await login(t.app, user.email, user.password, OWNER);
    const listed = (await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${again.bearerPass}`).expect(200)).body as SessionsBody;
    expect(listed.sessions.map((s) => s.aid)).not.toContain(aid);
    expect(listed.ended).toEqual([{ aid, device: 'Firefox on Linux', endedAt: new Date(t.clock.now()).toISOString(), reason: 'token_theft' }]);

    t.clock.advance(3_599_000);
    const later = await login(t.app, user.email, user.password, OWNER);
    expect(((await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${later.bearerPass}`).expect(200)).body as SessionsBody).ended).toHaveLength(1);
    t.clock.advance(2_000);
    const past = await login(t.app, user.email, user.password, OWNER);
    expect(((await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${past.bearerPass}`).expect(200)).body as SessionsBody).ended).toEqual([]);
  });

  it('with JTS_REPLAY_REVOKE=principal, mails once for every session the replay ended and lists each', async () => {
    t = await build({ env: { JTS_REPLAY_REVOKE: 'principal' } });
    const user = await createUser(t);
    await login(t.app, user.email, user.password, THIEF);
    const { stolen } = await stolenStateProof(user);
    const alert = sink.next(user.email, 'token-theft');
    await renew(t.app, stolen).set(THIEF).expect(401);
    const text = (await alert).parsed.text ?? '';
    expect(text).toContain('We ended these 2 sessions at once');
    // The other session's device comes from what this instance remembers of it.
    expect(text).toContain('- Firefox on Linux');
    expect(text).toContain('- Chrome on Windows');
    const again = await login(t.app, user.email, user.password, OWNER);
    const listed = (await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${again.bearerPass}`).expect(200)).body as SessionsBody;
    expect(listed.ended.map((e) => e.reason)).toEqual(['token_theft', 'token_theft']);
    expect(listed.ended.map((e) => e.device).sort()).toEqual(['Chrome on Windows', 'Firefox on Linux']);
    await expect(leftOver(user.email, 'token-theft')).resolves.toEqual([]);
  });

  // Bugs peers had (README, "Security notices"), tried on ours.
  describe('what peers got wrong', () => {
    it('mails once when twenty copies of a stolen StateProof arrive at once (duplicate notices, Portabase#81)', async () => {
      t = await build();
      const user = await createUser(t);
      const { stolen } = await stolenStateProof(user);
      const alert = sink.next(user.email, 'token-theft');
      const answers = await Promise.all(Array.from({ length: 20 }, () => renew(t.app, stolen).set(THIEF)));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 401));
      await alert;
      await expect(leftOver(user.email, 'token-theft')).resolves.toEqual([]);
      const again = await login(t.app, user.email, user.password, OWNER);
      expect(((await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${again.bearerPass}`).expect(200)).body as SessionsBody).ended).toHaveLength(1);
    });

    it('treats a StateProof used again inside the grace window as no theft: no mail, nothing listed (Supabase reuse interval)', async () => {
      t = await build();
      const user = await createUser(t);
      const signedIn = await login(t.app, user.email, user.password, OWNER);
      const renewed = await renewOk(t.app, signedIn.stateProof);
      t.clock.advance(5_000);
      await renew(t.app, signedIn.stateProof).set(OWNER).expect(200);
      await expect(leftOver(user.email, 'token-theft')).resolves.toEqual([]);
      expect(((await request(t.app).get('/jts/sessions').set('Authorization', `Bearer ${renewed.bearerPass}`).expect(200)).body as SessionsBody).ended).toEqual([]);
    });

    it('sends no "password changed" notice when a sign-in only rehashes the password (Nextcloud appstore#675)', async () => {
      t = await build();
      const user = await createUser(t, { password: 'caf\u00e9 au lait, bitte' });
      // A hash of the raw NFD text, as stored before passwords were normalised: the sign-in replaces it.
      await t.users.update(user.id, { passwordHash: await bcrypt.hash(user.password.normalize('NFD'), 4) }, t.clock.now());
      await login(t.app, user.email, user.password.normalize('NFD'));
      expect(t.audits).toContainEqual({ event: 'password.rehashed', prn: user.id });
      await expect(leftOver(user.email, 'password-changed')).resolves.toEqual([]);
    });

    it('sends one reset notice and no "password changed" notice on top for a reset (WooCommerce#66103)', async () => {
      t = await build();
      const user = await createUser(t);
      await request(t.app).post('/jts/password/forgot').set(CSRF).send({ email: user.email }).expect(202);
      const token = tokenOf(await sink.next(user.email), 'reset');
      await request(t.app).post('/jts/password/reset').set(CSRF).send({ token, newPassword: 'another good password' }).expect(200);
      await sink.next(user.email, 'password-reset-completed');
      await expect(leftOver(user.email, 'password-changed')).resolves.toEqual([]);
      await expect(leftOver(user.email, 'password-reset-completed')).resolves.toEqual([]);
    });
  });

  describe('account-change notices', () => {
    it('mails "password changed" once, without a link or code', async () => {
      t = await build();
      const user = await createUser(t);
      await login(t.app, user.email, user.password);
      const { bearerPass } = await login(t.app, user.email, user.password);
      const notice = sink.next(user.email, 'password-changed');
      await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${bearerPass}`).send({ currentPassword: user.password, newPassword: 'another good password' }).expect(200);
      const mail = await notice;
      expect(mail.parsed.subject).toBe('Your password was changed — JTS Auth');
      expect(mail.parsed.text).toContain('One other session was signed out.');
      expect(urlsIn(mail)).toEqual([PUBLIC_URL]);
      expect(mail.parsed.text).not.toMatch(/\d{6}/);
      await expect(leftOver(user.email, 'password-changed')).resolves.toEqual([]);
    });

    it('mails "password reset" once after a reset link was used, without a link or code', async () => {
      t = await build();
      const user = await createUser(t);
      await request(t.app).post('/jts/password/forgot').set(CSRF).send({ email: user.email }).expect(202);
      const token = tokenOf(await sink.next(user.email), 'reset');
      const notice = sink.next(user.email, 'password-reset-completed');
      await request(t.app).post('/jts/password/reset').set(CSRF).send({ token, newPassword: 'another good password' }).expect(200);
      const mail = await notice;
      expect(mail.parsed.subject).toBe('Your password was reset — JTS Auth');
      expect(urlsIn(mail)).toEqual([PUBLIC_URL]);
      expect(mail.parsed.text).not.toContain(token);
      await expect(leftOver(user.email, 'password-reset-completed')).resolves.toEqual([]);
      // A refused second use of the link mails nothing.
      await request(t.app).post('/jts/password/reset').set(CSRF).send({ token, newPassword: 'yet another password' }).expect(400);
      await expect(leftOver(user.email, 'password-reset-completed')).resolves.toEqual([]);
    });

    it('mails "email verified" once, without a link or code', async () => {
      t = await build({ env: { JTS_EMAIL_VERIFICATION: 'optional' } });
      const user = await createUser(t, { emailVerified: false });
      const { bearerPass } = await login(t.app, user.email, user.password);
      await request(t.app).post('/jts/email/verify/resend').set(CSRF).set('Authorization', `Bearer ${bearerPass}`).expect(202);
      const token = tokenOf(await sink.next(user.email), 'verify');
      const notice = sink.next(user.email, 'email-verified');
      await request(t.app).post('/jts/email/verify').set(CSRF).set('Authorization', `Bearer ${bearerPass}`).send({ token }).expect(200);
      const mail = await notice;
      expect(mail.parsed.subject).toBe('Your email address was verified — JTS Auth');
      expect(urlsIn(mail)).toEqual([PUBLIC_URL]);
      expect(mail.parsed.text).not.toContain(token);
      await request(t.app).post('/jts/email/verify').set(CSRF).send({ token }).expect(400);
      await expect(leftOver(user.email, 'email-verified')).resolves.toEqual([]);
    });
  });
});
