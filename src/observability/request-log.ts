import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

/** An `X-Request-Id` we accept from the caller; anything else is replaced by a fresh UUID. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id given to the request by `requestLog()` (also sent back in `X-Request-Id`). */
export function requestIdOf(res: Response): string | undefined {
  return (res.locals as { requestId?: string }).requestId;
}

/**
 * One JSON line per request, written when the response is done: id, method, path (never the
 * query string), client address (honouring `trust proxy`), status and duration — no headers and
 * no bodies, which is where credentials travel.
 *
 * Written by hand rather than with pino-http, whose per-request child logger costs ~70 µs of CPU
 * on every request even when the line is never written (bench/results/2026-11-22.md).
 */
export function requestLog(logger: Logger): RequestHandler {
  return function logRequest(req, res, next) {
    const given = req.get('x-request-id');
    const id = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.locals.requestId = id;
    const start = process.hrtime.bigint();
    const write = (message: string) => {
      // 503 is an expected operational state (store down, draining) and is reported at warn.
      const level = !res.writableFinished ? 'warn' : res.statusCode === 503 ? 'warn' : res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id, method: req.method, url: req.originalUrl.split('?')[0], ip: req.ip },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100,
        },
        message,
      );
    };
    res.once('close', () => {
      write(res.writableFinished ? 'request completed' : 'request aborted');
    });
    next();
  };
}
