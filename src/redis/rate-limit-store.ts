import { MemoryStore, type IncrementResponse, type Store } from 'express-rate-limit';
import { Cluster } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { RedisClient } from './connect.js';

/** Makes one store per limiter (express-rate-limit refuses a store shared by two limiters). */
export type RateLimitStoreFactory = (limiter: string) => Store;

/**
 * rate-limit-redis loads its Lua scripts once, in `init()`. If Redis is down at that moment the
 * stored script promise stays rejected and every later call fails with it, so the limiter would
 * never recover. This subclass marks the scripts stale after any failure and loads them again
 * before the next count, so counting resumes with the first request after Redis is back.
 */
class RecoveringRedisStore extends RedisStore {
  private stale = false;

  constructor(
    options: ConstructorParameters<typeof RedisStore>[0],
    private readonly onError: (error: unknown) => void,
  ) {
    super(options);
  }

  override async increment(key: string): Promise<IncrementResponse> {
    if (this.stale) {
      this.stale = false;
      this.reloadScripts();
    }
    try {
      return await super.increment(key);
    } catch (error) {
      this.stale = true;
      this.onError(error);
      throw error;
    }
  }

  private reloadScripts(): void {
    const increment = this.loadIncrementScript();
    const get = this.loadGetScript();
    // Handled here so a failed reload is not an unhandled rejection; awaiting it later still throws.
    increment.catch(() => undefined);
    get.catch(() => undefined);
    this.incrementScriptSha = increment;
    this.getScriptSha = get;
  }
}

/**
 * Counters in Redis, under `prefix` + limiter name, so every instance behind a load balancer
 * shares them. Commands go through the server's bounded client (no offline queue), so an outage
 * fails fast instead of stalling the request.
 */
export function redisRateLimitStores(redis: RedisClient, prefix: string, onError: (limiter: string, error: unknown) => void): RateLimitStoreFactory {
  return (limiter) =>
    new RecoveringRedisStore(
      {
        prefix: `${prefix}${limiter}:`,
        sendCommand: (command: string, ...args: string[]) => sendCommand(redis, command, args),
      },
      (error) => {
        onError(limiter, error);
      },
    );
}

/**
 * On a Cluster, `SCRIPT LOAD` has no key, so ioredis sends it to a random node, while the
 * EVALSHA that follows goes to the counter's node: NOSCRIPT, and rate-limit-redis's one retry
 * loads it on a random node again. The counter then fails (and the limiter lets the request
 * through) until chance has loaded the script everywhere. Loading it on every master instead
 * makes the first EVALSHA work; a master that appears later answers NOSCRIPT once, and the
 * reload reaches it.
 */
async function sendCommand(redis: RedisClient, command: string, args: string[]): Promise<RedisReply> {
  if (redis instanceof Cluster && command.toUpperCase() === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD') {
    const masters = redis.nodes('master');
    if (masters.length === 0) throw new Error('no Redis Cluster master is known yet');
    const shas = await Promise.all(masters.map((node) => node.call(command, ...args) as Promise<RedisReply>));
    return shas[0] as RedisReply;
  }
  return redis.call(command, ...args) as Promise<RedisReply>;
}

/** Counters in this process only: right for one instance and for development. */
export function memoryRateLimitStores(): RateLimitStoreFactory {
  return () => new MemoryStore();
}

/**
 * A fixed-window counter read outside a limiter (the risk step-up's failed sign-ins, auth/sign-in-risk.ts),
 * on one of the limiter stores above, so it lives where the limiters' counters do (Redis, with a
 * TTL of one window, shared by every instance; or this process).
 */
export interface WindowCounter {
  /** Counts one more under `key`; resolves to the count of the current window. */
  add(key: string): Promise<number>;
  /** The count of the current window (0 when none). */
  count(key: string): Promise<number>;
}

export function windowCounter(store: Store, windowMs: number): WindowCounter {
  // express-rate-limit calls init itself; here nobody else does (RedisStore reads windowMs from it).
  const ready = Promise.resolve(store.init?.({ windowMs } as Parameters<NonNullable<Store['init']>>[0]));
  ready.catch(() => undefined);
  return {
    async add(key) {
      await ready;
      return (await store.increment(key)).totalHits;
    },
    async count(key) {
      await ready;
      return (await store.get?.(key))?.totalHits ?? 0;
    },
  };
}
