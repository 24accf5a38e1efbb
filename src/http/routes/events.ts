import { Router, type Request, type Response } from 'express';
import type { ServiceClient } from '../../accounts/sql-client-store.js';
import type { AuditSink } from '../../auth/audit.js';
import type { ClientDirectory } from '../../auth/client-directory.js';
import type { EventFeed, EventSink } from '../../auth/event-feed.js';
import { OAuthError } from '../../auth/oauth-errors.js';
import { STREAM_ID } from '../../sessions/security-events.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { requireBasicClient } from '../client-auth.js';
import { HttpError } from '../errors.js';

/** The scope a service client needs to read the feed. */
export const EVENTS_SCOPE = 'jts:events';

const POLL_DEFAULT_LIMIT = 100;
const POLL_MAX_LIMIT = 1000;
/** What EventSource waits before reconnecting (ms), sent once per stream. */
const RECONNECT_MS = 2000;
/**
 * A subscriber that reads slower than events come is cut off once this much is waiting in its
 * socket's buffer: it reconnects with its Last-Event-ID and catches up, rather than this process
 * holding an unbounded backlog for it.
 */
const MAX_BUFFERED_BYTES = 1 << 20;

export interface EventRouteDeps {
  feed: EventFeed;
  clients: ClientDirectory;
  audit: AuditSink;
}

/**
 * GET /jts/events (Server-Sent Events) and GET /jts/events/poll: the signed security events
 * (RFC 8417 SETs) for other services, in the wire format of README "Security events". Service
 * clients with the `jts:events` scope, HTTP Basic as at /jts/token; no cookie, no CSRF header,
 * no CORS (callers are servers).
 */
export function eventRoutes(deps: EventRouteDeps): Router {
  const { feed, clients, audit } = deps;
  const router = Router();

  router.get('/events', async function eventStream(req, res) {
    const client = subscriber(req, clients, audit);
    // The header first: on reconnect EventSource repeats the first URL (with its stale ?after) and adds Last-Event-ID.
    const after = resumeId(req.get('last-event-id'), 'Last-Event-ID') ?? resumeId(queryValue(req, 'after'), 'after');
    // Checked again at every write: a client deleted, disabled or stripped of the scope while its
    // stream is open gets nothing more (security review); its next connection is refused.
    const sink = sseSink(res, () => allowed(clients, client.id));
    // HEAD (which Express routes here) has no body to stream: it learns the headers of a stream only.
    const head = req.method === 'HEAD';
    const subscribed = await feed.subscribe(client.id, after, sink);
    if (subscribed.outcome === 'too_many') throw new HttpError('rate_limited', { message: 'This client already holds as many event streams as it may (JTS_EVENTS_MAX_STREAMS_PER_CLIENT).', retryAfter: RECONNECT_MS / 1000 });
    const { subscription } = subscribed;
    // Gone while the first page was read: 'close' has fired already and would never end it.
    if (req.socket.destroyed) {
      subscription.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', ...NO_STORE, Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    if (head) {
      subscription.end();
      return;
    }
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    if (subscribed.gap) res.write(`event: gap\ndata: ${JSON.stringify({ oldest: subscribed.oldest ?? null })}\n\n`);
    res.on('close', () => {
      subscription.end();
    });
    void subscription.start();
  });

  router.get('/events/poll', async function eventPoll(req, res) {
    subscriber(req, clients, audit);
    const after = resumeId(queryValue(req, 'after'), 'after');
    sendJson(res, 200, await feed.poll(after, pollLimit(queryValue(req, 'limit'))), NO_STORE);
  });

  return router;
}

/** The authenticated client, holding the scope. */
function subscriber(req: Request, clients: ClientDirectory, audit: AuditSink): ServiceClient {
  const client = requireBasicClient(req, clients, audit);
  if (!client.scopes.includes(EVENTS_SCOPE)) throw new OAuthError('insufficient_scope', { message: `The client needs the scope ${EVENTS_SCOPE}.` });
  return client;
}

/** Whether the client may still read the feed: enabled, and holding the scope (this instance's directory). */
function allowed(clients: ClientDirectory, id: string): boolean {
  return clients.findEnabled(id)?.scopes.includes(EVENTS_SCOPE) === true;
}

function sseSink(res: Response, stillAllowed: () => boolean): EventSink {
  // A peer that stopped reading never drains: its stream is cut (not ended after a flush that
  // never comes), so 'close' ends the subscription and frees its slot.
  const stop = () => {
    if (res.writableNeedDrain) res.destroy();
    else res.end();
  };
  return {
    events(events) {
      if (!stillAllowed()) {
        stop();
        return;
      }
      res.write(events.map((event) => `id: ${event.id}\nevent: set\ndata: ${event.set}\n\n`).join(''));
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
    },
    ready() {
      if (!res.writableNeedDrain) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
    keepalive() {
      if (stillAllowed()) res.write(': keepalive\n\n');
      else stop();
    },
    end: stop,
  };
}

function queryValue(req: Request, name: string): string | undefined {
  const value: unknown = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpError('invalid_request', { message: `\`${name}\` must be given once.` });
  return value;
}

/** A stream id to resume after; undefined when absent or empty. */
function resumeId(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!STREAM_ID.test(value)) throw new HttpError('invalid_request', { message: `\`${name}\` must be an event id as the feed sent it (e.g. 1764550000000-0).` });
  return value;
}

function pollLimit(value: string | undefined): number {
  if (value === undefined) return POLL_DEFAULT_LIMIT;
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= POLL_MAX_LIMIT)) throw new HttpError('invalid_request', { message: `\`limit\` must be a whole number from 1 to ${POLL_MAX_LIMIT}.` });
  return limit;
}
