import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import { canonicalIp } from '../auth/client-info.js';
import { errorKeyOf } from '../verifier/send-json.js';
import { runInRequestScope } from './request-scope.js';

/** An `X-Request-Id` we accept from the caller; anything else is replaced by a fresh UUID. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id given to the request by `observeRequests()` (also sent back in `X-Request-Id`). */
export function requestIdOf(res: Response): string | undefined {
  return (res.locals as { requestId?: string }).requestId;
}

export interface RequestObserverOptions {
  logger: Logger;
  histogram: Histogram<'method' | 'route' | 'status'>;
  /** The route template serving a path; labels never carry a raw URL, so their number stays bounded. */
  routeOf: (path: string) => string | undefined;
}

/**
 * Gives every request an id and, when its response is done, writes its log line and records its
 * duration, labelled by method, route template and status. One clock and one `close` listener
 * serve both, so the log and the metrics always agree (and every request pays for one listener).
 *
 * The log line has the id, method, path (never the query string), client address (honouring
 * `trust proxy`, canonical), status and duration, and for an error answer its `error` key — no
 * headers and no bodies, which is where credentials travel. The rest of the chain runs in the
 * request's scope (request-scope.ts), so audit lines carry the same id and address. It is written by hand rather than with pino-http, whose per-request child logger cost
 * ~70 µs of CPU on every request even when the line was never written
 * (bench/results/2026-11-22-pino-http.md).
 */
export function observeRequests(options: RequestObserverOptions): RequestHandler {
  const { logger, histogram, routeOf } = options;
  return function observeRequest(req, res, next) {
    const given = req.get('x-request-id');
    const id = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    res.locals.requestId = id;
    const start = performance.now();
    // The full path, before mounted routers strip their prefixes from it.
    const path = req.path;
    // Parsed on first use and kept: only a written log or audit line needs it.
    let ip: string | undefined | null = null;
    const ipOf = () => (ip === null ? (ip = canonicalIp(req.ip) ?? req.ip) : ip);
    res.once('close', () => {
      const durationMs = performance.now() - start;
      // A client that hung up before the answer was complete has no status code to speak of.
      const completed = res.writableFinished;
      const status = res.statusCode;
      histogram.observe({ method: req.method, route: routeOf(path) ?? 'unmatched', status: completed ? String(status) : 'aborted' }, durationMs / 1000);
      // 503 is an expected operational state (store down, draining) and is reported at warn.
      const level = !completed || status === 503 ? 'warn' : status >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id, method: req.method, url: req.originalUrl.split('?')[0], ip: ipOf() },
          res: status >= 400 ? { statusCode: status, error: errorKeyOf(res) } : { statusCode: status },
          responseTime: Math.round(durationMs * 100) / 100,
        },
        completed ? 'request completed' : 'request aborted',
      );
    });
    runInRequestScope(
      {
        requestId: id,
        get ip() {
          return ipOf();
        },
      },
      next,
    );
  };
}
