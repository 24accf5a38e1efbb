import { freshDatabaseUrl } from './support/accounts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/lib/free-port';
import { generateClientSecret, hashClientSecret } from '../src/accounts/client-secret';
import { openAccountsDatabase } from '../src/accounts/database';
import { SqlClientStore } from '../src/accounts/sql-client-store';
import { built } from './support/built';

/** The shared test Redis, when the jest global setup started one. */
const testRedisUrlOrUndefined = (): string | undefined => process.env.TEST_REDIS_URL;

interface Answer {
  status: number;
  body: string;
}

/** One request, by default on its own connection (no keep-alive agent), so nothing waits client-side. */
function call(port: number, method: string, path: string, body?: unknown, agent: Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent, headers: { 'x-jts-request': '1', ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface Server {
  child: ChildProcess;
  port: number;
  output: string[];
  exited: Promise<number | null>;
}

/** The real server, as `npm start` runs it (the build). */
async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jts-shutdown-'));
  const redisUrl = testRedisUrlOrUndefined();
  const child = spawn(process.execPath, [built('server')], {
    cwd: join(__dirname, '..'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'),
      JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem'),
      JTS_STATE_PROOF_SECRET_PATH: join(dir, 'state-proof.secret'),
      JTS_DEMO_USERS: 'false',
      DATABASE_URL: await freshDatabaseUrl(),
      RATE_LIMIT_LOGIN_IP: '1000/1m',
      // Concurrent logins to one account are counted until they succeed; this test sends 12 at once.
      RATE_LIMIT_LOGIN_ACCOUNT: '1000/15m',
      ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `sd${randomBytes(4).toString('hex')}:` } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    });
  });
  const deadline = Date.now() + 20_000;
  while (!output.join('').includes('jts auth server listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, port, output, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a new TCP connection to the port is accepted (false once the listener is closed). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => {
      resolve(false);
    });
  });
}

describe('graceful shutdown of the real server process', () => {
  let server: Server | undefined;
  afterEach(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('on SIGTERM: /readyz turns 503, every in-flight login completes, the listener closes, exit code 0', async () => {
    // One libuv thread: the 12 logins' bcrypt runs one after another (≥ 1 s together even on a fast core),
    // so some are surely still in flight when the listener closes 300 ms after SIGTERM. With the default
    // 4 threads a fast machine finished all 12 before that (CI, stop 27).
    server = await startServer({ BCRYPT_ROUNDS: '11', SHUTDOWN_DELAY: '300', SHUTDOWN_TIMEOUT: '15000', UV_THREADPOOL_SIZE: '1' });
    const { port } = server;
    const account = { email: `sd-${randomBytes(4).toString('hex')}@example.com`, password: 'shutdown test pass', name: 'S' };
    expect((await call(port, 'POST', '/jts/register', account)).status).toBe(201);
    expect((await call(port, 'GET', '/readyz')).status).toBe(200);
    // An idle keep-alive connection must not hold the process open.
    const keepAlive = new Agent({ keepAlive: true });
    expect((await call(port, 'GET', '/healthz', undefined, keepAlive)).status).toBe(200);

    let finished = 0;
    const logins = Array.from({ length: 12 }, () =>
      call(port, 'POST', '/jts/login', { email: account.email, password: account.password }).finally(() => {
        finished++;
      }),
    );
    await sleep(100);
    server.child.kill('SIGTERM');
    await sleep(50);
    const draining = await call(port, 'GET', '/readyz');
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toMatchObject({ status: 'not_ready', checks: { lifecycle: 'shutting down' } });
    // Watched from outside, not through the log: pino's writes to a pipe go through the same libuv
    // pool the logins' bcrypt fills, so the log line can arrive after the last login's answer.
    while (await accepts(port)) await sleep(10);
    // The listener is closed while logins are still being answered: they are the in-flight ones.
    expect(finished).toBeLessThan(12);

    const answers = await Promise.all(logins);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ bearerPass: expect.any(String), tokenType: 'Bearer' });
    }
    await expect(server.exited).resolves.toBe(0);
    keepAlive.destroy();
    await expect(call(port, 'GET', '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const log = server.output.join('');
    expect(log).toContain('"drained":true');
    expect(log).toContain('shutdown complete');
  }, 60_000);

  it('on SIGTERM with a security-event stream open: the stream ends, the process drains and exits 0', async () => {
    const databaseUrl = await freshDatabaseUrl();
    server = await startServer({ DATABASE_URL: databaseUrl, SHUTDOWN_TIMEOUT: '8000', JTS_CLIENTS_REFRESH: '1' });
    const { port } = server;
    // A subscriber client, written where the server (which has migrated the schema) reads its clients.
    const database = await openAccountsDatabase({ url: databaseUrl, dataDir: 'memory://', timeoutMs: 5000, poolMax: 1 });
    const secret = generateClientSecret();
    const now = Date.now();
    await new SqlClientStore(database.db).create({ id: 'feed', secretHash: hashClientSecret(secret), previousSecretHash: undefined, previousSecretExpiresAt: undefined, scopes: ['jts:events'], audience: 'https://feed.example.com', disabled: false, createdAt: now, updatedAt: now });
    await database.close();
    const authorization = `Basic ${Buffer.from(`feed:${secret}`).toString('base64')}`;
    let response: Response | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(200)) {
      response = await fetch(`http://127.0.0.1:${port}/jts/events`, { headers: { authorization } });
      if (response.status === 200) break;
    }
    expect(response?.status).toBe(200);
    const stream = (response as Response).body?.getReader();
    await stream?.read();
    server.child.kill('SIGTERM');
    // The stream ends (it would otherwise hold the listener open until SHUTDOWN_TIMEOUT, exit 1).
    for (;;) if ((await stream?.read())?.done !== false) break;
    await expect(server.exited).resolves.toBe(0);
    expect(server.output.join('')).toContain('"drained":true');
  }, 60_000);

  it('cuts requests still running after SHUTDOWN_TIMEOUT and exits 1', async () => {
    server = await startServer({ BCRYPT_ROUNDS: '14', SHUTDOWN_DELAY: '0', SHUTDOWN_TIMEOUT: '200' });
    const { port } = server;
    const slow = call(port, 'POST', '/jts/login', { email: 'nobody@example.com', password: 'whatever pass' });
    await sleep(100);
    server.child.kill('SIGTERM');
    await expect(slow).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(server.exited).resolves.toBe(1);
    expect(server.output.join('')).toContain('shutdown timeout reached');
  }, 60_000);
});
