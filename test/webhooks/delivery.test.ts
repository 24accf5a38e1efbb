import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { AccountsDatabase } from '../../src/accounts/database';
import { webhookId } from '../../src/webhooks/events';
import { openTestDatabase } from '../support/accounts';
import { createUser, type TestApp } from '../support/test-app';
import request from 'supertest';
import { CSRF, login } from '../support/http';
import { counter, Receiver, SECRET, signInAndOut, until, webhookApp } from './support';

jest.setTimeout(60_000);

const prefix = () => `t${randomBytes(4).toString('hex')}:`;

describe.each(['postgres', 'pglite'] as const)('operator webhooks on %s', (kind) => {
  let database: AccountsDatabase;
  let receiver: Receiver;
  const apps: TestApp[] = [];
  const app = async (keyPrefix: string, overrides: Record<string, string> = {}) => {
    const t = await webhookApp(receiver, database, keyPrefix, overrides);
    apps.push(t);
    return t;
  };

  beforeEach(async () => {
    database = await openTestDatabase(kind);
    receiver = await Receiver.start();
  });
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
    await receiver.close();
    await database.close();
  });

  it('delivers a logout as a Standard Webhook that the standardwebhooks library verifies with the documented secret', async () => {
    const t = await app(prefix());
    t.webhooks?.start();
    const { prn, aid } = await signInAndOut(t);
    await until(() => receiver.accepted().length === 1, 'one delivery');
    const [delivery] = receiver.received;
    expect(delivery?.error).toBeUndefined();
    expect(delivery?.headers['content-type']).toBe('application/json');
    expect(delivery?.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
    expect(delivery?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(delivery?.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    const payload = delivery?.verified as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(payload).toEqual({
      type: 'session.revoked',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      data: { event_id: expect.stringMatching(/^\d+-\d+$/) as unknown, prn, aid, reason: 'logout', initiating_entity: 'user', not_after: expect.any(String) as unknown },
    });
    // The id is the one derived from (endpoint, stream id): stable, whoever sends it.
    expect(delivery?.headers['webhook-id']).toBe(webhookId(receiver.url, `s:${String(payload.data.event_id)}`));
    // No secret in the body: no StateProof, no BearerPass, no password.
    expect(delivery?.body).not.toMatch(/\.ey|password|state_?proof/i);
    // Counted once the outbox row is marked, just after the receiver answered.
    await until(async () => (await counter(t, 'jts_webhook_deliveries_total', { outcome: 'delivered' })) === 1, 'delivery counted');
  });

  it('a signature made with another secret, or over another body, fails verification', async () => {
    const t = await app(prefix());
    t.webhooks?.start();
    await signInAndOut(t);
    await until(() => receiver.accepted().length === 1, 'one delivery');
    const [delivery] = receiver.received;
    const headers = delivery?.headers as Record<string, string>;
    const body = delivery?.body as string;
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(SECRET).verify(body.replace('logout', 'revoked'), headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(SECRET).verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow(WebhookVerificationError);
  });

  it('retries while the receiver is down (503, then connection refused) and delivers once it is back, always under the same webhook-id', async () => {
    receiver.status = 503;
    const t = await app(prefix());
    t.webhooks?.start();
    await signInAndOut(t);
    await until(() => receiver.received.length >= 3, 'three refused attempts');
    await receiver.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    receiver.status = 204;
    await receiver.open();
    await until(() => receiver.accepted().length === 1, 'delivery after the receiver came back');
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    // Every attempt is signed anew (its own timestamp) and verifies.
    expect(receiver.received.every((r) => r.error === undefined)).toBe(true);
    expect(await counter(t, 'jts_webhook_deliveries_total', { outcome: 'retried' })).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.accepted()).toHaveLength(1);
  });

  it('survives a restart: what the first server could not deliver, and what was published while it relayed nothing, a second server on the same database and Redis delivers', async () => {
    const keyPrefix = prefix();
    receiver.status = 503;
    const first = await app(keyPrefix);
    first.webhooks?.start();
    const before = await signInAndOut(first);
    await until(() => receiver.received.length >= 2, 'attempts before the restart');
    await first.webhooks?.stop();
    // Published after the relay stopped: only the stream holds it.
    const during = await signInAndOut(first);
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    receiver.status = 204;
    const second = await app(keyPrefix);
    await expect(second.webhooks?.catchUp()).resolves.toBe(1);
    second.webhooks?.start();
    await until(() => receiver.accepted().length === 2, 'both events delivered after the restart');
    expect(receiver.accepted().map((d) => d.payload.data.aid).sort()).toEqual([before.aid, during.aid].sort());
    // The event retried before the restart keeps its id after it.
    const idsOfBefore = new Set(receiver.received.filter((r) => r.body.includes(before.aid)).map((r) => r.headers['webhook-id']));
    expect(idsOfBefore.size).toBe(1);
  });

  it('dead-letters after the last attempt, counts it, and a redelivery sends the same webhook-id and body', async () => {
    receiver.status = 500;
    const t = await app(prefix(), { JTS_WEBHOOK_MAX_ATTEMPTS: '3' });
    t.webhooks?.start();
    await signInAndOut(t);
    await until(async () => (await counter(t, 'jts_webhook_deliveries_total', { outcome: 'dead_letter' })) === 1, 'dead letter counted');
    expect(receiver.received).toHaveLength(3);
    expect(await counter(t, 'jts_webhook_deliveries_total', { outcome: 'retried' })).toBe(2);
    const outbox = t.webhooks?.outbox;
    const [dead] = (await outbox?.list('dead', 10)) ?? [];
    expect(dead).toMatchObject({ id: receiver.received[0]?.headers['webhook-id'], attempts: 3, lastError: 'HTTP 500', type: 'session.revoked' });
    expect(t.logLines.some((line) => line.includes('dead-lettered') && line.includes(String(dead?.id)))).toBe(true);
    expect(t.logLines.join('\n')).not.toContain(SECRET.slice(6));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(3);

    receiver.status = 200;
    await expect(outbox?.redeliver(String(dead?.id))).resolves.toBe(true);
    await until(() => receiver.accepted().length === 1, 'redelivered');
    expect(receiver.received[3]?.headers['webhook-id']).toBe(dead?.id);
    expect(receiver.received[3]?.body).toBe(receiver.received[0]?.body);
    await expect(outbox?.redeliver(String(dead?.id))).resolves.toBe(false);
  });

  it('enqueue: sign_in.failures_exceeded reaches every endpoint; the same key twice is one event', async () => {
    const t = await app(prefix());
    t.webhooks?.start();
    await t.webhooks?.enqueue('sign_in.failures_exceeded', { prn: 'user-1', count: 20, window_seconds: 900 }, { key: 'user-1:window-1' });
    await t.webhooks?.enqueue('sign_in.failures_exceeded', { prn: 'user-1', count: 21, window_seconds: 900 }, { key: 'user-1:window-1' });
    await until(() => receiver.accepted().length === 1, 'one delivery');
    expect(receiver.accepted()[0]?.payload).toEqual({ type: 'sign_in.failures_exceeded', timestamp: expect.any(String) as unknown, data: { prn: 'user-1', count: 20, window_seconds: 900 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received).toHaveLength(1);
  });

  it('an address change sends account.email_changed once, naming the account and never an address', async () => {
    const t = await app(prefix());
    t.webhooks?.start();
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password);
    const newEmail = `moved-${randomBytes(3).toString('hex')}@example.com`;
    const asUser = (path: string, body: object) => request(t.app).post(path).set(CSRF).set('Authorization', `Bearer ${session.bearerPass}`).send(body);
    expect((await asUser('/jts/account/email', { newEmail })).status).toBe(202);
    await t.email.idle();
    // No SMTP_URL here: the development outbox keeps the mail.
    const link = t.email.outbox?.list().find((mail) => mail.to === newEmail)?.text.match(/#email-change=([A-Za-z0-9_-]+)/)?.[1];
    expect((await asUser('/jts/account/email/confirm', { token: link ?? '' })).status).toBe(200);
    await until(() => receiver.accepted().length === 1, 'the change event');
    expect(receiver.accepted()[0]?.payload).toEqual({ type: 'account.email_changed', timestamp: expect.any(String) as unknown, data: { prn: user.id, via: 'link' } });
    expect(receiver.received[0]?.body).not.toContain('example.com');
  });

  it('the risk step-up\'s threshold sends sign_in.failures_exceeded once per account and window', async () => {
    const t = await app(prefix(), { JTS_RISK_FAILED_SIGN_INS: '3/15m' });
    t.webhooks?.start();
    const user = await createUser(t);
    const wrong = () => request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: 'not the password at all' });
    for (let i = 0; i < 3; i++) expect((await wrong()).status).toBe(401);
    await until(() => receiver.accepted().length === 1, 'the threshold event');
    expect(receiver.accepted()[0]?.payload).toEqual({ type: 'sign_in.failures_exceeded', timestamp: expect.any(String) as unknown, data: { prn: user.id, count: 3, window_seconds: 900 } });
    // Past the threshold: step-up answers, no second event.
    for (let i = 0; i < 3; i++) await wrong();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received).toHaveLength(1);
  });
});
