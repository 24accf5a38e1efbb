import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  commandTimeoutMs: number;
}

/**
 * A client whose every command is bounded: no offline queue and no per-request retries, so a
 * command sent during an outage fails at once (503) instead of waiting and being replayed into
 * Redis after the client gave up; `commandTimeout` bounds a slow Redis. Reconnection goes on in
 * the background, and the server recovers by itself.
 */
export function createRedisClient(options: RedisConnectionOptions): Redis {
  const redisOptions: RedisOptions = {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(options.commandTimeoutMs, 2000),
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
    lazyConnect: false,
  };
  return new Redis(options.url, redisOptions);
}

/** Resolves when the client is ready, or rejects after `timeoutMs`. */
export function waitForReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
