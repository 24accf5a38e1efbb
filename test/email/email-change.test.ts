import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, profile, renewOk, type Credentials } from '../support/http';
import { kindOf, notMeTokenOf, SmtpSink, tokenOf, type ReceivedMail } from '../support/smtp-sink';
import type { AccountsKind } from '../support/accounts';

const PUBLIC_URL = 'https://app.example';
const ACCEPTED = { success: true, message: 'Unless the address is taken, a link to confirm it is on its way there. Your address stays as it is until then.' };

/** The token of the confirmation link (`#email-change=…`). */
function changeTokenOf(mail: ReceivedMail): string {
  const match = /#email-change=([A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '');
  if (!match?.[1]) throw new Error(`no email-change link in the mail: ${mail.parsed.text ?? ''}`);
  return match[1];
}

const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}@example.com`;

describe.each<[AccountsKind]>([['postgres'], ['pglite']])('changing the address (real SMTP, Redis, %s)', (accounts) => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts, env: { ...sink.mailEnv, PUBLIC_URL } });
  });
  afterEach(async () => {
    await t.close();
  });

  const asUser = (path: string, bearerPass: string, body: object) => request(t.app).post(path).set(CSRF).set('Authorization', `Bearer ${bearerPass}`).send(body);
  const requestChange = (session: Credentials, newEmail: string) => asUser('/jts/account/email', session.bearerPass, { newEmail });
  const confirm = (session: Credentials, token: string) => asUser('/jts/account/email/confirm', session.bearerPass, { token });

  /** A verified account signed in just now, and the token of a change of it to `newEmail`. */
  async function pendingChange(newEmail = unique('new')) {
    const user = await createUser(t, { emailVerified: true, name: 'Ada' });
    const session = await login(t.app, user.email, user.password);
    // The mail goes to the address as stored: trimmed and lower-cased.
    const mail = sink.next(newEmail.trim().toLowerCase());
    const res = await requestChange(session, newEmail);
    expect(res.status).toBe(202);
    return { user, session, newEmail, mail: await mail, token: changeTokenOf(await mail) };
  }

  /** Mails of `kind` to `to` that arrived and were not taken, once every accepted mail has left. */
  async function leftOver(to: string, kind?: string): Promise<ReceivedMail[]> {
    await t.email.idle();
    await new Promise((resolve) => setTimeout(resolve, 150));
    return sink.received.filter((m) => m.envelope.to.includes(to) && (kind === undefined || kindOf(m) === kind));
  }

  it('mails a link to the new address; confirmed from the session, the address changes, sign-in follows it, and the old address is told with a way back', async () => {
    const { user, session, newEmail, mail, token } = await pendingChange(`  ${unique('Ada.New').toUpperCase()} `);
    const normalised = newEmail.trim().toLowerCase();
    expect(mail.envelope.to).toEqual([normalised]);
    expect(kindOf(mail)).toBe('email-change');
    expect(mail.parsed.subject).toBe('Confirm your new email address — JTS Auth');
    expect(mail.parsed.html).toContain(`href="${PUBLIC_URL}/#email-change=`);
    // Nothing changes before the new mailbox answers.
    expect((await profile(t.app, session.bearerPass)).body).toMatchObject({ email: user.email });
    await login(t.app, user.email, user.password);

    const notice = sink.next(user.email, 'email-changed');
    const res = await confirm(session, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, email: normalised, emailVerified: true });
    expect(res.headers['cache-control']).toContain('no-store');

    // The mirror serves the profile: it follows at once.
    expect((await profile(t.app, session.bearerPass)).body).toMatchObject({ email: normalised });
    const stored = await t.users.findByEmail(normalised);
    expect(stored).toMatchObject({ id: user.id, email: normalised, emailVerified: true });
    expect(await t.users.findByEmail(user.email)).toBeUndefined();
    await login(t.app, normalised, user.password);
    const old = await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password });
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ error: 'invalid_credentials' });
    // The session that changed it (and any other) lives on: no credential changed.
    await renewOk(t.app, session.stateProof);

    const told = await notice;
    expect(told.parsed.subject).toBe('Your email address was changed — JTS Auth');
    const text = told.parsed.text ?? '';
    // The new address masked, and no link but the way back.
    expect(text).toContain(`to ${normalised.slice(0, 2)}***@example.com`);
    expect(text).not.toContain(normalised);
    expect(text.match(/https?:\/\/\S+/g)).toEqual([expect.stringMatching(new RegExp(`^${PUBLIC_URL}/#not-me=[A-Za-z0-9_-]{43}$`))]);
    expect(told.parsed.html).toContain("This wasn't me");
    expect(t.audits).toEqual(expect.arrayContaining([{ event: 'email.changed', prn: user.id, via: 'link' }]));
    // No audit line names an address.
    expect(JSON.stringify(t.audits)).not.toContain(normalised);
  });

  it('refuses a sign-in older than JTS_FRESH_AUTH_MAX_AGE with the step-up challenge, mails nothing, and accepts after POST /jts/reauth', async () => {
    const user = await createUser(t, { emailVerified: true });
    const signedIn = await login(t.app, user.email, user.password);
    t.clock.advance(301_000);
    const stale = await renewOk(t.app, signedIn.stateProof);
    const newEmail = unique('late');
    const res = await requestChange(stale, newEmail);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'insufficient_user_authentication', action: 'reauth' });
    expect(res.headers['www-authenticate']).toContain('max_age="300"');
    await expect(leftOver(newEmail)).resolves.toEqual([]);

    const stepped = await asUser('/jts/reauth', stale.bearerPass, { password: user.password });
    expect(stepped.status).toBe(200);
    const mail = sink.next(newEmail);
    expect((await requestChange({ ...stale, bearerPass: (stepped.body as { bearerPass: string }).bearerPass }, newEmail)).status).toBe(202);
    expect(kindOf(await mail)).toBe('email-change');
  });

  it('answers a taken address exactly as a free one; its owner is told someone tried, and no link exists', async () => {
    const holder = await createUser(t, { emailVerified: true, name: 'Holder' });
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password);

    const freeAddress = unique('free');
    const freeMail = sink.next(freeAddress);
    const free = await requestChange(session, freeAddress);
    await freeMail;
    const notice = sink.next(holder.email, 'email-change-taken');
    const taken = await requestChange(session, holder.email.toUpperCase());
    expect([taken.status, taken.body]).toEqual([free.status, free.body]);
    expect(taken.body).toEqual(ACCEPTED);

    const told = await notice;
    expect(told.parsed.subject).toBe('Someone tried to use your email address — JTS Auth');
    expect(told.parsed.text).toContain('Hello Holder');
    expect(told.parsed.text).not.toMatch(/#(email-change|not-me|reset)=/);
    expect(told.parsed.text).not.toContain(user.email);
    // No flow mail to the holder, and the holder's account is untouched.
    await expect(leftOver(holder.email, 'email-change')).resolves.toEqual([]);
    expect(await t.users.findByEmail(holder.email)).toMatchObject({ id: holder.id });
    expect(t.audits).toEqual(expect.arrayContaining([{ event: 'challenge.skipped', purpose: 'email-change', reason: 'email_taken' }]));
  });

  it("refuses the account's own address", async () => {
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password);
    const res = await requestChange(session, ` ${user.email.toUpperCase()}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', message: 'This is already the address of your account.' });
  });

  it('validates newEmail as registration validates email', async () => {
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password);
    expect((await requestChange(session, 'not an address')).body).toMatchObject({ error: 'invalid_request', message: '`newEmail` must be an email address' });
    expect((await asUser('/jts/account/email', session.bearerPass, {})).body).toMatchObject({ error: 'invalid_request', message: '`newEmail` is required' });
  });

  it('uses a link once: a replay is token_used and changes nothing', async () => {
    const { session, token, newEmail } = await pendingChange();
    expect((await confirm(session, token)).status).toBe(200);
    const replay = await confirm(session, token);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: 'token_used' });
    expect(await t.users.findByEmail(newEmail)).toBeDefined();
  });

  it('has exactly one winner among concurrent confirms of one link', async () => {
    const { session, token, user, newEmail } = await pendingChange();
    const answers = await Promise.all(Array.from({ length: 6 }, () => confirm(session, token)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    expect(answers.filter((a) => a.status === 400).map((a) => (a.body as { error: string }).error)).toEqual(Array(5).fill('token_used'));
    expect(await t.users.findByEmail(newEmail)).toMatchObject({ id: user.id });
    // One notice to the old address, not one per attempt.
    await expect(leftOver(user.email, 'email-changed')).resolves.toHaveLength(1);
  });

  it('gives one address to one account when two confirm it at once: the other is 409 email_taken and keeps its address', async () => {
    const contested = unique('contested');
    const a = await createUser(t, { emailVerified: true });
    const b = await createUser(t, { emailVerified: true });
    const sessionA = await login(t.app, a.email, a.password);
    const sessionB = await login(t.app, b.email, b.password);
    const first = sink.next(contested);
    await requestChange(sessionA, contested);
    const tokenA = changeTokenOf(await first);
    const second = sink.next(contested);
    await requestChange(sessionB, contested);
    const tokenB = changeTokenOf(await second);

    const [answerA, answerB] = await Promise.all([confirm(sessionA, tokenA), confirm(sessionB, tokenB)]);
    const statuses = [answerA.status, answerB.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = answerA.status === 409 ? { answer: answerA, user: a } : { answer: answerB, user: b };
    expect(loser.answer.body).toMatchObject({ error: 'email_taken' });
    expect(await t.users.get(loser.user.id)).toMatchObject({ email: loser.user.email });
    expect((await t.users.findByEmail(contested))?.id).toBe(answerA.status === 200 ? a.id : b.id);
    // The loser's mirror still serves its own address.
    expect((await profile(t.app, loser.user === a ? sessionA.bearerPass : sessionB.bearerPass)).body).toMatchObject({ email: loser.user.email });
  });

  it('does not reserve the address: registered by someone else meanwhile, the confirmation is 409 email_taken and nothing changes', async () => {
    const { user, session, token, newEmail } = await pendingChange();
    const registered = await request(t.app).post('/jts/register').set(CSRF).send({ email: newEmail, password: 'someone else entirely', name: 'Eve' });
    expect(registered.status).toBe(201);
    const res = await confirm(session, token);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'email_taken' });
    expect(await t.users.get(user.id)).toMatchObject({ email: user.email });
    await expect(leftOver(user.email, 'email-changed')).resolves.toEqual([]);
    expect(t.audits).toEqual(expect.arrayContaining([{ event: 'email.change_refused', prn: user.id, reason: 'email_taken', via: 'link' }]));
  });

  it('does nothing for a session of another account (the link stays usable by its own)', async () => {
    const { session, token, user } = await pendingChange();
    const other = await createUser(t, { emailVerified: true });
    const otherSession = await login(t.app, other.email, other.password);
    const res = await confirm(otherSession, token);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'token_invalid' });
    expect(await t.users.get(other.id)).toMatchObject({ email: other.email });
    expect((await confirm(session, token)).status).toBe(200);
    expect(await t.users.get(user.id)).not.toMatchObject({ email: user.email });
    // Without any session the link is refused before it is looked at.
    expect((await request(t.app).post('/jts/account/email/confirm').set(CSRF).send({ token })).status).toBe(401);
  });

  it('keeps only the latest request alive', async () => {
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password);
    const [first, second] = [unique('first'), unique('second')];
    const firstMail = sink.next(first);
    await requestChange(session, first);
    const firstToken = changeTokenOf(await firstMail);
    const secondMail = sink.next(second);
    await requestChange(session, second);
    const secondToken = changeTokenOf(await secondMail);
    expect((await confirm(session, firstToken)).body).toMatchObject({ error: 'token_used' });
    expect((await confirm(session, secondToken)).body).toMatchObject({ email: second });
  });

  it('dies with a password change', async () => {
    const { user, session, token } = await pendingChange();
    const changed = await asUser('/jts/password', session.bearerPass, { currentPassword: user.password, newPassword: 'another long password' });
    expect(changed.status).toBe(200);
    const res = await confirm(session, token);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'token_voided' });
    expect(await t.users.get(user.id)).toMatchObject({ email: user.email });
  });

  it('ends the links and codes mailed to the old address', async () => {
    const { user, session, token } = await pendingChange();
    const reset = sink.next(user.email);
    await request(t.app).post('/jts/password/forgot').set(CSRF).send({ email: user.email });
    const resetToken = tokenOf(await reset, 'reset');
    expect((await confirm(session, token)).status).toBe(200);
    const res = await request(t.app).post('/jts/password/reset').set(CSRF).send({ token: resetToken, newPassword: 'the mailbox I lost' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'token_used' });
  });

  it("lets the old address undo the change: \"this wasn't me\" restores it, ends every session and voids the password", async () => {
    const { user, session, token, newEmail } = await pendingChange();
    const notice = sink.next(user.email, 'email-changed');
    expect((await confirm(session, token)).status).toBe(200);
    const notMe = notMeTokenOf(await notice);

    const res = await request(t.app).post('/jts/not-me').set(CSRF).send({ token: notMe });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, revokedSessions: 1, resetToken: expect.any(String) as string });
    expect(await t.users.get(user.id)).toMatchObject({ email: user.email, emailVerified: true });
    expect(await t.users.findByEmail(newEmail)).toBeUndefined();
    expect((await profile(t.app, session.bearerPass)).status).toBe(401);
    const reset = await request(t.app).post('/jts/password/reset').set(CSRF).send({ token: (res.body as { resetToken: string }).resetToken, newPassword: 'mine again, for good' });
    expect(reset.status).toBe(200);
    await login(t.app, user.email, 'mine again, for good');
    expect(t.audits).toEqual(expect.arrayContaining([{ event: 'email.changed', prn: user.id, via: 'not_me' }]));
  });

  it('gives an unverified old address no way back (it may be a typo or someone else’s mailbox)', async () => {
    const user = await createUser(t, { emailVerified: false });
    const session = await login(t.app, user.email, user.password);
    const newEmail = unique('fixed');
    const mail = sink.next(newEmail);
    await requestChange(session, newEmail);
    const notice = sink.next(user.email, 'email-changed');
    expect((await confirm(session, changeTokenOf(await mail))).status).toBe(200);
    const text = (await notice).parsed.text ?? '';
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).toContain('never verified');
  });
});
