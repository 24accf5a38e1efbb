import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createHttpServer } from '../../src/server';
import { clientErrorResponse } from '../../src/http/client-error';
import { buildTestApp, type TestApp } from '../support/test-app';

interface RawAnswer {
  /** Everything the server wrote. */
  text: string;
  statusLine: string;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (we never do). */
  closed: boolean;
}

/** Writes `bytes` on a fresh socket and reads until the server closes it (or `waitMs` passes). */
function raw(server: Server, bytes: string, waitMs = 3000): Promise<RawAnswer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (closed = true));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      const [head, body] = at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 4)];
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ text, statusLine, headers, body, closed });
    });
  });
}

const NOW = 1_796_000_000_000;

describe("a request Node's HTTP parser refuses gets the JSON error body (issue 14, item 6)", () => {
  let t: TestApp;
  let server: Server;
  beforeAll(async () => {
    t = await buildTestApp();
    server = createHttpServer(t.app, { requestTimeoutMs: 1000, headersTimeoutMs: 1000, keepAliveTimeoutMs: 5000, connectionsCheckingIntervalMs: 100 }, { now: () => NOW });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  const LONG = 'a'.repeat(20_000);
  it.each([
    ['a bare CR inside a header line', 'GET /healthz HTTP/1.1\r\nHost: a\rX-Smuggled: b\r\n\r\n', 400, 'invalid_request', 'A line of the request does not end in CRLF (a bare CR or LF).'],
    ['two Content-Length headers', 'POST /jts/login HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'invalid_request', 'Content-Length is repeated, or sent together with Transfer-Encoding.'],
    ['Content-Length together with chunked', 'POST /jts/login HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'invalid_request', 'Transfer-Encoding is invalid, or sent together with Content-Length.'],
    ['a space in a header name', 'GET /healthz HTTP/1.1\r\nHo st: a\r\n\r\n', 400, 'invalid_request', 'A header name or value contains a character HTTP does not allow.'],
    ['a NUL in a header value', 'GET /healthz HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n', 400, 'invalid_request', 'A header name or value contains a character HTTP does not allow.'],
    ['a garbage request line', 'GARBAGE\r\n\r\n', 400, 'invalid_request', 'The request line is malformed (method).'],
    ['an unknown HTTP version', 'GET /healthz HTTP/9.9\r\nHost: a\r\n\r\n', 400, 'invalid_request', 'The request line is malformed (HTTP version, or a bare LF).'],
    ['a non-numeric Content-Length', 'POST /jts/login HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n', 400, 'invalid_request', 'Content-Length is not a number.'],
    ['a malformed chunk size (the app waiting for the body)', 'POST /jts/login HTTP/1.1\r\nHost: a\r\nX-JTS-Request: 1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'invalid_request', 'The chunked body is malformed.'],
    ['headers above 16 KiB', `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${LONG}\r\n\r\n`, 431, 'header_fields_too_large', 'The request headers are too large.'],
    ['headers that never end (request timeout)', 'GET /healthz HTTP/1.1\r\nHost: a\r\n', 408, 'request_timeout', 'The request was not received in time.'],
  ])('answers %s with its status, a JSON body and Connection: close', async (_name, bytes, status, error, message) => {
    const answer = await raw(server, bytes);
    expect(answer.statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers.connection).toBe('close');
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body)).toEqual({ error, message, action: status === 408 ? 'retry' : 'none', timestamp: NOW / 1000 });
    expect(answer.body).not.toMatch(/\bat |Error:|HPE_/);
    expect(answer.closed).toBe(true);
  });

  it('names any other parser error as invalid HTTP, with a JSON body', () => {
    const text = clientErrorResponse('HPE_SOMETHING_NEW', NOW);
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(text.split('\r\n\r\n')[1] ?? '')).toEqual({ error: 'invalid_request', message: 'The request is not valid HTTP/1.1.', action: 'none', timestamp: NOW / 1000 });
    expect(clientErrorResponse(undefined, NOW)).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('keeps serving: a well-formed request on the same server still gets its answer', async () => {
    await raw(server, 'GARBAGE\r\n\r\n');
    const answer = await raw(server, 'GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(answer.statusLine).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers a malformed second request on a keep-alive connection once the first answer is out', async () => {
    const { port } = server.address() as AddressInfo;
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n'));
      let received = '';
      let sent = false;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (!sent && received.endsWith('{"status":"ok"}')) {
          sent = true;
          socket.write('GET /healthz HTTP/1.1\r\nHo st: a\r\n\r\n');
        }
      });
      socket.on('error', reject);
      socket.on('close', () => { resolve(received); });
    });
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toMatch(/\{"status":"ok"\}HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Connection: close[\s\S]*"error":"invalid_request"/);
  });

  it('answers a malformed request pipelined behind a good one after that one’s answer, never inside it', async () => {
    const answer = await raw(server, 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHo st: a\r\n\r\n');
    expect(answer.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n\{"status":"ok"\}(HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"error":"invalid_request"[^]*)?$/);
    expect(answer.closed).toBe(true);
  });
});
