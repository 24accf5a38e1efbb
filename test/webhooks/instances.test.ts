import { randomBytes } from 'node:crypto';
import type { AccountsDatabase } from '../../src/accounts/database';
import { openTestDatabase } from '../support/accounts';
import { createUser, type TestApp } from '../support/test-app';
import { counter, Receiver, signInAndOut, until, webhookApp } from './support';

jest.setTimeout(90_000);

/** Several instances, one PostgreSQL, one Redis stream; and the failures peers' trackers report. */
describe('operator webhooks across instances (PostgreSQL)', () => {
  let database: AccountsDatabase;
  let receiver: Receiver;
  const apps: TestApp[] = [];
  const keyPrefix = () => `t${randomBytes(4).toString('hex')}:`;

  beforeEach(async () => {
    database = await openTestDatabase('postgres');
    receiver = await Receiver.start();
  });
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
    await receiver.close();
    await database.close();
  });
  const app = async (prefix: string, overrides: Record<string, string> = {}) => {
    const t = await webhookApp(receiver, database, prefix, overrides);
    apps.push(t);
    return t;
  };

  it('two instances relaying and delivering at once: every event arrives, each under one webhook-id, never one event under two ids', async () => {
    const prefix = keyPrefix();
    const [a, b] = [await app(prefix), await app(prefix)];
    // A slow receiver keeps claims in flight while the other instance claims (supabase/pg_net#86: bursts with a slow receiver).
    receiver.delayMs = 30;
    a.webhooks?.start();
    b.webhooks?.start();
    const user = await createUser(a);
    const ended: string[] = [];
    for (let i = 0; i < 30; i++) ended.push((await signInAndOut(i % 2 === 0 ? a : b, user)).aid);
    await until(() => new Set(receiver.accepted().map((d) => d.payload.data.aid)).size === 30, 'all 30 events', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const idsByEvent = new Map<string, Set<string>>();
    const eventsById = new Map<string, Set<string>>();
    for (const { id, payload } of receiver.accepted()) {
      const event = String(payload.data.event_id);
      idsByEvent.set(event, (idsByEvent.get(event) ?? new Set()).add(id));
      eventsById.set(id, (eventsById.get(id) ?? new Set()).add(event));
    }
    expect([...idsByEvent.values()].every((ids) => ids.size === 1)).toBe(true);
    expect([...eventsById.values()].every((events) => events.size === 1)).toBe(true);
    expect(new Set(receiver.accepted().map((d) => d.payload.data.aid))).toEqual(new Set(ended));
    // Claims are exclusive (SKIP LOCKED + lease): not even same-id duplicates when nothing fails.
    expect(receiver.received).toHaveLength(30);
    const delivered = (await counter(a, 'jts_webhook_deliveries_total', { outcome: 'delivered' })) + (await counter(b, 'jts_webhook_deliveries_total', { outcome: 'delivered' }));
    expect(delivered).toBe(30);
  });

  it('a receiver that accepts the connection and never answers costs one timeout per attempt; deliveries resume when it answers (p2-inc/keycloak-events#9)', async () => {
    receiver.delayMs = Infinity;
    const t = await app(keyPrefix(), { JTS_WEBHOOK_TIMEOUT: '200' });
    t.webhooks?.start();
    await signInAndOut(t);
    await until(async () => (await counter(t, 'jts_webhook_deliveries_total', { outcome: 'retried' })) >= 2, 'two timed-out attempts');
    expect((await t.webhooks?.outbox.list('pending', 10))?.[0]?.lastError).toBe('no answer within 200 ms');
    receiver.delayMs = 0;
    await until(() => receiver.accepted().length === 1, 'delivered once the receiver answers');
  });

  it('the stream trimmed past the relay cursor: a security_events.gap webhook and the gap metric, then the relay goes on from the oldest retained entry', async () => {
    const prefix = keyPrefix();
    const t = await app(prefix);
    await signInAndOut(t);
    await expect(t.webhooks?.catchUp()).resolves.toBe(1);
    await signInAndOut(t);
    await signInAndOut(t);
    // As if every instance had been down longer than JTS_EVENTS_RETENTION: the entries are gone.
    await t.redis?.xtrim(`${prefix}events`, 'MAXLEN', 0);
    const kept = await signInAndOut(t);
    await t.webhooks?.catchUp();
    expect(await counter(t, 'jts_webhook_relay_gaps_total')).toBe(1);
    t.webhooks?.start();
    await until(() => receiver.accepted().length === 3, 'first event, gap, last event');
    const types = receiver.accepted().map((d) => d.payload.type);
    expect(types.sort()).toEqual(['security_events.gap', 'session.revoked', 'session.revoked']);
    const gap = receiver.accepted().find((d) => d.payload.type === 'security_events.gap');
    expect(gap?.payload.data).toEqual({ after: expect.stringMatching(/^\d+-\d+$/) as unknown, oldest: expect.stringMatching(/^\d+-\d+$/) as unknown });
    expect(receiver.accepted().some((d) => d.payload.data.aid === kept.aid)).toBe(true);
  });
});

describe('a worker that dies mid-delivery (PostgreSQL)', () => {
  it('leaves its claim due again after the lease; the next worker delivers under the same webhook-id', async () => {
    const database = await openTestDatabase('postgres');
    const receiver = await Receiver.start();
    const t = await webhookApp(receiver, database, `t${randomBytes(4).toString('hex')}:`);
    try {
      await t.webhooks?.enqueue('sign_in.failures_exceeded', { prn: 'p', count: 7, window_seconds: 600 });
      // A worker claimed it (lease 300 ms) and died before POSTing or recording anything.
      const [orphan] = (await t.webhooks?.outbox.claim(10, 300)) ?? [];
      expect(orphan?.attempt).toBe(1);
      t.webhooks?.start();
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(receiver.received).toHaveLength(0);
      await until(() => receiver.accepted().length === 1, 'delivered after the lease');
      expect(receiver.received[0]?.headers['webhook-id']).toBe(orphan?.id);
      // The dead worker's late report changes nothing: the claim is no longer its own.
      await expect(t.webhooks?.outbox.failed(orphan as NonNullable<typeof orphan>, 'late', 1000)).resolves.toBe(false);
    } finally {
      await t.close();
      await receiver.close();
      await database.close();
    }
  });
});

describe('the accounts database going away (PostgreSQL)', () => {
  it('the loops go on and report once, not at every poll; /metrics still answers (the depth gauge keeps its last value)', async () => {
    const database = await openTestDatabase('postgres');
    const receiver = await Receiver.start();
    const t = await webhookApp(receiver, database, `t${randomBytes(4).toString('hex')}:`);
    try {
      await t.webhooks?.enqueue('sign_in.failures_exceeded', { prn: 'p', count: 7, window_seconds: 600 });
      receiver.status = 503;
      t.webhooks?.start();
      await until(() => receiver.received.length >= 1, 'one attempt');
      expect(await t.metrics.registry.metrics()).toMatch(/^jts_webhook_outbox_pending 1$/m);
      await database.close();
      // 20 ms polls: some 25 failing passes of each loop in half a second.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const reports = t.logLines.filter((line) => line.includes('webhook work failed'));
      expect(reports.length).toBeGreaterThanOrEqual(1);
      expect(reports.length).toBeLessThanOrEqual(2);
      expect(await t.metrics.registry.metrics()).toMatch(/^jts_webhook_outbox_pending 1$/m);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
