import type { Clock } from '../clock.js';
import type { KeySet } from '../key-set.js';
import type { RevokedSessions } from './revocations.js';
import { verifySecurityEvent, type RejectReason } from './security-event.js';
import { EventStreamParser } from './sse.js';

/** Where and how to subscribe to the auth server's security-event feed (`GET /jts/events`). */
export interface EventFeedOptions {
  /** e.g. https://auth.example.com/jts/events */
  url: string | URL;
  /** A service client of the auth server holding the scope `jts:events`. */
  clientId: string;
  clientSecret: string;
  /** First reconnection delay (default 500 ms); it doubles per failed attempt, with jitter. */
  minRetryMs?: number;
  /** Longest reconnection delay (default 30 s). */
  maxRetryMs?: number;
  /** A connection silent for this long is dead (default 45 s: three of the server's keepalives). */
  idleTimeoutMs?: number;
}

export type FeedState = 'connected' | 'connecting' | 'disconnected' | 'off';

/** What `verifier.status()` reports. */
export interface FeedStatus {
  /** `connecting` until the first connection; `disconnected` while reconnecting after a loss or failure. */
  feed: FeedState;
  /** The id of the last event handled: the resume point (`Last-Event-ID`). */
  lastEventId: string | undefined;
  /** When that event was handled (ms since the epoch). */
  lastEventAt: number | undefined;
  /** Sessions refused now because the feed revoked them. */
  revokedSessions: number;
  /** How often the server said events were lost before a resume (`event: gap`). */
  gaps: number;
  /** Why the last connection attempt or connection failed. */
  lastError: string | undefined;
}

/** Counter and gauge names reported to {@link VerifierMetrics}. */
export type VerifierCounter =
  /** labels.result: revoked | ignored | duplicate | unknown_key | invalid | malformed */
  | 'jts_verifier_events_total'
  | 'jts_verifier_feed_reconnects_total'
  | 'jts_verifier_feed_gaps_total'
  /** A valid BearerPass refused because its session was revoked. */
  | 'jts_verifier_revoked_refusals_total';
export type VerifierGauge =
  /** 1 while connected to the feed, else 0. */
  | 'jts_verifier_feed_up'
  | 'jts_verifier_revoked_sessions';

/** A metrics hook (wire it to prom-client, StatsD…): the package itself depends on none. */
export interface VerifierMetrics {
  count?(name: VerifierCounter, labels?: Readonly<Record<string, string>>): void;
  gauge?(name: VerifierGauge, value: number): void;
}

export interface SubscriberDeps {
  feed: EventFeedOptions;
  keys: KeySet;
  issuer: string | undefined;
  revoked: RevokedSessions;
  clock: Clock;
  fetch: typeof fetch;
  metrics: VerifierMetrics;
}

export interface Subscriber {
  status(): FeedStatus;
  close(): Promise<void>;
}

/**
 * Holds one SSE connection to the feed, handling events in order; reconnects with exponential
 * back-off and full jitter, resuming after the last handled event. Never throws into the verifier:
 * a feed that is down only means revocations arrive late (at worst never: BearerPasses then die
 * of age, as without a feed).
 */
export function subscribe(deps: SubscriberDeps): Subscriber {
  const { feed, keys, issuer, revoked, clock, metrics } = deps;
  const minRetryMs = feed.minRetryMs ?? 500;
  const maxRetryMs = feed.maxRetryMs ?? 30_000;
  const idleTimeoutMs = feed.idleTimeoutMs ?? 45_000;
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(feed.clientId)}:${encodeURIComponent(feed.clientSecret)}`).toString('base64')}`;

  let state: FeedState = 'connecting';
  let lastEventId: string | undefined;
  let lastEventAt: number | undefined;
  let gaps = 0;
  let lastError: string | undefined;
  let closed = false;
  // A function, not the variable: close() flips it while the loop awaits (TypeScript would narrow a read of the variable).
  const isClosed = () => closed;
  let connection: AbortController | undefined;
  let wake: (() => void) | undefined;

  const setState = (next: FeedState) => {
    state = next;
    metrics.gauge?.('jts_verifier_feed_up', next === 'connected' ? 1 : 0);
  };
  const count = (result: 'revoked' | 'ignored' | 'duplicate' | RejectReason) => metrics.count?.('jts_verifier_events_total', { result });

  async function handle(type: string, data: string): Promise<void> {
    if (type === 'gap') {
      gaps++;
      metrics.count?.('jts_verifier_feed_gaps_total');
      return;
    }
    if (type !== 'set') return;
    const result = await verifySecurityEvent(data, keys, issuer);
    if (!result.ok) {
      count(result.reason);
      return;
    }
    const { event } = result;
    if (event.kind !== 'session-revoked') {
      count('ignored');
      return;
    }
    const outcome = revoked.revoke(event.jti, event.aid, event.notAfter);
    count(outcome === 'expired' ? 'ignored' : outcome);
    if (outcome === 'revoked') metrics.gauge?.('jts_verifier_revoked_sessions', revoked.size);
  }

  /** One connection, until it ends, fails, falls silent or is closed. Resolves true when it received anything. */
  async function connectOnce(): Promise<boolean> {
    const controller = new AbortController();
    connection = controller;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        controller.abort(new Error(`no data for ${idleTimeoutMs} ms`));
      }, idleTimeoutMs);
    };
    let received = false;
    try {
      armIdle();
      const headers: Record<string, string> = { accept: 'text/event-stream', authorization, 'cache-control': 'no-store' };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      const response = await deps.fetch(feed.url, { headers, redirect: 'error', signal: controller.signal });
      if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || response.body === null) {
        throw new Error(await refusalOf(response));
      }
      const body = response.body;
      setState('connected');
      lastError = undefined;
      const parser = new EventStreamParser(lastEventId);
      const decoder = new TextDecoder();
      // Read by hand and cancel the reader on abort: an abort alone does not always end a pending
      // read of an idle stream (seen on Node 20), which left close() waiting for the next keepalive.
      const reader = body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
      const cancel = () => {
        reader.cancel(controller.signal.reason).catch(() => undefined);
      };
      controller.signal.addEventListener('abort', cancel, { once: true });
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || controller.signal.aborted) break;
          armIdle();
          received = true;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            await handle(event.type, event.data);
            // Only a handled event moves the resume point: a disconnect mid-event replays it (and its jti dedups it).
            if (event.lastEventId !== '') lastEventId = event.lastEventId;
            lastEventAt = clock.now();
          }
        }
      } finally {
        controller.signal.removeEventListener('abort', cancel);
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      throw new Error('the feed closed the connection');
    } catch (error) {
      if (!isClosed()) lastError = controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason.message : error instanceof Error ? error.message : String(error);
      return received;
    } finally {
      clearTimeout(idle);
      connection = undefined;
    }
  }

  const running = (async () => {
    let attempt = 0;
    while (!isClosed()) {
      const received = await connectOnce();
      if (isClosed()) break;
      setState('disconnected');
      metrics.count?.('jts_verifier_feed_reconnects_total');
      // A connection that delivered something starts the back-off over; one refused or silent does not.
      attempt = received ? 0 : attempt + 1;
      const ceiling = Math.min(maxRetryMs, minRetryMs * 2 ** Math.min(attempt, 16));
      const delay = minRetryMs / 2 + Math.random() * (ceiling - minRetryMs / 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();

  return {
    status: () => ({ feed: closed ? 'off' : state, lastEventId, lastEventAt, revokedSessions: revoked.size, gaps, lastError }),
    async close() {
      if (closed) return running;
      closed = true;
      setState('off');
      connection?.abort(new Error('closed'));
      wake?.();
      return running;
    },
  };
}

/** What an operator needs from a refused subscription: the status and, from a JSON error body, its `error` key. */
async function refusalOf(response: Response): Promise<string> {
  let key = '';
  try {
    const text = (await response.text()).slice(0, 4096);
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') key = ` ${(body as { error: string }).error}`;
  } catch {
    // Not JSON, or the body failed: the status says enough.
  }
  return `the feed answered ${response.status}${key}`;
}
