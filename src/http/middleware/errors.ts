import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Clock } from '../../jts/clock.js';
import { isCodedError, type CodedError } from '../../jts/errors.js';
import { requestIdOf } from '../../observability/request-observer.js';
import { HttpError, type HttpCode } from '../errors.js';
import { sendJson } from '../../verifier/send-json.js';
import { FIRST_FACTOR_ACCEPTED } from './sign-in-account.js';

/**
 * Every error body-parser (and raw-body under it) raises carries a `type`; each names its own cause.
 * `stream.*` are server bugs (the stream was consumed or decoded before the parser), hence a 500.
 * `entity.verify.failed` comes only from a `verify` option, which no parser here sets.
 */
const BODY_PARSER_ERRORS: Record<string, (error: BodyParserError) => { code: HttpCode; message: string }> = {
  // Strict JSON parsing takes objects and arrays only: `null`, `"text"` or `3` are JSON, just not a body.
  'entity.parse.failed': (error) => ({ code: 'invalid_request', message: isJsonText(error.body) ? 'The body must be a JSON object.' : 'The body is not valid JSON.' }),
  'entity.verify.failed': () => ({ code: 'invalid_request', message: 'The body failed verification.' }),
  'entity.too.large': (error) => ({ code: 'payload_too_large', message: typeof error.limit === 'number' ? `The request body is too large (the limit is ${error.limit} bytes).` : 'The request body is too large.' }),
  'encoding.unsupported': (error) => ({
    code: 'unsupported_media_type',
    message: `The Content-Encoding ${JSON.stringify(error.encoding ?? '')} is not supported; send the body uncompressed, or as gzip, deflate or br.`,
  }),
  'charset.unsupported': (error) => ({ code: 'unsupported_media_type', message: `The charset ${JSON.stringify(error.charset ?? '')} is not supported; send the body as UTF-8.` }),
  'request.aborted': () => ({ code: 'invalid_request', message: 'The request was aborted before its body was complete.' }),
  'request.size.invalid': () => ({ code: 'invalid_request', message: 'The request body size does not match Content-Length.' }),
  'stream.encoding.set': () => ({ code: 'internal_error', message: 'Internal server error.' }),
  'stream.not.readable': () => ({ code: 'internal_error', message: 'Internal server error.' }),
};

interface BodyParserError {
  type: string;
  /** The raw text, on a parse failure. */
  body?: unknown;
  limit?: unknown;
  encoding?: string;
  charset?: string;
}

/** What an operator reads for a 5xx the client is told about, when it is not an outage of a store. */
const EXPOSED_5XX_MESSAGES: Readonly<Record<string, string>> = {
  hashing_busy: 'request refused: every password hashing slot is taken (BCRYPT_MAX_PENDING)',
};

/** Writes a coded error of any layer as the JSON body of JTS.md, with its headers. */
export function sendError(res: Response, error: CodedError, clock: Clock): void {
  if (error.action === 'mfa' || error.action === 'mfa_enroll') res.locals[FIRST_FACTOR_ACCEPTED] = true;
  if (error.retryAfter !== undefined) res.set('Retry-After', String(error.retryAfter));
  // RFC 6749 §5.2: a failed client authentication challenges for the scheme the client must use.
  if (error.status === 401) res.set('WWW-Authenticate', error.key === 'invalid_client' ? 'Basic realm="jts", charset="UTF-8"' : `Bearer error="${error.key}"`);
  sendJson(res, error.status, error.toBody(clock.now()));
}

/**
 * Unknown routes answer with the JSON error shape, never Express's HTML page: 404, or 405 with
 * `Allow` when the path is served for other methods (`methodsAt`, from the route table; a GET
 * route also takes HEAD, as Express serves it).
 */
export function notFound(methodsAt: (path: string) => readonly string[] = () => []): RequestHandler {
  return function routeNotFound(req, res) {
    const methods = methodsAt(req.path);
    if (methods.length === 0) throw new HttpError('not_found', { message: 'No such endpoint.' });
    const allow = methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : [...methods];
    res.set('Allow', allow.join(', '));
    throw new HttpError('method_not_allowed', { message: `This endpoint takes ${allow.join(', ')}, not ${req.method}.` });
  };
}

/**
 * The one final handler: a coded error of any layer becomes its JSON body; anything else is a
 * bug, answered as a generic 500 whose details (and stack) go only to the log.
 */
export function errorHandler(options: { logger: Logger; clock: Clock }): ErrorRequestHandler {
  const { logger, clock } = options;
  return function handleError(error: unknown, req, res, next) {
    if (res.headersSent) {
      next(error);
      return;
    }
    const coded = toCodedError(error, req.headers['content-encoding']);
    // A bug is logged with its stack; an outage is already an audit line (store.unavailable).
    if (!coded.expose) logger.error({ err: error, code: coded.code, reqId: requestIdOf(res) }, 'request failed');
    else if (coded.status >= 500) logger.warn({ code: coded.code, reqId: requestIdOf(res) }, EXPOSED_5XX_MESSAGES[coded.code] ?? 'request failed: a backing service is unavailable');
    sendError(res, coded, clock);
  };
}

function toCodedError(error: unknown, contentEncoding: string | undefined): CodedError {
  if (isCodedError(error)) return error;
  if (isBodyParserError(error)) {
    const mapped = BODY_PARSER_ERRORS[error.type]?.(error);
    if (mapped) return new HttpError(mapped.code, { message: mapped.message, cause: error });
  }
  // body-parser's inflate step passes zlib's own error on (no `type`): the body does not decode as
  // its Content-Encoding says (a corrupt gzip body, or plain JSON labelled br).
  if (isZlibError(error) && contentEncoding !== undefined) {
    return new HttpError('invalid_request', { message: `The body is not valid ${JSON.stringify(contentEncoding.toLowerCase())} data, as its Content-Encoding says.`, cause: error });
  }
  // The router reports an undecodable path parameter (bad percent-encoding) as a URIError with status 400.
  if (error instanceof URIError && 'status' in error && error.status === 400) {
    return new HttpError('invalid_request', { message: 'The request URL is malformed (bad percent-encoding).', cause: error });
  }
  return new HttpError('internal_error', { cause: error });
}

function isJsonText(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string';
}

/** zlib's errors: `Z_DATA_ERROR`, `Z_BUF_ERROR` (truncated), and brotli's `ERR__ERROR_…` codes, with a numeric errno. */
function isZlibError(error: unknown): boolean {
  return error instanceof Error && 'errno' in error && typeof error.errno === 'number' && 'code' in error && typeof error.code === 'string' && /^(Z_|ERR__ERROR_|ERR_BROTLI)/.test(error.code);
}
