import { EventFeed, type EventSink, type SignedEvent } from '../../src/auth/event-feed';
import { ManualClock } from '../../src/jts/clock';
import { MemoryEventLog } from '../../src/sessions/memory-event-log';
import { DEFAULT_EVENT_RETENTION, type NewSecurityEvent } from '../../src/sessions/security-events';

const revoked = (aid: string): NewSecurityEvent => ({ type: 'session-revoked', prn: 'p', aid, reason: 'logout', initiator: 'user', at: 0, notAfter: 0 });

function recordingSink() {
  const sink = { received: [] as SignedEvent[], keepalives: 0, ended: false };
  const handle: EventSink = {
    events: (events) => sink.received.push(...events),
    ready: () => Promise.resolve(),
    keepalive: () => (sink.keepalives += 1),
    end: () => (sink.ended = true),
  };
  return { sink, handle };
}

const until = async (condition: () => boolean) => {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('EventFeed (over the memory log)', () => {
  let clock: ManualClock;
  let log: MemoryEventLog;
  let signed: string[];
  let feed: EventFeed;

  beforeEach(() => {
    clock = new ManualClock(Date.now());
    log = new MemoryEventLog(clock, DEFAULT_EVENT_RETENTION);
    signed = [];
    feed = new EventFeed({ log, sign: (event) => (signed.push(event.jti), `set:${event.jti}`), maxStreamsPerClient: 3, keepaliveMs: 20, blockMs: 200, signedCacheSize: 2 });
  });

  afterEach(() => {
    feed.close();
  });

  it('delivers an event that both the catch-up and the tail saw exactly once', async () => {
    const watcher = recordingSink();
    const first = await feed.subscribe('a', undefined, watcher.handle);
    if (first.outcome !== 'subscribed') throw new Error('refused');
    void first.subscription.start();
    // A log whose first read is overtaken by a new entry that the tail also hands out.
    const read = log.read.bind(log);
    jest.spyOn(log, 'read').mockImplementationOnce(async (after, limit) => {
      log.append([revoked('x')]);
      await until(() => watcher.sink.received.length === 1);
      return read(after, limit);
    });
    const late = recordingSink();
    const second = await feed.subscribe('a', undefined, late.handle);
    if (second.outcome !== 'subscribed') throw new Error('refused');
    await second.subscription.start();
    log.append([revoked('y')]);
    await until(() => late.sink.received.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(late.sink.received.map((e) => e.set)).toEqual(watcher.sink.received.map((e) => e.set));
    expect(late.sink.received).toHaveLength(2);
  });

  it('catches a backlog up at the subscriber’s pace: the next page waits until the sink is ready', async () => {
    log.append(Array.from({ length: 1200 }, (_, i) => revoked(`s${i}`)));
    let release: () => void = () => undefined;
    const slow = recordingSink();
    const gate = new Promise<void>((resolve) => (release = resolve));
    const s = await feed.subscribe('a', undefined, { ...slow.handle, ready: () => gate });
    if (s.outcome !== 'subscribed') throw new Error('refused');
    const started = s.subscription.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(slow.sink.received).toHaveLength(500);
    release();
    await started;
    expect(slow.sink.received).toHaveLength(1200);
  });

  it('signs each event once however many subscribers and polls read it', async () => {
    const roomy = new EventFeed({ log, sign: (event) => (signed.push(event.jti), `set:${event.jti}`), maxStreamsPerClient: 3 });
    try {
      log.append([revoked('a'), revoked('b'), revoked('c')]);
      const sinks = [recordingSink(), recordingSink(), recordingSink()];
      for (const { handle } of sinks) {
        const s = await roomy.subscribe('a', undefined, handle);
        if (s.outcome === 'subscribed') await s.subscription.start();
      }
      await roomy.poll(undefined, 10);
      expect(sinks.map(({ sink }) => sink.received.length)).toEqual([3, 3, 3]);
      expect(signed).toHaveLength(3);
    } finally {
      roomy.close();
    }
  });

  it('keeps at most signedCacheSize signed events, the newest', async () => {
    log.append([revoked('a'), revoked('b'), revoked('c')]);
    const all = await feed.poll(undefined, 10);
    expect(signed).toHaveLength(3);
    await feed.poll(all.events[0]?.id, 10);
    expect(signed).toHaveLength(3);
    await feed.poll(undefined, 1);
    expect(signed).toEqual([...all.events.map((e) => e.id), all.events[0]?.id]);
  });

  it('sends keepalives, refuses a stream beyond the per-client limit, and ends every stream on close', async () => {
    const sinks = [recordingSink(), recordingSink(), recordingSink()];
    for (const { handle } of sinks) {
      const s = await feed.subscribe('a', undefined, handle);
      if (s.outcome === 'subscribed') void s.subscription.start();
    }
    expect((await feed.subscribe('a', undefined, recordingSink().handle)).outcome).toBe('too_many');
    expect((await feed.subscribe('b', undefined, recordingSink().handle)).outcome).toBe('subscribed');
    await until(() => sinks.every(({ sink }) => sink.keepalives > 0));
    feed.close();
    expect(sinks.every(({ sink }) => sink.ended)).toBe(true);
    expect(feed.size).toBe(0);
  });

  it('says gap for an id older than the oldest retained entry once entries were trimmed', async () => {
    log.append([revoked('older'), revoked('old')]);
    const [older, old] = (await log.read(undefined, 2)).events;
    expect((await feed.poll(older?.id, 10)).gap).toBe(false);
    clock.advance(DEFAULT_EVENT_RETENTION.retentionMs + 1);
    log.append([revoked('new')]);
    expect((await feed.poll(older?.id, 10)).gap).toBe(true);
    expect(await feed.poll(old?.id, 10)).toMatchObject({ gap: true, events: [expect.objectContaining({ set: expect.stringMatching(/^set:/) })] });
    const s = await feed.subscribe('a', old?.id, recordingSink().handle);
    expect(s).toMatchObject({ outcome: 'subscribed', gap: true });
  });
});
