import type { JWK } from 'jose';
import { decodeSegment } from './bearer-pass/decode.js';
import { createBearerPassVerifier, type VerifyResult } from './bearer-pass/verify.js';
import { seconds, systemClock, type Clock } from './clock.js';
import { JtsError } from './errors.js';
import { RevokedSessions } from './events/revocations.js';
import { subscribe, type EventFeedOptions, type FeedStatus, type Subscriber, type VerifierMetrics } from './events/subscriber.js';
import { createKeySet } from './key-set.js';

const DEFAULT_SKEW_SECONDS = 5;

export interface VerifierOptions {
  /** The issuer's JWKS, e.g. https://auth.example.com/.well-known/jts-jwks. */
  jwksUrl?: string | URL;
  /** Or a fixed key set (no fetching). */
  keys?: readonly JWK[];
  audience?: string;
  issuer?: string;
  clockSkewSeconds?: number;
  /** Keys are refetched after this long even when every kid is known (default 10 min). */
  cacheMaxAgeMs?: number;
  /** At most one refetch per this interval when an unknown kid shows up (default 30 s). */
  unknownKidCooldownMs?: number;
  /**
   * The auth server's security-event feed: subscribe to it and refuse BearerPasses of revoked
   * sessions (`JTS-401-04`). Without it, a BearerPass stays valid here until it expires.
   */
  events?: EventFeedOptions;
  /** Counters and gauges of the feed and of refusals (see `VerifierMetrics`). */
  metrics?: VerifierMetrics;
  clock?: Clock;
  fetch?: typeof fetch;
}

export interface Verifier {
  /** Never throws for a bad token: the result says why. */
  verify(token: unknown): Promise<VerifyResult>;
  /** The feed's state (`feed: 'off'` without `events`). */
  status(): FeedStatus;
  /** Stops the feed subscription (its connection and timers); verification by signature goes on. */
  close(): Promise<void>;
}

/**
 * BearerPass verification for services other than the auth server: they know only the JWKS URL.
 * Same rules as the server's own check. Revocations reach it only through the security-event
 * feed (`events`): without the feed, or while it is unreachable, a BearerPass of an ended session
 * is accepted until it expires (that is why BearerPasses are short-lived).
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (!options.jwksUrl === !options.keys) throw new Error('createVerifier needs exactly one of jwksUrl or keys');
  if (options.events) assertFeedOptions(options.events, options.issuer);
  const clock = options.clock ?? systemClock;
  const skewSeconds = options.clockSkewSeconds ?? DEFAULT_SKEW_SECONDS;
  const keys = createKeySet({
    jwksUrl: options.jwksUrl,
    keys: options.keys,
    clock,
    cacheMaxAgeMs: options.cacheMaxAgeMs ?? 600_000,
    unknownKidCooldownMs: options.unknownKidCooldownMs ?? 30_000,
    fetch: options.fetch ?? fetch,
  });
  const metrics = options.metrics ?? {};

  const verifyWith = createBearerPassVerifier({
    keyFor: (kid) => keys.get(kid),
    clock,
    clockSkewSeconds: skewSeconds,
    ...(options.audience === undefined ? {} : { audience: options.audience }),
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });

  const revoked = options.events ? new RevokedSessions(clock, skewSeconds * 1000) : undefined;
  let subscriber: Subscriber | undefined =
    options.events && revoked ? subscribe({ feed: options.events, keys, issuer: options.issuer, revoked, clock, fetch: options.fetch ?? fetch, metrics }) : undefined;

  return {
    async verify(token) {
      const unavailable = await keys.prepare(peekKid(token));
      if (unavailable) return { ok: false, error: new JtsError('JTS-500-01', unavailable.cause === undefined ? {} : { cause: unavailable.cause }) };
      const result = keyNotYetKnown(token, clock.now()) ?? verifyWith(token);
      if (result.ok && revoked?.has(result.payload.aid)) {
        metrics.count?.('jts_verifier_revoked_refusals_total');
        return { ok: false, error: new JtsError('JTS-401-04') };
      }
      return result;
    },
    status() {
      return subscriber?.status() ?? { feed: 'off', lastEventId: undefined, lastEventAt: undefined, revokedSessions: 0, gaps: 0, lastError: undefined };
    },
    async close() {
      const closing = subscriber;
      subscriber = undefined;
      await closing?.close();
    },
  };

  /**
   * An unknown `kid` is a forged or foreign token (JTS-401-02, sign in again) only when the key
   * set this service holds was fetched after the token was issued: then the issuer did not have
   * that key. A token newer than our key set may be signed with a key published since, which the
   * cooldown keeps us from fetching yet; telling its client to sign in again would be wrong, so it
   * gets JTS-500-01 (retry) with the seconds until the next fetch is allowed. The token is still
   * never accepted before its key is fetched and its signature checked.
   */
  function keyNotYetKnown(token: unknown, now: number): VerifyResult | undefined {
    if (!keys.fetches) return undefined;
    const kid = peekKid(token);
    if (kid === undefined || keys.get(kid) !== undefined) return undefined;
    const issuedAt = peekIssuedAt(token);
    // The claim is unverified: a token "issued" in the future is not a new key's, it is forged
    // (JTS-401-02), so no one can make this verifier answer 5xx by putting a far `iat` in a token.
    if (issuedAt === undefined || issuedAt > seconds(now) + skewSeconds) return undefined;
    if (keys.fetchedAt >= issuedAt * 1000) return undefined;
    const retryAfter = Math.max(1, Math.ceil((keys.lastAttempt + keys.cooldownMs - now) / 1000));
    return { ok: false, error: new JtsError('JTS-500-01', { message: 'The key set does not hold this key id yet; retry shortly.', retryAfter }) };
  }
}

/** Checked once, at start-up: a subscription that can never authenticate should not start quietly. */
function assertFeedOptions(events: EventFeedOptions, issuer: string | undefined): void {
  if (issuer === undefined) throw new Error('createVerifier with events needs the issuer: security events are accepted only from it');
  for (const name of ['clientId', 'clientSecret'] as const) {
    const value: unknown = events[name];
    if (typeof value !== 'string' || value.length === 0) throw new Error(`createVerifier: events.${name} must be a non-empty string (the service client's credentials), got ${value === undefined ? 'undefined' : typeof value}`);
  }
  try {
    new URL(events.url);
  } catch {
    throw new Error(`createVerifier: events.url is not a URL: ${String(events.url)}`);
  }
}

/** `iat` of a token's payload, unverified: only ever used to choose between two refusals. */
function peekIssuedAt(token: unknown): number | undefined {
  if (typeof token !== 'string') return undefined;
  const iat = decodeSegment(token.split('.')[1] ?? '')?.iat;
  return typeof iat === 'number' && Number.isFinite(iat) ? iat : undefined;
}

function peekKid(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 2048) return undefined;
  const kid = decodeSegment(token.slice(0, dot))?.kid;
  return typeof kid === 'string' ? kid : undefined;
}
