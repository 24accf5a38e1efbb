import type { SecurityEventInput } from '../jts/security-event-token.js';
import { compareStreamIds, type EventPage, type SecurityEventLog, type SecurityEventRecord } from '../sessions/security-events.js';

/** One event as served: its stream id (also the SET's jti) and the signed SET. */
export interface SignedEvent {
  id: string;
  set: string;
}

/** Where a subscription's events go (the SSE response). */
export interface EventSink {
  events(events: readonly SignedEvent[]): void;
  /** Resolves when the sink can take more (its buffer drained, or it closed): catch-up waits for it. */
  ready(): Promise<void>;
  keepalive(): void;
  /** The feed ends the subscription: shutdown, or its catch-up failed (the client resumes with its last id). */
  end(): void;
}

export interface EventFeedDeps {
  log: SecurityEventLog;
  sign: (event: SecurityEventInput) => string;
  /** Open streams one client may hold on this instance (JTS_EVENTS_MAX_STREAMS_PER_CLIENT). */
  maxStreamsPerClient: number;
  /** Between keepalive comments (15 s; tests shorten it). */
  keepaliveMs?: number;
  /** How long one blocking read of the tail waits (10 s). */
  blockMs?: number;
  /** Signed SETs kept by entry id, so a burst of subscribers catching up signs each event once. */
  signedCacheSize?: number;
  /** The tail failed (Redis down); it retries with a capped backoff. */
  onTailError?: (error: unknown) => void;
}

export type Subscribed = { outcome: 'too_many' } | { outcome: 'subscribed'; gap: boolean; oldest: string | undefined; subscription: Subscription };

export interface PollAnswer {
  events: SignedEvent[];
  next: string;
  moreAvailable: boolean;
  gap: boolean;
}

/** Catch-up reads this many entries at a time. */
const PAGE = 500;
const TRIM_EVERY_MS = 60_000;

/**
 * The security-event feed of this instance: reads the stream, signs each event when it is first
 * served (SETs, jti = stream id, cached by id and bounded), and fans one blocking tail out to
 * every subscriber in this process. A subscriber first catches up from its last id with plain
 * reads while the tail buffers for it, then follows the tail; ids at or below the last one sent
 * are dropped, so the overlap never duplicates and nothing between the two is missed (the tail
 * starts from the newest id before any catch-up begins).
 */
export class EventFeed {
  private readonly subscriptions = new Set<Subscription>();
  private readonly perClient = new Map<string, number>();
  private readonly signed = new Map<string, string>();
  private tailStarted: Promise<void> | undefined;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly deps: EventFeedDeps) {}

  /** Up to `limit` signed events after `after` (from the oldest retained without it). */
  async poll(after: string | undefined, limit: number): Promise<PollAnswer> {
    const page = await this.deps.log.read(after, limit + 1);
    const events = this.signAll(page.events.slice(0, limit));
    return { events, next: events.at(-1)?.id ?? after ?? '0-0', moreAvailable: page.events.length > limit, gap: page.gap };
  }

  /**
   * Opens a subscription: the first page is read before this resolves, so a Redis outage is the
   * caller's 503 before anything was sent. Events flow to `sink` once `start()` is called.
   */
  async subscribe(clientId: string, after: string | undefined, sink: EventSink): Promise<Subscribed> {
    if (this.closed) throw new Error('the event feed is closed');
    const open = this.perClient.get(clientId) ?? 0;
    if (open >= this.deps.maxStreamsPerClient) return { outcome: 'too_many' };
    await this.startTail();
    const subscription = new Subscription(this, clientId, sink, after ?? '0-0');
    this.subscriptions.add(subscription);
    this.perClient.set(clientId, open + 1);
    try {
      const first = await this.deps.log.read(after, PAGE);
      subscription.firstPage = first;
      return { outcome: 'subscribed', gap: first.gap, oldest: first.oldest, subscription };
    } catch (error) {
      this.forget(subscription);
      throw error;
    }
  }

  /** Open subscriptions (metrics, tests). */
  get size(): number {
    return this.subscriptions.size;
  }

  /** Ends every stream (SIGTERM: the server can drain) and stops the tail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const subscription of [...this.subscriptions]) subscription.end();
    this.deps.log.close();
  }

  /** @internal */
  forget(subscription: Subscription): void {
    if (!this.subscriptions.delete(subscription)) return;
    const left = (this.perClient.get(subscription.clientId) ?? 1) - 1;
    if (left > 0) this.perClient.set(subscription.clientId, left);
    else this.perClient.delete(subscription.clientId);
  }

  /** @internal */
  readPage(after: string): Promise<EventPage> {
    return this.deps.log.read(after, PAGE);
  }

  /** @internal Signs (or finds signed) each event, in order. */
  signAll(events: readonly SecurityEventRecord[]): SignedEvent[] {
    return events.map((event) => ({ id: event.id, set: this.signOne(event) }));
  }

  private signOne(event: SecurityEventRecord): string {
    const cached = this.signed.get(event.id);
    if (cached !== undefined) return cached;
    const { id, ...rest } = event;
    const set = this.deps.sign({ ...rest, jti: id });
    this.signed.set(id, set);
    // Insertion order is stream order: the oldest entries go first.
    if (this.signed.size > (this.deps.signedCacheSize ?? 10_000)) this.signed.delete(this.signed.keys().next().value as string);
    return set;
  }

  /** A method, not the field: close() may run while the tail awaits, which narrowing cannot see. */
  private stopped(): boolean {
    return this.closed;
  }

  /** Once: the tail's first cursor (the newest id now), then its loop, the keepalive and the trim. */
  private startTail(): Promise<void> {
    this.tailStarted ??= this.deps.log.newestId().then(
      (cursor) => {
        void this.followTail(cursor);
        this.timers.push(
          setInterval(() => {
            for (const subscription of this.subscriptions) subscription.keepalive();
          }, this.deps.keepaliveMs ?? 15_000),
          setInterval(() => {
            this.deps.log.trim().catch((error: unknown) => this.deps.onTailError?.(error));
          }, TRIM_EVERY_MS),
        );
        for (const timer of this.timers) timer.unref();
      },
      (error: unknown) => {
        this.tailStarted = undefined;
        throw error;
      },
    );
    return this.tailStarted;
  }

  private async followTail(from: string): Promise<void> {
    let cursor = from;
    let failures = 0;
    while (!this.stopped()) {
      try {
        const events = await this.deps.log.tail(cursor, PAGE, this.deps.blockMs ?? 10_000);
        failures = 0;
        const last = events.at(-1);
        if (last === undefined) continue;
        cursor = last.id;
        for (const subscription of this.subscriptions) subscription.live(events);
      } catch (error) {
        if (this.stopped()) return;
        // Once per outage, not once per retry.
        if (failures === 0) this.deps.onTailError?.(error);
        // The cursor stays: when Redis answers again the tail goes on from it, and nothing is lost.
        failures += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** failures, 1000)));
      }
    }
  }
}

/** Events one subscriber may have waiting while it catches up (a few MB of records at most). */
const MAX_BUFFERED_EVENTS = 10_000;

/** One subscriber: catch-up, then live; see EventFeed. */
export class Subscription {
  /** @internal The page read by subscribe(). */
  firstPage: EventPage | undefined;
  private lastId: string;
  private following = false;
  private buffered: SecurityEventRecord[] = [];
  private ended = false;

  constructor(
    private readonly feed: EventFeed,
    readonly clientId: string,
    private readonly sink: EventSink,
    after: string,
  ) {
    this.lastId = after;
  }

  /** Sends the first page, catches up the rest, then follows the tail. */
  async start(): Promise<void> {
    let page = this.firstPage;
    this.firstPage = undefined;
    try {
      while (page && !this.ended) {
        this.deliver(page.events);
        if (page.events.length < PAGE) break;
        // A backlog (a new subscriber starts at the oldest retained event) goes at the client's pace.
        await this.sink.ready();
        page = await this.feed.readPage(this.lastId);
      }
    } catch {
      // Redis failed mid-catch-up: end, and the client resumes from its last id.
      this.end();
      return;
    }
    this.following = true;
    this.deliver(this.buffered);
    this.buffered = [];
  }

  /** @internal New events from the tail. */
  live(events: readonly SecurityEventRecord[]): void {
    if (this.ended) return;
    if (this.following) this.deliver(events);
    else this.buffered.push(...events);
    // A client that stopped reading mid catch-up would hold every later event here (security
    // review): past a bound it is ended, and resumes from its last id when it reads again.
    if (this.buffered.length > MAX_BUFFERED_EVENTS) this.end();
  }

  /** @internal */
  keepalive(): void {
    if (!this.ended) this.sink.keepalive();
  }

  /** The client went away (or the feed ends it). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.feed.forget(this);
    this.sink.end();
  }

  private deliver(events: readonly SecurityEventRecord[]): void {
    const fresh = events.filter((event) => compareStreamIds(event.id, this.lastId) > 0);
    const last = fresh.at(-1);
    if (last === undefined || this.ended) return;
    this.lastId = last.id;
    this.sink.events(this.feed.signAll(fresh));
  }
}
