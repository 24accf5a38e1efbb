import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import type { AccountsDatabase } from '../../src/accounts/database';
import { OutboxPurge } from '../../src/accounts/outbox-purge';
import { openTestDatabase, type AccountsKind } from '../support/accounts';
import { CSRF, login, renew, renewOk } from '../support/http';
import { kindOf, notMeTokenOf, SmtpSink } from '../support/smtp-sink';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { counter, until } from '../webhooks/support';

jest.setTimeout(60_000);

interface NoticeRow {
  id: string;
  kind: string;
  account_id: string | null;
  intent: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

/** Every row of the notice outbox, every column as text: what an attacker reading the table sees. */
async function outboxRows(database: AccountsDatabase): Promise<NoticeRow[]> {
  return (await sql<NoticeRow>`select * from notice_outbox order by created_at`.execute(database.db)).rows;
}

async function outboxText(database: AccountsDatabase): Promise<string> {
  return (await sql<{ t: string }>`select coalesce(string_agg(notice_outbox::text, E'\n'), '') as t from notice_outbox`.execute(database.db)).rows[0]?.t ?? '';
}

describe.each<AccountsKind>(['postgres', 'pglite'])('the notice outbox (%s, real SMTP)', (kind) => {
  let sink: SmtpSink;
  let database: AccountsDatabase;
  let prefix: string;
  const stateProofSecret = randomBytes(32);
  const apps: TestApp[] = [];

  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(async () => {
    prefix = `t${randomBytes(4).toString('hex')}:`;
    database = await openTestDatabase(kind);
    sink.received.length = 0;
  });
  afterEach(async () => {
    sink.failNext(0);
    for (const t of apps.splice(0)) await t.close();
    await database.close();
  });

  /** An instance on the test's database and Redis prefix (sessions outlive a restart); retries every 50 ms, polling every 20 ms. */
  const instance = async (env: Record<string, string> = {}) => {
    const t = await buildTestApp({
      store: 'redis',
      database,
      stateProofSecret,
      env: { ...sink.mailEnv, REDIS_KEY_PREFIX: prefix, PUBLIC_URL: 'https://app.example', JTS_SIGN_IN_NOTICES: 'on', JTS_NOTICE_RETRY_BASE: '50', JTS_NOTICE_RETRY_MAX_DELAY: '50', JTS_NOTICE_POLL: '20', ...env },
    });
    apps.push(t);
    return t;
  };

  it('a new sign-in notice queued while SMTP refuses survives a restart, leaves when SMTP is back, and its late not-me link works; no token ever rests in the table', async () => {
    sink.failNext(1_000_000);
    const first = await instance();
    const user = await createUser(first);
    const creds = await login(first.app, user.email, user.password);
    await first.email.idle();

    // Tried once at once and refused: pending, with the facts and no link.
    const [queued] = await outboxRows(database);
    expect(queued).toMatchObject({ kind: 'new-sign-in', account_id: user.id, status: 'pending', attempts: 1 });
    expect(queued?.last_error).toMatch(/try again later/);
    // The SMTP reply named the recipient; the stored error keeps its domain only.
    expect(queued?.last_error).toContain(`…@${user.email.split('@')[1] ?? ''}`);
    expect(queued?.last_error).not.toContain(user.email);
    expect(JSON.parse(queued?.intent ?? '{}')).toEqual({ kind: 'new-sign-in', to: user.email, name: 'Test User', userId: user.id, credentialEpoch: 0, device: expect.any(String) as string, network: expect.any(String) as string, at: expect.any(String) as string });
    expect(await outboxText(database)).not.toMatch(/not-me=|link/);

    // The instance goes away with the notice unsent (MailSender's memory queue would lose it here).
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    expect(sink.received).toEqual([]);

    sink.failNext(0);
    const second = await instance();
    second.email.start();
    const mail = await sink.next(user.email, 'new-sign-in');
    await until(async () => (await outboxRows(database))[0]?.status === 'delivered', 'the row marked delivered');
    expect(await counter(second, 'jts_mail_total', { kind: 'new-sign-in', outcome: 'sent' })).toBe(1);

    // The token was minted at delivery: it is nowhere in the outbox, and only its hash is stored.
    const token = notMeTokenOf(mail);
    expect(await outboxText(database)).not.toContain(token);
    const challenges = (await sql<{ c: string }>`select challenges::text as c from challenges where purpose = 'not-me'`.execute(database.db)).rows;
    expect(challenges.length).toBeGreaterThan(0);
    expect(challenges.map((row) => row.c).join('\n')).not.toContain(token);

    // The session the notice is about lives on across the restart, until the owner says "not me".
    const renewed = await renewOk(second.app, creds.stateProof);
    const res = await request(second.app).post('/jts/not-me').set(CSRF).send({ token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, revokedSessions: 1, resetToken: expect.any(String) as string });
    expect((await renew(second.app, renewed.stateProof)).status).toBe(401);
  });

  it('a sign-in notice queued before the account changed its address goes to the new address, never with a link to the old one', async () => {
    sink.failNext(1_000_000);
    const first = await instance();
    const user = await createUser(first);
    await login(first.app, user.email, user.password);
    await first.email.idle();
    expect((await outboxRows(database))[0]).toMatchObject({ kind: 'new-sign-in', status: 'pending' });

    // The address changes while the notice waits for SMTP.
    const moved = `moved-${randomBytes(3).toString('hex')}@example.com`;
    await sql`update users set email = ${moved} where id = ${user.id}`.execute(database.db);
    sink.failNext(0);
    first.email.start();
    const mail = await sink.next(moved, 'new-sign-in');
    expect(notMeTokenOf(mail)).toEqual(expect.any(String));
    await until(async () => (await outboxRows(database))[0]?.status === 'delivered', 'the row marked delivered');
    expect(sink.received.filter((m) => m.envelope.to.includes(user.email))).toEqual([]);
  });

  it('two instances sharing the outbox deliver each notice once', async () => {
    const [a, b] = [await instance(), await instance()];
    const recipients = Array.from({ length: 20 }, (_, i) => `n${String(i)}.${kind}@example.com`);
    // Queued without the immediate attempt, so both workers find all of them due at once.
    for (const to of recipients) await a.email.noticeOutbox?.add({ kind: 'password-changed', to, name: 'N', signedOut: 0, appUrl: 'https://app.example' });
    await Promise.all([a.email.notices.deliverDue(), b.email.notices.deliverDue(), a.email.notices.deliverDue(), b.email.notices.deliverDue()]);
    await until(() => sink.received.length >= 20, '20 mails');
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(sink.received.map((mail) => mail.envelope.to[0]).sort()).toEqual([...recipients].sort());
    expect(sink.received.every((mail) => kindOf(mail) === 'password-changed')).toBe(true);
    expect((await outboxRows(database)).every((row) => row.status === 'delivered' && row.attempts === 1)).toBe(true);
    const sent = (await counter(a, 'jts_mail_total', { kind: 'password-changed', outcome: 'sent' })) + (await counter(b, 'jts_mail_total', { kind: 'password-changed', outcome: 'sent' }));
    expect(sent).toBe(20);
  });

  it('a notice SMTP keeps refusing is retried on the schedule, then dead-lettered and counted; jts_notice_outbox_pending shows the depth', async () => {
    sink.failNext(1_000_000);
    const t = await instance({ JTS_NOTICE_MAX_ATTEMPTS: '3' });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);
    const res = await request(t.app).post('/jts/password').set(CSRF).set('Authorization', `Bearer ${creds.bearerPass}`).send({ currentPassword: user.password, newPassword: 'another fine password' });
    expect(res.status).toBe(200);
    await t.email.idle();
    expect(await counter(t, 'jts_notice_outbox_pending')).toBe(2);
    t.email.start();
    await until(async () => (await outboxRows(database)).every((row) => row.status === 'dead'), 'both notices dead-lettered');
    expect((await outboxRows(database)).map((row) => [row.kind, row.attempts]).sort()).toEqual([['new-sign-in', 3], ['password-changed', 3]]);
    expect(await counter(t, 'jts_mail_total', { kind: 'password-changed', outcome: 'retried' })).toBe(2);
    expect(await counter(t, 'jts_mail_total', { kind: 'password-changed', outcome: 'failed' })).toBe(1);
    expect(await counter(t, 'jts_notice_outbox_pending')).toBe(0);
    expect(t.logLines.join('')).toContain('notice dead-lettered after its last attempt');
  });

  it('a notice the outbox cannot take (database trouble) is sent from memory rather than lost, its link minted then', async () => {
    const t = await instance();
    const user = await createUser(t);
    await sql`alter table notice_outbox rename to notice_outbox_away`.execute(database.db);
    await login(t.app, user.email, user.password);
    await t.email.idle();
    const mail = await sink.next(user.email, 'new-sign-in');
    expect(notMeTokenOf(mail)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t.logLines.join('')).toContain('could not queue the notice in the outbox; sending it without the outbox');
  });

  it('flow mails (links, codes) never enter the outbox: they carry a live secret', async () => {
    const t = await instance({ JTS_SIGN_IN_NOTICES: 'off' });
    const user = await createUser(t);
    expect((await request(t.app).post('/jts/password/forgot').set(CSRF).send({ email: user.email })).status).toBe(202);
    await t.email.idle();
    await sink.next(user.email);
    expect(await outboxRows(database)).toEqual([]);
  });

  it('the purge deletes delivered and dead rows past their retention, in batches, from both outboxes; pending and recent rows stay', async () => {
    const ago = (hours: number) => sql<Date>`now() - make_interval(hours => ${hours})`;
    const notice = (id: string, status: string, finishedHoursAgo: number | undefined) =>
      sql`insert into notice_outbox (id, kind, intent, status, attempts, next_attempt_at, created_at, finished_at)
          values (${id}, 'email-verified', '{}', ${status}, 1, now(), ${ago(1000)}, ${finishedHoursAgo === undefined ? null : ago(finishedHoursAgo)})`.execute(database.db);
    const webhook = (id: string, status: string, finishedHoursAgo: number | undefined) =>
      sql`insert into webhook_outbox (id, endpoint, event_key, type, body, status, attempts, next_attempt_at, created_at, finished_at)
          values (${id}, 'https://r.example', ${id}, 'session.revoked', '{}', ${status}, 1, now(), ${ago(1000)}, ${finishedHoursAgo === undefined ? null : ago(finishedHoursAgo)})`.execute(database.db);
    for (const add of [notice, webhook]) {
      for (let i = 0; i < 5; i++) await add(`old-delivered-${String(i)}`, 'delivered', 30);
      await add('recent-delivered', 'delivered', 1);
      await add('old-dead', 'dead', 100);
      await add('dead-within-its-longer-retention', 'dead', 30);
      // Pending for a long time (SMTP or a receiver down): never purged, whatever its age.
      await add('old-pending', 'pending', undefined);
    }
    const purge = new OutboxPurge(database.db, { deliveredMs: 24 * 3_600_000, deadMs: 72 * 3_600_000 }, (error) => {
      throw error;
    }, 2);
    expect(await purge.run()).toBe(12);
    const left = async (table: 'notice_outbox' | 'webhook_outbox') => (await sql<{ id: string }>`select id from ${sql.table(table)} order by id`.execute(database.db)).rows.map((row) => row.id);
    for (const table of ['notice_outbox', 'webhook_outbox'] as const) expect(await left(table)).toEqual(['dead-within-its-longer-retention', 'old-pending', 'recent-delivered']);
    expect(await purge.run()).toBe(0);
  });
});
