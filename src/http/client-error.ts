import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../jts/clock.js';
import { HttpError, type HttpCode } from './errors.js';

/**
 * What Node's HTTP parser (llhttp) and its timers report before a request reaches the app, each
 * named for the client: smuggling shapes (two Content-Lengths, Content-Length with chunked), bare
 * CR or LF, forbidden characters, oversized headers, slow clients.
 */
const CLIENT_ERRORS: Record<string, { code: HttpCode; message: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'header_fields_too_large', message: 'The request headers are too large.' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', message: 'The request was not received in time.' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { code: 'payload_too_large', message: 'The chunk extensions of the body are too large.' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { code: 'invalid_request', message: 'Content-Length is repeated, or sent together with Transfer-Encoding.' },
  HPE_INVALID_CONTENT_LENGTH: { code: 'invalid_request', message: 'Content-Length is not a number.' },
  HPE_INVALID_TRANSFER_ENCODING: { code: 'invalid_request', message: 'Transfer-Encoding is invalid, or sent together with Content-Length.' },
  HPE_INVALID_HEADER_TOKEN: { code: 'invalid_request', message: 'A header name or value contains a character HTTP does not allow.' },
  HPE_LF_EXPECTED: { code: 'invalid_request', message: 'A line of the request does not end in CRLF (a bare CR or LF).' },
  HPE_CR_EXPECTED: { code: 'invalid_request', message: 'A line of the request does not end in CRLF (a bare CR or LF).' },
  HPE_STRICT: { code: 'invalid_request', message: 'A line of the request does not end in CRLF (a bare CR or LF).' },
  HPE_INVALID_METHOD: { code: 'invalid_request', message: 'The request line is malformed (method).' },
  HPE_INVALID_URL: { code: 'invalid_request', message: 'The request line is malformed (URL).' },
  HPE_INVALID_VERSION: { code: 'invalid_request', message: 'The request line is malformed (HTTP version, or a bare LF).' },
  HPE_INVALID_CHUNK_SIZE: { code: 'invalid_request', message: 'The chunked body is malformed.' },
};

const FALLBACK = { code: 'invalid_request', message: 'The request is not valid HTTP/1.1.' } as const satisfies { code: HttpCode; message: string };

/** Node's socket while a response is in flight on it (`_httpMessage`, as Node's own fallback checks). */
interface HttpSocket extends Duplex {
  _httpMessage?: { headersSent: boolean; writableEnded: boolean } | null;
}

/**
 * Node answers a request it cannot parse with an empty `400 Bad Request`; this answers it with the
 * JSON error body every other error has, the right status (400, 408, 413, 431), and
 * `Connection: close`, whenever the socket is still writable and no response is half-written on it
 * (its headers out but not all its body: a write then would corrupt it). A response already ended
 * has all its bytes queued on the socket, so the error answer follows it, as on a keep-alive
 * connection whose next request is malformed. Otherwise, as for ECONNRESET, the socket is just
 * destroyed.
 */
export function answerClientErrors(server: Server, clock: Clock): void {
  server.on('clientError', function answerClientError(error: NodeJS.ErrnoException, socket: HttpSocket) {
    const inFlight = socket._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || (inFlight?.headersSent === true && !inFlight.writableEnded)) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(error.code, clock.now()));
  });
}

/** The raw HTTP/1.1 answer for a parser or timeout error `code`; exported for tests of the table. */
export function clientErrorResponse(code: string | undefined, now: number): string {
  const { code: httpCode, message } = (code === undefined ? undefined : CLIENT_ERRORS[code]) ?? FALLBACK;
  const error = new HttpError(httpCode, { message });
  const body = JSON.stringify(error.toBody(now));
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
