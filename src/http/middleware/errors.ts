import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Clock } from '../../jts/clock.js';
import { isCodedError, type CodedError } from '../../jts/errors.js';
import { requestIdOf } from '../../observability/request-observer.js';
import { HttpError, type HttpCode } from '../errors.js';
import { sendJson } from '../../verifier/send-json.js';

/** Errors raised by Express's body parser carry a `type`; map the ones a client can cause. */
const BODY_PARSER_ERRORS: Record<string, { code: HttpCode; message: string }> = {
  'entity.parse.failed': { code: 'invalid_request', message: 'The body is not valid JSON.' },
  'entity.too.large': { code: 'payload_too_large', message: 'The request body is too large.' },
  'encoding.unsupported': { code: 'unsupported_media_type', message: 'The body encoding is not supported.' },
  'charset.unsupported': { code: 'unsupported_media_type', message: 'The body charset is not supported.' },
  'request.aborted': { code: 'invalid_request', message: 'The request was aborted.' },
  'request.size.invalid': { code: 'invalid_request', message: 'The request body size does not match Content-Length.' },
  'stream.encoding.set': { code: 'internal_error', message: 'Internal server error.' },
};

/** Writes a coded error of any layer as the JSON body of JTS.md, with its headers. */
export function sendError(res: Response, error: CodedError, clock: Clock): void {
  if (error.retryAfter !== undefined) res.set('Retry-After', String(error.retryAfter));
  if (error.status === 401) res.set('WWW-Authenticate', `Bearer error="${error.key}"`);
  sendJson(res, error.status, error.toBody(clock.now()));
}

/** Unknown routes answer with the JSON error shape, never Express's HTML page. */
export function notFound(): RequestHandler {
  return function routeNotFound() {
    throw new HttpError('not_found', { message: 'No such endpoint.' });
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
    const coded = toCodedError(error);
    // A bug is logged with its stack; an outage is already an audit line (store.unavailable).
    if (!coded.expose) logger.error({ err: error, code: coded.code, reqId: requestIdOf(res) }, 'request failed');
    else if (coded.status >= 500) logger.warn({ code: coded.code, reqId: requestIdOf(res) }, 'request failed: a backing service is unavailable');
    sendError(res, coded, clock);
  };
}

function toCodedError(error: unknown): CodedError {
  if (isCodedError(error)) return error;
  if (typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string') {
    const mapped = BODY_PARSER_ERRORS[error.type];
    if (mapped) return new HttpError(mapped.code, { message: mapped.message, cause: error });
  }
  // The router reports an undecodable path parameter (bad percent-encoding) as a plain 400.
  if (typeof error === 'object' && error !== null && 'status' in error && error.status === 400) {
    return new HttpError('invalid_request', { message: 'The request URL is malformed.', cause: error });
  }
  return new HttpError('internal_error', { cause: error });
}
