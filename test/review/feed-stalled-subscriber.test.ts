import { EventFeed, type EventSink } from '../../src/auth/event-feed';
import { ManualClock } from '../../src/jts/clock';
import { MemoryEventLog } from '../../src/sessions/memory-event-log';
import { DEFAULT_EVENT_RETENTION, type NewSecurityEvent } from '../../src/sessions/security-events';

const revoked = (aid: string): NewSecurityEvent => ({ type: 'session-revoked', prn: 'p', aid, reason: 'logout', initiator: 'user', at: 0, notAfter: 0 });

/**
 * Review finding: a subscriber whose socket stops draining during catch-up (routes/events.ts
 * sseSink.ready() waits for 'drain' or 'close', neither of which comes from a peer that stopped
 * reading) leaves Subscription.start() parked; meanwhile every event the tail reads is pushed onto
 * that subscription's `buffered` array, without bound, for as long as the TCP connection stays
 * open (no socket timeout on the stream). One stalled verifier per instance grows the heap with
 * the whole event rate of the deployment.
 */
describe('EventFeed: a subscriber stalled in its catch-up', () => {
  let feed: EventFeed;
  afterEach(() => {
    feed.close();
  });

  it('is ended (or holds a bounded buffer) instead of buffering every later event', async () => {
    const clock = new ManualClock(Date.now());
    const log = new MemoryEventLog(clock, DEFAULT_EVENT_RETENTION);
    feed = new EventFeed({ log, sign: (event) => `set:${event.jti}`, maxStreamsPerClient: 3, keepaliveMs: 1000, blockMs: 50 });
    // A backlog of more than one catch-up page: start() waits for the sink after the first page.
    log.append(Array.from({ length: 600 }, (_, i) => revoked(`old-${i}`)));
    const state = { ended: false };
    const stalled: EventSink = { events: () => undefined, ready: () => new Promise<void>(() => undefined), keepalive: () => undefined, end: () => (state.ended = true) };
    const subscribed = await feed.subscribe('verifier', undefined, stalled);
    if (subscribed.outcome !== 'subscribed') throw new Error('refused');
    void subscribed.subscription.start();

    for (let batch = 0; batch < 50; batch += 1) {
      log.append(Array.from({ length: 1000 }, (_, i) => revoked(`new-${batch}-${i}`)));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const held = (subscribed.subscription as unknown as { buffered: unknown[] }).buffered.length;
    // 50 000 events arrived; a stalled subscriber should be cut off (it resumes with Last-Event-ID) long before.
    expect(state.ended ? 0 : held).toBeLessThanOrEqual(10_000);
  });
});
