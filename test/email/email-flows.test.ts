import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, profile, renew, stateProofFrom } from '../support/http';
import { codeOf, SmtpSink, tokenOf } from '../support/smtp-sink';

const MINUTE = 60_000;

/** The error body of a refused request, exactly. */
const refused = (error: string, message: string) => ({ error, message, action: 'none', timestamp: expect.any(Number) as number });

describe('email flows over real SMTP, PostgreSQL and Redis', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example' } });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object) => request(t.app).post(path).set(CSRF).send(body);

  async function resetLinkFor(email: string): Promise<string> {
    const mail = sink.next(email);
    expect((await post('/jts/password/forgot', { email })).status).toBe(202);
    return tokenOf(await mail, 'reset');
  }

  describe('password reset', () => {
    it('mails a link with the token in the fragment; the reset ends every session and the new password works', async () => {
      const user = await createUser(t);
      const first = await login(t.app, user.email, user.password);
      const second = await login(t.app, user.email, user.password);
      const mail = sink.next(user.email);
      const res = await post('/jts/password/forgot', { email: user.email });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ success: true, message: 'If an account uses this address, a mail is on its way.' });
      const received = await mail;
      expect(received.envelope).toEqual({ from: 'auth@example.com', to: [user.email] });
      expect(received.parsed.subject).toBe('Reset your password — JTS Auth');
      expect(received.parsed.text).toMatch(/https:\/\/app\.example\/#reset=[A-Za-z0-9_-]{43}\n/);
      expect(received.parsed.html).toContain('href="https://app.example/#reset=');
      const token = tokenOf(received, 'reset');

      const reset = await post('/jts/password/reset', { token, newPassword: 'a brand new password' });
      expect(reset.status).toBe(200);
      expect(reset.body).toEqual({ success: true, revokedSessions: 2 });
      expect((await profile(t.app, first.bearerPass)).status).toBe(401);
      expect((await renew(t.app, second.stateProof)).status).toBe(401);
      expect((await post('/jts/login', { email: user.email, password: user.password })).status).toBe(401);
      await login(t.app, user.email, 'a brand new password');
      expect(t.audits.map((a) => a.event)).toEqual(expect.arrayContaining(['challenge.issued', 'challenge.consumed', 'password.reset']));
    });

    it('answers an unknown email exactly as a known one, and mails nothing', async () => {
      const known = await createUser(t);
      const a = await post('/jts/password/forgot', { email: 'nobody@example.com' });
      const b = await post('/jts/password/forgot', { email: known.email });
      expect(a.status).toBe(b.status);
      expect(a.body).toEqual({ ...b.body });
      expect(a.headers['content-length']).toBe(b.headers['content-length']);
      await t.email.idle();
      await sink.next(known.email);
      expect(sink.received.filter((m) => m.envelope.to.includes('nobody@example.com'))).toEqual([]);
      expect(t.audits).toContainEqual({ event: 'challenge.skipped', purpose: 'reset-password', reason: 'unknown_email' });
    });

    it('refuses a used link with token_used', async () => {
      const user = await createUser(t);
      const token = await resetLinkFor(user.email);
      expect((await post('/jts/password/reset', { token, newPassword: 'first new password' })).status).toBe(200);
      const again = await post('/jts/password/reset', { token, newPassword: 'second new password' });
      expect(again.status).toBe(400);
      expect(again.body).toEqual(refused('token_used', 'This link was already used or replaced by a newer one; ask for a new one.'));
    });

    it('refuses an expired link with token_expired (the clock moved 30 minutes)', async () => {
      const user = await createUser(t);
      const token = await resetLinkFor(user.email);
      t.clock.advance(30 * MINUTE);
      const res = await post('/jts/password/reset', { token, newPassword: 'a brand new password' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(refused('token_expired', 'This link has expired; ask for a new one.'));
    });

    it('refuses a link voided by a password change with token_voided', async () => {
      const user = await createUser(t);
      const token = await resetLinkFor(user.email);
      const session = await login(t.app, user.email, user.password);
      const change = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).send({ currentPassword: user.password, newPassword: 'changed meanwhile' });
      expect(change.status).toBe(200);
      const res = await post('/jts/password/reset', { token, newPassword: 'a brand new password' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(refused('token_voided', 'The password changed after this link was sent; ask for a new one.'));
    });

    it('refuses a tampered link, and a verification link used for a reset, with token_invalid', async () => {
      const user = await createUser(t);
      const token = await resetLinkFor(user.email);
      const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      for (const bad of [tampered, token.slice(1), `${token}=`, 'x']) {
        const res = await post('/jts/password/reset', { token: bad, newPassword: 'a brand new password' });
        expect(res.status).toBe(400);
        expect(res.body).toEqual(refused('token_invalid', 'This link is not valid; ask for a new one.'));
      }
      const verify = await post('/jts/email/verify', { token });
      expect(verify.body).toEqual(refused('token_invalid', 'This link is not valid; ask for a new one.'));
      // Neither spent the real link.
      expect((await post('/jts/password/reset', { token, newPassword: 'a brand new password' })).status).toBe(200);
    });

    it('applies the password policy before looking at the token', async () => {
      const res = await post('/jts/password/reset', { token: 'x', newPassword: 'short' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(refused('invalid_request', 'The password needs at least 8 characters.'));
    });

    it('gives one of two concurrent resets with the same link the password', async () => {
      const user = await createUser(t);
      const token = await resetLinkFor(user.email);
      const answers = await Promise.all([post('/jts/password/reset', { token, newPassword: 'racer number one' }), post('/jts/password/reset', { token, newPassword: 'racer number two' })]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
    });

    it('keeps only the newest link alive: an older one is token_used', async () => {
      const user = await createUser(t);
      const older = await resetLinkFor(user.email);
      const newer = await resetLinkFor(user.email);
      expect((await post('/jts/password/reset', { token: older, newPassword: 'a brand new password' })).body).toMatchObject({ error: 'token_used' });
      expect((await post('/jts/password/reset', { token: newer, newPassword: 'a brand new password' })).status).toBe(200);
    });
  });

  describe('bad input', () => {
    it.each([
      ['a missing email', {}, '`email` is required'],
      ['a malformed email', { email: 'not an address' }, '`email` must be an email address'],
      ['a huge email', { email: `${'a'.repeat(250)}@example.com` }, '`email` must be at most 254 characters'],
      ['an email with CR/LF (header injection)', { email: 'victim@example.com\r\nBcc: evil@example.com' }, '`email` must be an email address'],
    ])('answers %s on /jts/password/forgot with 400', async (_name, body, message) => {
      const res = await post('/jts/password/forgot', body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(refused('invalid_request', message));
    });

    it('needs the CSRF header', async () => {
      const res = await request(t.app).post('/jts/password/forgot').send({ email: 'a@example.com' });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'csrf_missing' });
    });

    it('keeps a name with CR/LF out of the headers: one recipient, the name flattened and escaped', async () => {
      const user = await createUser(t, { name: 'Eve\r\nBcc: evil@example.com\r\n<script>x</script>' });
      const mail = sink.next(user.email);
      await post('/jts/password/forgot', { email: user.email });
      const received = await mail;
      expect(received.envelope.to).toEqual([user.email]);
      expect(received.parsed.bcc).toBeUndefined();
      expect(received.raw).not.toMatch(/^Bcc:/im);
      expect(received.parsed.text).toContain('Hello Eve Bcc: evil@example.com <script>x</script>,');
      expect(received.parsed.html).toContain('Hello Eve Bcc: evil@example.com &#60;script&#62;x&#60;/script&#62;,');
    });
  });

  describe('email verification', () => {
    it('mails a link after registration; opening it verifies the address', async () => {
      const mail = sink.next('new.user@example.com');
      const registered = await post('/jts/register', { email: 'New.User@example.com', password: 'correct horse battery', name: 'New' });
      expect(registered.status).toBe(201);
      const token = tokenOf(await mail, 'verify');
      const res = await post('/jts/email/verify', { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, emailVerified: true, passwordReset: 'required' });
      await expect(t.users.findByEmail('new.user@example.com')).resolves.toMatchObject({ emailVerified: true });
      expect((await post('/jts/email/verify', { token })).body).toEqual(refused('token_used', 'This link was already used or replaced by a newer one; ask for a new one.'));
    });

    it('resends a link to a signed-in user (BearerPass), and nothing once verified', async () => {
      const user = await createUser(t);
      const session = await login(t.app, user.email, user.password);
      const mail = sink.next(user.email);
      const res = await request(t.app).post('/jts/email/verify/resend').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`);
      expect(res.status).toBe(202);
      const verified = await post('/jts/email/verify', { token: tokenOf(await mail, 'verify') }).set('Authorization', `Bearer ${session.bearerPass}`);
      expect(verified.body).toEqual({ success: true, emailVerified: true, passwordReset: 'not_required' });
      await request(t.app).post('/jts/email/verify/resend').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).expect(202);
      await t.email.idle();
      expect(t.audits).toContainEqual({ event: 'challenge.skipped', purpose: 'verify-email', reason: 'already_verified' });
      expect((await request(t.app).post('/jts/email/verify/resend').set(CSRF)).status).toBe(401);
    });

    describe('pre-hijacking: someone registered the address before its owner', () => {
      /** The squatter registers the victim's address with a password of their own and stays signed in. */
      async function squat(): Promise<{ registered: { bearerPass: string; stateProof: string }; again: { bearerPass: string; stateProof: string }; token: string }> {
        const mail = sink.next('victim@example.com');
        const res = await post('/jts/register', { email: 'victim@example.com', password: 'squatter password', name: 'Victim' });
        expect(res.status).toBe(201);
        const registered = { bearerPass: (res.body as { bearerPass: string }).bearerPass, stateProof: stateProofFrom(res) ?? '' };
        const again = await login(t.app, 'victim@example.com', 'squatter password');
        return { registered, again, token: tokenOf(await mail, 'verify') };
      }

      it('a link opened without the account\'s BearerPass voids the password and ends every session', async () => {
        const { registered, again, token } = await squat();
        const res = await post('/jts/email/verify', { token });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ success: true, emailVerified: true, passwordReset: 'required' });
        for (const session of [registered, again]) {
          expect((await profile(t.app, session.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-04' });
          expect((await renew(t.app, session.stateProof)).status).toBe(401);
        }
        expect((await post('/jts/login', { email: 'victim@example.com', password: 'squatter password' })).body).toMatchObject({ error: 'invalid_credentials' });
        // The owner takes the account over with "forgot password".
        const reset = await resetLinkFor('victim@example.com');
        expect((await post('/jts/password/reset', { token: reset, newPassword: 'the owner password' })).status).toBe(200);
        await login(t.app, 'victim@example.com', 'the owner password');
      });

      it('so does a resent link, and a BearerPass of another account changes nothing', async () => {
        const { registered, again } = await squat();
        const other = await createUser(t);
        const otherSession = await login(t.app, other.email, other.password);
        const mail = sink.next('victim@example.com');
        await request(t.app).post('/jts/email/verify/resend').set(CSRF).set('Authorization', `Bearer ${registered.bearerPass}`).expect(202);
        const token = tokenOf(await mail, 'verify');
        const res = await post('/jts/email/verify', { token }).set('Authorization', `Bearer ${otherSession.bearerPass}`);
        expect(res.body).toEqual({ success: true, emailVerified: true, passwordReset: 'required' });
        expect((await renew(t.app, again.stateProof)).status).toBe(401);
        expect((await post('/jts/login', { email: 'victim@example.com', password: 'squatter password' })).status).toBe(401);
        // The other account's session is untouched.
        expect((await profile(t.app, otherSession.bearerPass)).status).toBe(200);
      });

      it('the registrant verifying with their own BearerPass keeps password and sessions', async () => {
        const { registered, again, token } = await squat();
        const res = await post('/jts/email/verify', { token }).set('Authorization', `Bearer ${registered.bearerPass}`);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ success: true, emailVerified: true, passwordReset: 'not_required' });
        expect((await profile(t.app, registered.bearerPass)).status).toBe(200);
        expect((await renew(t.app, again.stateProof)).status).toBe(200);
        await login(t.app, 'victim@example.com', 'squatter password');
        await expect(t.users.findByEmail('victim@example.com')).resolves.toMatchObject({ emailVerified: true, credentialEpoch: 0 });
      });

      it('a presented BearerPass that is not valid is refused as anywhere and does not spend the link', async () => {
        const { registered, token } = await squat();
        const malformed = await post('/jts/email/verify', { token }).set('Authorization', 'Bearer not.a.pass');
        expect(malformed.status).toBe(400);
        expect(malformed.body).toMatchObject({ error_code: 'JTS-400-01' });
        await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${registered.stateProof}`).expect(200);
        const ended = await post('/jts/email/verify', { token }).set('Authorization', `Bearer ${registered.bearerPass}`);
        expect(ended.body).toMatchObject({ error_code: 'JTS-401-04' });
        expect((await post('/jts/email/verify', { token })).status).toBe(200);
      });

      it('a second link after the address is verified changes nothing', async () => {
        const { registered, token } = await squat();
        const mail = sink.next('victim@example.com');
        await request(t.app).post('/jts/email/verify/resend').set(CSRF).set('Authorization', `Bearer ${registered.bearerPass}`).expect(202);
        const second = tokenOf(await mail, 'verify');
        // The resend replaced the first link; the second, opened with the registrant's session, verifies.
        expect((await post('/jts/email/verify', { token })).body).toMatchObject({ error: 'token_used' });
        expect((await post('/jts/email/verify', { token: second }).set('Authorization', `Bearer ${registered.bearerPass}`)).body).toMatchObject({ passwordReset: 'not_required' });
        expect((await profile(t.app, registered.bearerPass)).status).toBe(200);
      });
    });

    it('refuses an expired verification link after 24 hours', async () => {
      const user = await createUser(t);
      const session = await login(t.app, user.email, user.password);
      const mail = sink.next(user.email);
      await request(t.app).post('/jts/email/verify/resend').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).expect(202);
      const token = tokenOf(await mail, 'verify');
      t.clock.advance(24 * 60 * MINUTE);
      expect((await post('/jts/email/verify', { token })).body).toEqual(refused('token_expired', 'This link has expired; ask for a new one.'));
    });
  });

  describe('sign-in by emailed code', () => {
    async function codeFor(email: string): Promise<string> {
      const mail = sink.next(email);
      expect((await post('/jts/login/code', { email })).status).toBe(202);
      return codeOf(await mail);
    }

    it('answers a right code exactly as a password login, and verifies the address', async () => {
      const user = await createUser(t);
      const code = await codeFor(user.email);
      const res = await post('/jts/login/code/verify', { email: user.email, code });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ bearerPass: expect.any(String), expiresIn: 300, tokenType: 'Bearer' });
      expect(([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]).toMatch(/^jts_state_proof=sp1\./);
      expect((await profile(t.app, (res.body as { bearerPass: string }).bearerPass)).status).toBe(200);
      await expect(t.users.get(user.id)).resolves.toMatchObject({ emailVerified: true });
      expect((await post('/jts/login/code/verify', { email: user.email, code })).body).toEqual(refused('code_invalid', 'The code is wrong or no longer valid.'));
    });

    it('takes an unverified account away from whoever registered it: the first code sign-in voids their password and sessions', async () => {
      // The attacker registers the victim's address with a password of their own (pre-hijacking).
      const squatter = await createUser(t);
      const squatted = await login(t.app, squatter.email, squatter.password);
      const code = await codeFor(squatter.email);
      expect((await post('/jts/login/code/verify', { email: squatter.email, code })).status).toBe(200);
      // The squatter's session and password no longer work; the owner's new session does.
      expect((await profile(t.app, squatted.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-04' });
      expect((await request(t.app).post('/jts/login').set(CSRF).send({ email: squatter.email, password: squatter.password })).status).toBe(401);
      await expect(t.users.get(squatter.id)).resolves.toMatchObject({ emailVerified: true, credentialEpoch: 1 });
      // Once verified, a code sign-in changes nothing more.
      const again = await codeFor(squatter.email);
      expect((await post('/jts/login/code/verify', { email: squatter.email, code: again })).status).toBe(200);
      await expect(t.users.get(squatter.id)).resolves.toMatchObject({ credentialEpoch: 1 });
    });

    it('voids an outstanding code and verification link when the password changes (as supabase/auth#1489 does for its OTPs)', async () => {
      const user = await createUser(t);
      const session = await login(t.app, user.email, user.password);
      const code = await codeFor(user.email);
      const verifyMail = sink.next(user.email);
      await request(t.app).post('/jts/email/verify/resend').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).expect(202);
      const link = tokenOf(await verifyMail, 'verify');
      const change = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).send({ currentPassword: user.password, newPassword: 'changed meanwhile' });
      expect(change.status).toBe(200);
      expect((await post('/jts/login/code/verify', { email: user.email, code })).body).toEqual(refused('code_invalid', 'The code is wrong or no longer valid.'));
      expect((await post('/jts/email/verify', { token: link })).body).toEqual(refused('token_voided', 'The password changed after this link was sent; ask for a new one.'));
    });

    it('kills a code after five wrong guesses: the right one then fails too', async () => {
      const user = await createUser(t);
      const code = await codeFor(user.email);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i++) {
        const res = await post('/jts/login/code/verify', { email: user.email, code: wrong });
        expect(res.status).toBe(401);
        expect(res.body).toEqual(refused('code_invalid', 'The code is wrong or no longer valid.'));
      }
      expect((await post('/jts/login/code/verify', { email: user.email, code })).status).toBe(401);
    });

    it('refuses a code after its 10 minutes, and for an unknown email, with the same answer', async () => {
      const user = await createUser(t);
      const code = await codeFor(user.email);
      t.clock.advance(10 * MINUTE);
      expect((await post('/jts/login/code/verify', { email: user.email, code })).body).toEqual(refused('code_invalid', 'The code is wrong or no longer valid.'));
      expect((await post('/jts/login/code/verify', { email: 'nobody@example.com', code })).body).toEqual(refused('code_invalid', 'The code is wrong or no longer valid.'));
    });

    it('refuses a code that is not six digits with 400', async () => {
      const res = await post('/jts/login/code/verify', { email: 'a@example.com', code: '12345' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(refused('invalid_request', '`code` must be 6 digits'));
    });

    it('stores the code only as a keyed hash', async () => {
      const user = await createUser(t);
      const code = await codeFor(user.email);
      const rows = await t.database!.db.selectFrom('challenges').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(code);
    });
  });

  it('never logs a token or a code', async () => {
    const user = await createUser(t);
    const mail = sink.next(user.email);
    await post('/jts/password/forgot', { email: user.email });
    const token = tokenOf(await mail, 'reset');
    await post('/jts/password/reset', { token, newPassword: 'a brand new password' });
    const codeMail = sink.next(user.email);
    await post('/jts/login/code', { email: user.email });
    const code = codeOf(await codeMail);
    await post('/jts/login/code/verify', { email: user.email, code });
    const log = t.logLines.join('');
    expect(log).not.toContain(token);
    expect(log).not.toContain(`"${code}"`);
  });
});
