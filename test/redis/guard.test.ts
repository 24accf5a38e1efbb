import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis, ReplyError } from 'ioredis';
import { createRedisClient } from '../../src/redis/connect';
import { guardStore, isRedisOutage } from '../../src/redis/guard';
import { StoreError, STORE_RETRY_AFTER_SECONDS } from '../../src/redis/store-error';
import { testRedisUrl } from '../support/test-app';

// ioredis re-exports redis-errors' ReplyError untyped (`any`); this is its real constructor.
const NewReplyError = ReplyError as unknown as new (message: string) => Error;

/** The error a real command rejects with. */
async function failureOf(command: () => Promise<unknown>): Promise<unknown> {
  try {
    await command();
  } catch (error) {
    return error;
  }
  throw new Error('the command did not fail');
}

/** A TCP server that accepts connections and never answers: a Redis that hangs. */
async function silentServer(): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, sockets };
}

describe('isRedisOutage tells an outage from a bug', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { lazyConnect: false });
  });
  afterAll(() => {
    redis.disconnect();
  });

  it('takes an error reply to a wrong command (WRONGTYPE) as a bug', async () => {
    const key = `guard-test:${Date.now()}`;
    await redis.set(key, 'a string', 'PX', 10_000);
    const error = await failureOf(() => redis.hget(key, 'field'));
    expect(error).toBeInstanceOf(ReplyError);
    expect(isRedisOutage(error)).toBe(false);
  });

  it('takes a failing script (a Lua runtime error) as a bug', async () => {
    const error = await failureOf(() => redis.eval('return redis.call("NOSUCHCOMMAND")', 0));
    expect(isRedisOutage(error)).toBe(false);
  });

  it('takes plain programming errors as bugs', () => {
    expect(isRedisOutage(new SyntaxError('Unexpected token u in JSON at position 0'))).toBe(false);
    expect(isRedisOutage(new TypeError("Cannot read properties of undefined (reading 'st')"))).toBe(false);
    expect(isRedisOutage('a string')).toBe(false);
    expect(isRedisOutage(undefined)).toBe(false);
  });

  it('takes a command timeout of a Redis that does not answer as an outage', async () => {
    const silent = await silentServer();
    const client = createRedisClient({ url: `redis://127.0.0.1:${silent.port}`, commandTimeoutMs: 100 });
    client.on('error', () => undefined);
    try {
      // No ready check answer ever comes, so the client never becomes ready: the command fails at once.
      const error = await failureOf(() => client.get('x'));
      expect(isRedisOutage(error)).toBe(true);
    } finally {
      client.disconnect();
      for (const socket of silent.sockets) socket.destroy();
      silent.server.close();
    }
  });

  it('takes a command that timed out on a connected Redis as an outage', async () => {
    const silent = await silentServer();
    const client = new Redis({ port: silent.port, host: '127.0.0.1', commandTimeout: 100, enableReadyCheck: false, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await new Promise<void>((resolve) => client.once('connect', () => { resolve(); }));
      const error = await failureOf(() => client.get('x'));
      expect((error as Error).message).toBe('Command timed out');
      expect(isRedisOutage(error)).toBe(true);
    } finally {
      client.disconnect();
      for (const socket of silent.sockets) socket.destroy();
      silent.server.close();
    }
  });

  it('takes a refused connection and a closed connection as outages', async () => {
    const closed = await silentServer();
    const port = closed.port;
    await new Promise<void>((resolve) => closed.server.close(() => { resolve(); }));
    const refused = createRedisClient({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 200 });
    refused.on('error', () => undefined);
    expect(isRedisOutage(await failureOf(() => refused.get('x')))).toBe(true);
    refused.disconnect();
    // What the client's 'error' event carries: the socket's own ECONNREFUSED.
    const socketError = await new Promise<Error>((resolve) => connect(port, '127.0.0.1').once('error', resolve));
    expect((socketError as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(isRedisOutage(socketError)).toBe(true);

    const client = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 500 });
    await new Promise<void>((resolve) => client.once('ready', () => { resolve(); }));
    client.disconnect();
    expect(isRedisOutage(await failureOf(() => client.get('x')))).toBe(true);
  });

  it.each([
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script.',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'MASTERDOWN Link with MASTER is down',
    "READONLY You can't write against a read only replica.",
    'NOREPLICAS Not enough good replicas to write.',
    "OOM command not allowed when used memory > 'maxmemory'.",
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
  ])('takes the "not now" reply %j as an outage', (message) => {
    expect(isRedisOutage(new NewReplyError(message))).toBe(true);
  });

  it.each(['WRONGTYPE Operation against a key holding the wrong kind of value', 'ERR wrong number of arguments', 'NOSCRIPT No matching script.'])(
    'takes the reply %j as a bug',
    (message) => {
      expect(isRedisOutage(new NewReplyError(message))).toBe(false);
    },
  );
});

describe('guardStore', () => {
  it('turns an outage into StoreError service_unavailable with retry_after and the cause', async () => {
    const cause = new Error('Connection is closed.');
    const error = await failureOf(() => guardStore(() => Promise.reject(cause)));
    expect(error).toBeInstanceOf(StoreError);
    const storeError = error as StoreError;
    expect(storeError).toMatchObject({ code: 'service_unavailable', status: 503, retryAfter: STORE_RETRY_AFTER_SECONDS, cause });
    expect(storeError.toBody(0)).toEqual({ error: 'service_unavailable', message: 'A backing service is unavailable.', action: 'retry', retry_after: STORE_RETRY_AFTER_SECONDS, timestamp: 0 });
  });

  it('lets a bug through unchanged, so it is answered as a 500 and not counted as an outage', async () => {
    const bug = new Error('unexpected reply from the rotate script: 9');
    await expect(guardStore(() => Promise.reject(bug))).rejects.toBe(bug);
  });

  it('returns the value of an operation that succeeds', async () => {
    await expect(guardStore(() => Promise.resolve(42))).resolves.toBe(42);
  });
});
