import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, profile, renew, stateProofFrom } from '../support/http';
import { SmtpSink, tokenOf } from '../support/smtp-sink';

/** Sign-ins sent just before the reset, and again just after it answered. */
const LEAD = 4;
/** Per round, every sign-in's status, in the order sent (printed at the end: the interleavings seen). */
const statuses: number[][] = [];
const ROUNDS = 8;

/**
 * Issue 17, "a reset racing a login with the old password": sign-ins with the old password run
 * while the reset is answered. Whatever order they land in, no session opened with the old
 * password outlives the reset (neither its BearerPass nor its StateProof works), and the old
 * password is refused from then on.
 */
describe('password reset racing sign-ins with the old password (PostgreSQL, Redis, real SMTP)', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
    // Which sign-ins won: 200s after 401s in one round mean some sessions opened while the reset ran.
    process.stdout.write(`reset race statuses per round:\n${statuses.map((round) => round.join(' ')).join('\n')}\n`);
  });
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts: 'postgres', env: { ...sink.mailEnv, PUBLIC_URL: 'https://app.example' } });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object) => request(t.app).post(path).set(CSRF).send(body);

  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(`round %i: sign-ins before, during and after one reset leave no old-password session alive`, async () => {
    const user = await createUser(t);
    const mail = sink.next(user.email);
    expect((await post('/jts/password/forgot', { email: user.email })).status).toBe(202);
    const token = tokenOf(await mail, 'reset');

    // Sign-ins start one every millisecond or two from just before the reset is sent until just
    // after it answered, so some read the old password before the write and open their session
    // after it; each one's answer is kept.
    const signIns: Promise<request.Response>[] = [];
    const signIn = () => signIns.push(post('/jts/login', { email: user.email, password: user.password }).then((res) => res));
    for (let i = 0; i < LEAD; i++) signIn();
    const progress = { answered: false };
    const reset = post('/jts/password/reset', { token, newPassword: 'the new password' }).then((res) => {
      progress.answered = true;
      return res;
    });
    while (!progress.answered) {
      signIn();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (let i = 0; i < LEAD; i++) signIn();
    expect((await reset).status).toBe(200);
    const answers = await Promise.all(signIns);
    // 503: every hashing slot was taken (a refusal that opens nothing).
    for (const res of answers) expect([200, 401, 503]).toContain(res.status);
    statuses.push(answers.map((res) => res.status));
    const opened = answers.filter((res) => res.status === 200).map((res) => ({ bearerPass: (res.body as { bearerPass: string }).bearerPass, stateProof: stateProofFrom(res) ?? '' }));
    for (const session of opened) {
      expect((await profile(t.app, session.bearerPass)).status).toBe(401);
      expect((await renew(t.app, session.stateProof)).status).toBe(401);
    }
    expect((await post('/jts/login', { email: user.email, password: user.password })).status).toBe(401);
    expect((await post('/jts/login', { email: user.email, password: 'the new password' })).status).toBe(200);
  });
});
