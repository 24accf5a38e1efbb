import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import type { AccountsDatabase } from '../../src/accounts/database';
import { openTestDatabase } from '../support/accounts';
import { CSRF, login } from '../support/http';
import { notMeTokenOf, SmtpSink, type ReceivedMail } from '../support/smtp-sink';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

jest.setTimeout(30_000);

function changeTokenOf(mail: ReceivedMail): string {
  const match = /#email-change=([A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '');
  if (!match?.[1]) throw new Error('no email-change link in the mail');
  return match[1];
}

/**
 * Review: the address-change notice carries the owner's only way back from a hijacked address (its
 * "this wasn't me" link), yet it was the one notice kept in memory (minted with its token): an SMTP
 * outage longer than MailSender's few retries, a restart or a full queue lost it for good. It must
 * wait in the notice outbox like the other notices, its token minted when it leaves.
 */
describe('address change: the old address\'s notice survives an SMTP outage and a restart (real Redis, PGlite, SMTP)', () => {
  let sink: SmtpSink;
  let database: AccountsDatabase;
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  const stateProofSecret = randomBytes(32);
  const apps: TestApp[] = [];

  beforeAll(async () => {
    sink = await SmtpSink.start();
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    sink.failNext(0);
    for (const t of apps.splice(0)) await t.close();
    await database.close();
    await sink.close();
  });

  const instance = async () => {
    const t = await buildTestApp({
      store: 'redis',
      database,
      stateProofSecret,
      env: { ...sink.mailEnv, REDIS_KEY_PREFIX: prefix, PUBLIC_URL: 'https://app.example', JTS_NOTICE_RETRY_BASE: '1000', JTS_NOTICE_RETRY_MAX_DELAY: '1000', JTS_NOTICE_POLL: '20' },
    });
    apps.push(t);
    return t;
  };

  it('queues the notice with no token while SMTP refuses; after a restart it leaves with a working undo link', async () => {
    const a = await instance();
    const user = await createUser(a, { emailVerified: true, name: 'Ada' });
    const session = await login(a.app, user.email, user.password);
    const newEmail = `new-${randomBytes(4).toString('hex')}@example.com`;
    const link = sink.next(newEmail);
    const asUser = (path: string, body: object) => request(a.app).post(path).set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).send(body);
    expect((await asUser('/jts/account/email', { newEmail })).status).toBe(202);
    const token = changeTokenOf(await link);

    sink.failNext(1_000_000);
    expect((await asUser('/jts/account/email/confirm', { token })).status).toBe(200);
    // Queued after the answer: looked for until it is there (or not, 3 s on).
    const queued = async () => (await sql<{ kind: string; status: string; intent: string }>`select kind, status, intent from notice_outbox where kind = 'email-changed'`.execute(database.db)).rows;
    let rows = await queued();
    for (let i = 0; i < 60 && rows.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await queued();
    }
    expect(rows).toEqual([expect.objectContaining({ kind: 'email-changed', status: 'pending' })]);
    // The intent names no token: a reader of the table gets no way into the account.
    expect(rows[0]?.intent).not.toMatch(/not-me|#|http/);

    await a.close();
    apps.splice(apps.indexOf(a), 1);
    sink.failNext(0);
    const notice = sink.next(user.email, 'email-changed');
    const b = await instance();
    // The restarted instance's worker (buildTestApp leaves it to the test).
    b.email.start();
    const undo = notMeTokenOf(await notice);
    const res = await request(b.app).post('/jts/not-me').set(CSRF).send({ token: undo });
    expect(res.status).toBe(200);
    expect(await b.users.findByEmail(user.email)).toMatchObject({ id: user.id, emailVerified: true });
  });
});
