import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { bearerTokenOf } from '../../jts/authorization-header.js';
import { HttpError } from '../errors.js';

/**
 * Guards /metrics with METRICS_TOKEN, given as `Authorization: Bearer <token>` or
 * `X-Metrics-Token: <token>`. Both sides are hashed before `timingSafeEqual`, so the comparison
 * takes the same time whatever the length or content of the guess.
 */
export function requireMetricsToken(token: string): RequestHandler {
  const expected = digest(token);
  return function checkMetricsToken(req, _res, next) {
    const given = bearerTokenOf(req.get('authorization')) ?? req.get('x-metrics-token');
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new HttpError('metrics_token_invalid', { message: 'A metrics token is required: Authorization: Bearer <METRICS_TOKEN>.' });
    }
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
