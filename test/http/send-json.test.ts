import type { IncomingMessage } from 'node:http';
import express, { type Response as ExpressResponse } from 'express';
import request from 'supertest';
import { NO_STORE, PreparedJson, sendJson } from '../../src/verifier/send-json';

/**
 * sendJson() writes what Express's `res.status(status).json(body)` would, without going through
 * Express's send(). These tests compare the two on the wire, headers in order included, for GET
 * and HEAD, so an Express upgrade that changes what `res.json` sends fails here.
 */

interface Case {
  status: number;
  body: object;
  headers?: Record<string, string>;
  contentType?: string;
}

const CASES: Record<string, Case> = {
  ascii: { status: 200, body: { message: 'This endpoint is public.', timestamp: '2026-11-22T10:00:00.000Z' } },
  unicode: { status: 200, body: { name: 'Zoë Ångström 日本', emoji: '🔑', escapes: '"\\\n\u2028</script>' }, headers: NO_STORE },
  error: { status: 401, body: { error: 'session_terminated', error_code: 'JTS-401-04', message: 'The session has ended.', action: 'reauth', timestamp: 1795358693 }, headers: { 'WWW-Authenticate': 'Bearer error="session_terminated"' } },
  created: { status: 201, body: { bearerPass: 'a.b.c', expiresIn: 300, tokenType: 'Bearer' }, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' } },
  array: { status: 503, body: ['not', 'an', 'object', 1, null] },
  prepared: { status: 200, body: { keys: [{ kty: 'EC', kid: 'k1' }] }, headers: { 'Cache-Control': 'public, max-age=3600' }, contentType: 'application/jwk-set+json; charset=utf-8' },
};

/** An app configured as createApp() configures it: no ETags, no X-Powered-By. */
function appWith(send: (res: ExpressResponse, c: Case) => void) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/:case', (req, res) => {
    send(res, CASES[req.params.case]!);
  });
  return app;
}

const ours = appWith((res, c) => {
  const body = c.contentType === undefined ? c.body : new PreparedJson(c.body, c.contentType);
  sendJson(res, c.status, body, c.headers);
});

const expressJson = appWith((res, c) => {
  if (c.headers) res.set(c.headers);
  if (c.contentType !== undefined) res.set('Content-Type', c.contentType);
  res.status(c.status).json(c.body);
});

/** Status, raw headers in the order sent (less Date and Connection), and body bytes. */
async function wire(app: express.Express, method: 'get' | 'head', path: string) {
  const res = await request(app)[method](path).buffer(true).parse((response, callback) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      callback(null, Buffer.concat(chunks));
    });
  });
  const raw = (res as unknown as { res: IncomingMessage }).res.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!/^(date|connection|keep-alive)$/i.test(raw[i]!)) headers.push(`${raw[i]!}: ${raw[i + 1]!}`);
  }
  return { status: res.status, headers, body: (res.body as Buffer).toString('hex') };
}

describe('sendJson (bypassing Express send)', () => {
  it.each(Object.keys(CASES).flatMap((name) => [['get', name] as const, ['head', name] as const]))('%s of the %s answer equals res.status().json() byte for byte', async (method, name) => {
    const expected = await wire(expressJson, method, `/${name}`);
    expect(expected.headers.some((header) => header.startsWith('Content-Length: '))).toBe(true);
    expect(await wire(ours, method, `/${name}`)).toEqual(expected);
  });

  it('states the byte length of the body, not its length in characters', async () => {
    const { headers } = await wire(ours, 'get', '/unicode');
    const length = Number(headers.find((header) => header.startsWith('Content-Length: '))?.slice('Content-Length: '.length));
    expect(length).toBe(Buffer.byteLength(JSON.stringify(CASES.unicode!.body)));
  });
});
