import type { RequestHandler } from 'express';
import type { Histogram } from 'prom-client';

export interface RequestMetricsOptions {
  histogram: Histogram<'method' | 'route' | 'status'>;
  /** The route template serving a path; labels never carry a raw URL, so their number stays bounded. */
  routeOf: (path: string) => string | undefined;
}

/** Observes every request's duration, labelled by method, route template and status. */
export function requestMetrics(options: RequestMetricsOptions): RequestHandler {
  const { histogram, routeOf } = options;
  return function observeRequestDuration(req, res, next) {
    const stop = histogram.startTimer();
    const path = req.path;
    res.once('close', () => {
      stop({
        method: req.method,
        route: routeOf(path) ?? 'unmatched',
        // A client that hung up before the answer was complete is not a status code.
        status: res.writableFinished ? String(res.statusCode) : 'aborted',
      });
    });
    next();
  };
}
