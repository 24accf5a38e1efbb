import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { WebhookPoster } from '../../src/webhooks/deliver';
import { SECRET } from '../webhooks/support';

/**
 * Review of issue 21: a receiver is the operator's, but it may misbehave — answer 200 and then
 * stream a body without end, answer very slowly, or redirect. One attempt must stay bounded in time
 * and memory, and follow no redirect.
 */
describe('review: webhook delivery against a misbehaving receiver (real HTTP)', () => {
  let server: Server;
  let url: string;
  let mode: 'endless' | 'slow-headers' | 'redirect' = 'endless';
  let streamed = 0;
  let redirectedTo = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/elsewhere') {
        redirectedTo++;
        res.writeHead(200).end();
        return;
      }
      if (mode === 'redirect') {
        res.writeHead(307, { location: '/elsewhere' }).end();
        return;
      }
      if (mode === 'slow-headers') return; // never answers
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const timer = setInterval(() => {
        streamed += chunk.length;
        res.write(chunk);
      }, 1);
      res.on('close', () => {
        clearInterval(timer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a 200 with an endless body is delivered at once; the body is not read', async () => {
    mode = 'endless';
    const started = Date.now();
    const result = await new WebhookPoster(SECRET, 2000).post(url, 'msg_review1', '{"a":1}');
    expect(result).toEqual({ ok: true, status: 200 });
    expect(Date.now() - started).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The connection was dropped: the receiver could not push more than a few chunks.
    expect(streamed).toBeLessThan(16 * 1024 * 1024);
  });

  it('a receiver that never answers costs one timeout', async () => {
    mode = 'slow-headers';
    const started = Date.now();
    const result = await new WebhookPoster(SECRET, 300).post(url, 'msg_review2', '{"a":1}');
    expect(result).toEqual({ ok: false, error: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a redirect is a failure and is not followed', async () => {
    mode = 'redirect';
    const result = await new WebhookPoster(SECRET, 2000).post(url, 'msg_review3', '{"a":1}');
    expect(result).toEqual({ ok: false, error: 'HTTP 307' });
    expect(redirectedTo).toBe(0);
  });

  it('signs the exact bytes sent, with this attempt\'s timestamp', () => {
    const at = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const body = '{"type":"session.revoked","data":{"x":"é"}}';
    const headers = new WebhookPoster(SECRET, 2000, () => at).headers('msg_review4', body, at);
    expect(headers['webhook-timestamp']).toBe(String(at / 1000));
    const receiver = new Webhook(SECRET);
    expect(() => receiver.verify(body, headers)).toThrow(); // too old for the receiver's 5-minute window
    const fresh = new WebhookPoster(SECRET, 2000).headers('msg_review4', body, Date.now());
    expect(receiver.verify(body, fresh)).toEqual(JSON.parse(body));
    expect(() => receiver.verify(body.replace('é', 'e'), fresh)).toThrow();
  });
});
