import type { Logger } from 'pino';
import { redactRedisError } from '../config/redact.js';
import type { RedisClient } from '../redis/connect.js';

/** What the health log needs to name the Redis and to keep its secrets out of the lines. */
export interface RedisHealthOptions {
  /** describeRedis(): the topology without credentials. */
  redis: string;
  secrets: { url?: string | undefined; password?: string | undefined };
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * Logs Redis's state changes, not its reconnect attempts: ioredis emits `error` on every failed
 * attempt (every second or faster while Redis is down), which would bury everything else. One
 * `warn` when Redis becomes unreachable (with the first error, redacted, as message and code: an
 * outage needs no stack), one `info` when it answers again with how long it was gone. Attempts in
 * between are logged at `debug` only.
 */
export function logRedisHealth(client: RedisClient, logger: Logger, options: RedisHealthOptions): void {
  const now = options.now ?? Date.now;
  let downSince: number | undefined;
  client.on('error', (error: unknown) => {
    // Under `error`, not `err`: pino's error serializer would add an empty `stack` to a plain object.
    const err = describeError(error, options.secrets);
    if (downSince !== undefined) {
      logger.debug({ error: err, redis: options.redis }, 'redis still unavailable');
      return;
    }
    downSince = now();
    logger.warn({ error: err, redis: options.redis }, 'redis unavailable: requests that need it answer 503 until it is back');
  });
  client.on('ready', () => {
    if (downSince === undefined) return;
    const downMs = now() - downSince;
    downSince = undefined;
    logger.info({ redis: options.redis, downMs }, `redis available again after ${(downMs / 1000).toFixed(1)} s`);
  });
}

/**
 * An error as one line: its message (for Node's AggregateError of a dual-stack connect, which has
 * an empty message, the messages of the attempts inside) and its code, with secrets redacted.
 */
function describeError(error: unknown, secrets: RedisHealthOptions['secrets']): { message: string; code?: string } {
  const inner = error instanceof AggregateError ? error.errors : [];
  const described = redactRedisError(error, secrets);
  if (described.message !== '') return described;
  const messages = inner.map((item) => redactRedisError(item, secrets).message).filter((message) => message !== '');
  return { ...described, message: messages.length > 0 ? messages.join('; ') : (described.code ?? 'unknown error') };
}
