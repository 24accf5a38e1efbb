import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { createLimiter, type RateLimitDeps } from './rate-limit.js';

/**
 * The key an OAuth route sets once it knows who is asking (the authenticated client, the user of
 * a subject token): these limits run after authentication, never on what a request claims.
 */
export function setRateLimitKey(res: Response, key: string): void {
  res.locals.rateLimitKey = key;
}

function rateLimitKeyOf(res: Response): string {
  const key: unknown = res.locals.rateLimitKey;
  if (typeof key !== 'string') throw new Error('setRateLimitKey() must run before this limiter');
  // Hashed: counter keys in Redis name no user or client.
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}

/** The limiters of the OAuth routes (routes/oauth.ts); empty when RATE_LIMIT_ENABLED=false. */
export type OAuthLimits = Partial<Record<'exchange' | 'introspect', RequestHandler[]>>;

/**
 * /jts/token exchanges per user (RFC 8693 downstream tokens: 10 per 15 minutes by default,
 * whatever client or address asks) and /jts/introspect calls per client.
 */
export function oauthRateLimits(deps: RateLimitDeps): OAuthLimits {
  if (!deps.rules.enabled) return {};
  const keyGenerator = (_req: unknown, res: Response) => rateLimitKeyOf(res);
  const limiter = (name: string, rule: RateLimitDeps['rules']['introspect']): RequestHandler[] => [createLimiter(name, rule, deps, { keyGenerator })];
  return { exchange: limiter('token-exchange-user', deps.rules.tokenExchange), introspect: limiter('introspect-client', deps.rules.introspect) };
}
