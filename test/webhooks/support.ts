import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import type { AccountsDatabase } from '../../src/accounts/database';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

/** The documented secret shape: whsec_ and 32 random bytes in base64. */
export const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the standardwebhooks library's verify returned, or the error it threw. */
  verified: unknown;
  error: Error | undefined;
  /** Answered 2xx: the sender counts it delivered. */
  accepted: boolean;
}

/**
 * A webhook receiver as an operator would write one: a plain node:http server that verifies each
 * POST with the standardwebhooks library and the documented secret. `status` is what it answers
 * (503: down); `close()` and `open()` take its port away and back (connection refused).
 */
export class Receiver {
  readonly received: Received[] = [];
  status = 204;
  /** Wait before answering (ms); Infinity: never answer (a black hole that accepted the connection). */
  delayMs = 0;
  /** Requests read and not yet answered. */
  inFlight = 0;
  private server: Server | undefined;
  private port = 0;

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.open();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async open(): Promise<void> {
    const verifier = new Webhook(SECRET);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let verified: unknown;
        let error: Error | undefined;
        try {
          verified = verifier.verify(body, req.headers as Record<string, string>);
        } catch (failure) {
          error = failure as Error;
        }
        this.inFlight += 1;
        if (this.delayMs === Infinity) return;
        const status = this.status;
        setTimeout(() => {
          this.inFlight -= 1;
          this.received.push({ headers: req.headers, body, verified, error, accepted: status >= 200 && status < 300 });
          res.statusCode = status;
          res.end();
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }

  /** Deliveries the receiver accepted (answered 2xx), as parsed payloads with their webhook-id. */
  accepted(): { id: string; payload: { type: string; timestamp: string; data: Record<string, unknown> } }[] {
    return this.received.filter((r) => r.error === undefined && r.accepted).map((r) => ({ id: String(r.headers['webhook-id']), payload: r.verified as { type: string; timestamp: string; data: Record<string, unknown> } }));
  }
}

/** Waits until `predicate` holds, polling; fails with `what` after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Short back-off for tests: 50 ms doubling to 200 ms, polling every 20 ms. */
export function webhookEnv(receiver: Receiver, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    JTS_WEBHOOK_URLS: receiver.url,
    JTS_WEBHOOK_SECRET: SECRET,
    JTS_WEBHOOK_RETRY_BASE: '50',
    JTS_WEBHOOK_RETRY_MAX_DELAY: '200',
    JTS_WEBHOOK_MAX_ATTEMPTS: '100',
    JTS_WEBHOOK_POLL: '20',
    JTS_WEBHOOK_TIMEOUT: '2000',
    ...overrides,
  };
}

/** An app with webhooks to `receiver`, on `database` (shared across restarts) and Redis under `prefix`. */
export function webhookApp(receiver: Receiver, database: AccountsDatabase, prefix: string, overrides: Record<string, string> = {}): Promise<TestApp> {
  return buildTestApp({ store: 'redis', database, env: { REDIS_KEY_PREFIX: prefix, ...webhookEnv(receiver, overrides) } });
}

/** A user signs in and out: one `session.revoked` (reason logout) in the stream. */
export async function signInAndOut(t: TestApp, user?: { id: string; email: string; password: string }): Promise<{ prn: string; aid: string }> {
  const who = user ?? (await createUser(t));
  const creds = await login(t.app, who.email, who.password);
  const res = await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`);
  if (res.status !== 200) throw new Error(`logout answered ${res.status}`);
  return { prn: who.id, aid: creds.stateProof.split('.')[2] as string };
}

/** A counter's value in the app's registry. */
export async function counter(t: TestApp, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await t.metrics.registry.getSingleMetric(name)?.get();
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}
