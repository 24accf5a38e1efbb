import type { JWK } from 'jose';
import { seconds, type Clock } from './clock.js';
import { keysFromJwks, type PublishedJwk, type VerificationKey } from './keys.js';

/** A JWKS is a few keys; anything far larger is not one. */
const MAX_JWKS_BYTES = 256 * 1024;

export interface KeySetOptions {
  jwksUrl: string | URL | undefined;
  keys: readonly JWK[] | undefined;
  clock: Clock;
  cacheMaxAgeMs: number;
  unknownKidCooldownMs: number;
  fetch: typeof fetch;
}

/** Why no key can be used at all: the key set was never fetched (`cause` says why, when a fetch failed). */
export interface KeysUnavailable {
  cause?: unknown;
}

/**
 * The issuer's keys, fetched from its JWKS and cached, shared by BearerPass and security-event
 * verification. Every refetch, whatever its reason, waits out the cooldown: no token or event can
 * make a service hammer the issuer, even while the issuer is down.
 */
export interface KeySet {
  get(kid: string): VerificationKey | undefined;
  readonly size: number;
  /** When the held keys were fetched (ms; Infinity for fixed keys, -Infinity before the first fetch). */
  readonly fetchedAt: number;
  /** When the last fetch was attempted (ms). */
  readonly lastAttempt: number;
  readonly fetches: boolean;
  readonly cooldownMs: number;
  /**
   * Fetches the key set first when no key is held or `kid` is unknown and the cooldown allows;
   * refreshes a stale set in the background. Resolves to why no key at all is usable, if so.
   */
  prepare(kid: string | undefined): Promise<KeysUnavailable | undefined>;
}

export function createKeySet(options: KeySetOptions): KeySet {
  const { clock, jwksUrl, cacheMaxAgeMs, unknownKidCooldownMs: cooldownMs } = options;
  let keys: ReadonlyMap<string, VerificationKey> = options.keys ? keysFromJwks(options.keys, seconds(clock.now())) : new Map();
  let fetchedAt = options.keys ? Infinity : -Infinity;
  let lastAttempt = -Infinity;
  let inFlight: Promise<void> | undefined;

  function refresh(url: string | URL): Promise<void> {
    // Concurrent callers share one fetch.
    inFlight ??= (async () => {
      lastAttempt = clock.now();
      try {
        const response = await options.fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(5000) });
        if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
        const text = await response.text();
        if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS is too large');
        const body = JSON.parse(text) as { keys?: unknown };
        if (!Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
        const fresh = keysFromJwks(body.keys as PublishedJwk[], seconds(clock.now()));
        // An empty or unusable answer never wipes out keys that work.
        if (fresh.size === 0 && keys.size > 0) throw new Error('JWKS has no usable key');
        keys = fresh;
        fetchedAt = clock.now();
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return {
    get: (kid) => keys.get(kid),
    get size() {
      return keys.size;
    },
    get fetchedAt() {
      return fetchedAt;
    },
    get lastAttempt() {
      return lastAttempt;
    },
    fetches: jwksUrl !== undefined,
    cooldownMs,
    async prepare(kid) {
      const now = clock.now();
      if (jwksUrl === undefined || now - lastAttempt < cooldownMs) return keys.size === 0 ? {} : undefined;
      if (keys.size === 0 || (kid !== undefined && !keys.has(kid))) {
        try {
          await refresh(jwksUrl);
        } catch (error) {
          // With no key at all the failure is ours, not the token's.
          if (keys.size === 0) return { cause: error };
        }
      } else if (now - fetchedAt > cacheMaxAgeMs) {
        // Stale but usable: refresh in the background, answer from the cache now.
        refresh(jwksUrl).catch(() => undefined);
      }
      return undefined;
    },
  };
}
