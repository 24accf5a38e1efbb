import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A single Redis (direct or found through Sentinel) or a Redis Cluster: the stores take either. */
export type RedisClient = Redis | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisConnectionOptions {
  /** A single Redis: `redis://[user:password@]host:port[/db]`. */
  url?: string | undefined;
  /** Sentinels to ask for the master named `sentinelName`. */
  sentinels?: readonly HostPort[] | undefined;
  sentinelName?: string | undefined;
  /** Password of the data nodes (Sentinel mode, Cluster mode; a URL carries its own). */
  password?: string | undefined;
  commandTimeoutMs: number;
}

/**
 * The options that make every command bounded: no offline queue and no per-request retries, so a
 * command sent during an outage fails at once (503) instead of waiting and being replayed into
 * Redis after the client gave up; `commandTimeout` bounds a slow Redis.
 */
function boundedOptions(commandTimeoutMs: number) {
  return {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
  } satisfies RedisOptions;
}

/** Reconnection goes on in the background with a capped backoff, and the server recovers by itself. */
const reconnectBackoff = (attempt: number) => Math.min(50 * 2 ** attempt, 1000);

/**
 * A single Redis, directly (`url`) or through Sentinel (`sentinels` + `sentinelName`), whose every
 * command is bounded (see {@link boundedOptions}).
 */
export function createRedisClient(options: RedisConnectionOptions): Redis {
  const redisOptions: RedisOptions = {
    ...boundedOptions(options.commandTimeoutMs),
    enableOfflineQueue: false,
    connectTimeout: Math.max(options.commandTimeoutMs, 2000),
    retryStrategy: reconnectBackoff,
    lazyConnect: false,
  };
  if (options.sentinels !== undefined && options.sentinels.length > 0) {
    if (options.sentinelName === undefined) throw new Error('Sentinel mode needs the name of the master group');
    return new Redis({
      ...redisOptions,
      sentinels: options.sentinels.map(({ host, port }) => ({ host, port })),
      name: options.sentinelName,
      ...(options.password === undefined ? {} : { password: options.password }),
      // Asking the sentinels is bounded too, and failing sentinels are retried with the same backoff.
      sentinelCommandTimeout: options.commandTimeoutMs,
      sentinelRetryStrategy: reconnectBackoff,
      role: 'master',
      // Learn of a failover from the sentinels at once (+switch-master), and if a write still
      // reaches a demoted master (READONLY), reconnect to ask for the new one. The failed command
      // is not resent (reconnectOnError returns true, not 2): the request gets its 503.
      failoverDetector: true,
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    });
  }
  if (options.url === undefined) throw new Error('createRedisClient needs a URL or sentinels');
  return new Redis(options.url, redisOptions);
}

/**
 * A Redis Cluster client with the same guarantees as {@link createRedisClient}.
 *
 * ioredis's Cluster has two retry paths of its own that could send a command again after the
 * caller gave up on it (503): a delayed retry after a closed connection (`retryDelayOnFailover`)
 * and after CLUSTERDOWN (`retryDelayOnClusterDown`). Both are turned off, so a failed command
 * fails, and the slot map is refreshed for the next one. MOVED/ASK/TRYAGAIN redirections are
 * kept: Redis did not run the command, and they are followed at once.
 *
 * The cluster forces an offline queue on its node connections (a node is connected lazily, on
 * its first command). A command queued there waits only for the TCP connect, so the connect
 * timeout is held under the command timeout and the ready check is skipped: a queued command is
 * either written before its own timeout fires or rejected with its connection — never written
 * after the caller saw the timeout.
 */
export function createClusterClient(nodes: readonly HostPort[], options: Pick<RedisConnectionOptions, 'password' | 'commandTimeoutMs'>): Cluster {
  if (nodes.length === 0) throw new Error('a Redis Cluster needs at least one node');
  const clusterOptions: ClusterOptions = {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: 0,
    retryDelayOnMoved: 0,
    maxRedirections: 16,
    slotsRefreshTimeout: Math.max(options.commandTimeoutMs, 1000),
    // Reconnect with a capped backoff when every node was lost; never give up.
    clusterRetryStrategy: reconnectBackoff,
    redisOptions: {
      ...boundedOptions(options.commandTimeoutMs),
      connectTimeout: Math.max(25, Math.floor(options.commandTimeoutMs / 2)),
      enableReadyCheck: false,
      ...(options.password === undefined ? {} : { password: options.password }),
    },
  };
  return new Cluster(
    nodes.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
}

export interface RedisTopology {
  url: string | undefined;
  clusterNodes: readonly HostPort[];
  sentinels: readonly HostPort[];
  sentinelName: string | undefined;
  password: string | undefined;
  commandTimeoutMs: number;
}

/** The client the configuration asks for (Cluster, Sentinel or a URL), or undefined for none. */
export function connectRedis(topology: RedisTopology): RedisClient | undefined {
  const { commandTimeoutMs, password } = topology;
  if (topology.clusterNodes.length > 0) return createClusterClient(topology.clusterNodes, { commandTimeoutMs, password });
  if (topology.sentinels.length > 0) return createRedisClient({ sentinels: topology.sentinels, sentinelName: topology.sentinelName, password, commandTimeoutMs });
  if (topology.url !== undefined) return createRedisClient({ url: topology.url, commandTimeoutMs });
  return undefined;
}

/** Where the client talks to, for logs (never a password). */
export function describeRedis(topology: RedisTopology): string {
  if (topology.clusterNodes.length > 0) return `cluster ${topology.clusterNodes.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  if (topology.sentinels.length > 0) return `sentinel ${topology.sentinelName ?? '?'} via ${topology.sentinels.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  if (topology.url !== undefined) {
    try {
      const url = new URL(topology.url);
      return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
    } catch {
      return 'redis';
    }
  }
  return 'none';
}

/** Resolves when the client is ready, or rejects after `timeoutMs`. */
export function waitForReady(client: RedisClient, timeoutMs: number): Promise<void> {
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
