import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import type { KeyRing } from '../../src/jts/key-ring';

export const ISSUER = 'https://auth.feed.test';
export const AUDIENCE = 'https://orders.feed.test';
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CLIENT = { clientId: 'orders', clientSecret: 's3cret-of-the-orders-service' };

/**
 * A stand-in for the auth server's `GET /jts/events` and JWKS, as events-wire.md describes them:
 * real HTTP, real SSE framing, SETs signed with a real key that the JWKS publishes. Events are
 * kept in order; a subscriber gets those after its `Last-Event-ID`, then live ones.
 */
export class FeedServer {
  readonly events: { id: string; type: string; data: string }[] = [];
  /** The Last-Event-ID each accepted subscription sent (undefined: none). */
  readonly resumes: (string | undefined)[] = [];
  private readonly streams = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private sequence = 0;
  port = 0;

  constructor(private readonly ring: KeyRing) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Event streams still open (JWKS fetches are not counted: Node's fetch keeps those alive in its pool). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Listens (again, on the same port after `stop()`). */
  async start(): Promise<void> {
    const server = createServer((req, res) => { this.handle(req, res); });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Closes the listener and every connection: the feed is down. */
  async stop(): Promise<void> {
    this.drop();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }

  /** Cuts every open connection (a network blip); the listener stays. */
  drop(): void {
    for (const socket of this.sockets) socket.destroy();
    this.streams.clear();
  }

  /** Appends an event (a SET, or a `gap` notice) and sends it to every live subscriber. */
  publish(data: string, type = 'set'): string {
    const id = `${1764550000000 + this.sequence++}-0`;
    const event = { id, type, data };
    this.events.push(event);
    for (const res of this.streams) res.write(frame(event));
    return id;
  }

  /** A session-revoked SET, as the server signs it; `overrides` change the header or the claims. */
  async revocation(aid: string, options: { notAfter?: number; jti?: string; header?: Record<string, unknown>; claims?: JWTPayload; ring?: KeyRing } = {}): Promise<string> {
    const ring = options.ring ?? this.ring;
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = {
      iss: ISSUER,
      iat: now,
      jti: options.jti ?? `${1764550000000 + this.sequence}-0`,
      sub_id: { format: 'complex', session: { format: 'opaque', id: aid }, user: { format: 'opaque', id: 'user-1' } },
      events: { [SESSION_REVOKED]: { event_timestamp: now, initiating_entity: 'user', reason_admin: { en: 'logout' }, jts_not_after: options.notAfter ?? now + 330 } },
      ...options.claims,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: ring.signer.alg, kid: ring.signer.kid, typ: 'secevent+jwt', ...options.header }).sign(ring.signer.privateKey);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/.well-known/jts-jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.ring.jwks()));
      return;
    }
    if (req.url !== '/jts/events') {
      res.writeHead(404).end();
      return;
    }
    const expected = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="jts"', 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
      return;
    }
    const after = req.headers['last-event-id'];
    const resumeFrom = typeof after === 'string' ? after : undefined;
    this.resumes.push(resumeFrom);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': connected\n\n');
    const start = resumeFrom === undefined ? 0 : this.events.findIndex((event) => event.id === resumeFrom) + 1;
    for (const event of this.events.slice(start)) res.write(frame(event));
    this.streams.add(res);
    res.on('close', () => {
      this.streams.delete(res);
    });
  }
}

function frame(event: { id: string; type: string; data: string }): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${event.data}\n\n`;
}

/** Polls `condition` every 10 ms until it holds (or fails the test after `timeoutMs`). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
