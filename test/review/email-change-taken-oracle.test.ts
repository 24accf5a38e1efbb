import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, type Credentials } from '../support/http';
import { SmtpSink, type ReceivedMail } from '../support/smtp-sink';

function changeTokenOf(mail: ReceivedMail): string {
  const match = /#email-change=([A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '');
  if (!match?.[1]) throw new Error('no email-change link in the mail');
  return match[1];
}

const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}@example.com`;

/**
 * Review: "whether the new address already has an account is never answered" (account-email.ts).
 * But asking for a free address ended the account's previous change link, and asking for a taken
 * one left it live: a requester who first asks for a mailbox of their own, then for the address
 * probed, learns the answer from whether their own link still confirms.
 */
describe('address change: no account-existence oracle through the previous link (real Redis, PGlite, SMTP)', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await buildTestApp({ store: 'redis', accounts: 'pglite', env: sink.mailEnv });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  const asUser = (path: string, session: Credentials, body: object) => request(t.app).post(path).set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).send(body);

  /** Asks for an own mailbox, then for `probed`; the answer to confirming the own mailbox's link. */
  async function probe(probed: string, arrived: () => Promise<unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password);
    const own = unique('own');
    const link = sink.next(own);
    expect((await asUser('/jts/account/email', session, { newEmail: own })).status).toBe(202);
    const token = changeTokenOf(await link);
    const done = arrived();
    expect((await asUser('/jts/account/email', session, { newEmail: probed })).status).toBe(202);
    await done;
    await t.email.idle();
    const res = await asUser('/jts/account/email/confirm', session, { token });
    // The error's timestamp differs between two answers; everything else must not.
    const body = { ...(res.body as Record<string, unknown>) };
    delete body.timestamp;
    return { status: res.status, body };
  }

  it('answers the same for a taken address as for a free one', async () => {
    const free = unique('free');
    const forFree = await probe(free, () => sink.next(free));
    const holder = await createUser(t, { emailVerified: true });
    const forTaken = await probe(holder.email, () => sink.next(holder.email, 'email-change-taken'));
    expect(forFree.status).not.toBe(200);
    expect(forTaken).toEqual(forFree);
  });
});
