import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import request from 'supertest';
import type { TestApp } from '../support/test-app';
import { addClient, basic } from '../oauth/support';

export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';

/** A subscriber client: registered with the `jts:events` scope; its Basic header. */
export async function subscriberClient(t: TestApp, id = 'verifier', scopes = ['jts:events']): Promise<{ Authorization: string }> {
  return basic(id, await addClient(t, id, `https://${id}.example.com`, scopes));
}

export interface PolledEvent {
  id: string;
  set: string;
}

export async function poll(t: TestApp, auth: { Authorization: string }, query: Record<string, string> = {}) {
  return request(t.app).get('/jts/events/poll').query(query).set(auth);
}

/** Every event after `after` (all pages). */
export async function pollAll(t: TestApp, auth: { Authorization: string }, after?: string): Promise<PolledEvent[]> {
  const out: PolledEvent[] = [];
  let cursor = after;
  for (;;) {
    const res = await poll(t, auth, { ...(cursor === undefined ? {} : { after: cursor }), limit: '1000' });
    if (res.status !== 200) throw new Error(`poll answered ${res.status} ${JSON.stringify(res.body)}`);
    const body = res.body as { events: PolledEvent[]; next: string; moreAvailable: boolean };
    out.push(...body.events);
    cursor = body.next;
    if (!body.moreAvailable) return out;
  }
}

/** Verifies a SET as a subscriber does: the server's JWKS (fetched over HTTP), typ, issuer. */
export async function verifySet(t: TestApp, set: string): Promise<{ header: Record<string, unknown>; payload: JWTPayload & { sub_id: Record<string, unknown>; events: Record<string, Record<string, unknown>> } }> {
  const jwks = (await request(t.app).get('/.well-known/jts-jwks')).body as Parameters<typeof createLocalJWKSet>[0];
  const { payload, protectedHeader } = await jwtVerify(set, createLocalJWKSet(jwks), { typ: 'secevent+jwt', issuer: t.config.jts.issuer });
  return { header: protectedHeader, payload: payload as JWTPayload & { sub_id: Record<string, unknown>; events: Record<string, Record<string, unknown>> } };
}

/** The session-revoked events of `prn` among `events`, verified, as {aid, reason, initiator}. */
export async function revocationsOf(t: TestApp, events: readonly PolledEvent[], prn: string) {
  const out: { aid: unknown; reason: unknown; initiator: unknown; jti: unknown; id: string }[] = [];
  for (const event of events) {
    const { payload } = await verifySet(t, event.set);
    const revoked = payload.events[SESSION_REVOKED];
    const subject = payload.sub_id as { user?: { id: string }; session?: { id: string } };
    if (revoked && subject.user?.id === prn) out.push({ aid: subject.session?.id, reason: (revoked.reason_admin as { en: string }).en, initiator: revoked.initiating_entity, jti: payload.jti, id: event.id });
  }
  return out;
}

export async function listen(t: TestApp): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
}

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

/** An SSE subscription read with fetch, parsed frame by frame. */
export class SseReader {
  readonly frames: SseFrame[] = [];
  ended = false;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  /** GET `path` (default /jts/events) with `headers`; the body is read as it arrives. */
  static async open(url: string, headers: Record<string, string>, path = '/jts/events'): Promise<SseReader> {
    const controller = new AbortController();
    const response = await fetch(`${url}${path}`, { headers, signal: controller.signal });
    const reader = new SseReader(response, controller);
    if (response.ok && response.body) void reader.pump(response.body);
    return reader;
  }

  get events(): SseFrame[] {
    return this.frames.filter((frame) => frame.event === 'set');
  }

  /** Resolves once `predicate` holds (or rejects after `timeoutMs`). */
  async until(predicate: (reader: SseReader) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`SSE: condition not met within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames.map((f) => f.event ?? f.comment ?? f.retry))}, ended: ${this.ended}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.controller.abort();
    void this.response.body?.cancel().catch(() => undefined);
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let text = '';
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          this.frames.push(parseFrame(text.slice(0, end)));
          text = text.slice(end + 2);
        }
        this.wake();
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon) as 'id' | 'event' | 'data' | 'retry';
      frame[name] = line.slice(colon + 1).replace(/^ /, '');
    }
  }
  return frame;
}
