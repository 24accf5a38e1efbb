import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../scripts/lib/free-port';
import { freshDatabaseUrl } from '../support/accounts';
import { Receiver, SECRET, until, webhookEnv } from './support';
import { built } from '../support/built';

jest.setTimeout(120_000);

interface Running {
  child: ChildProcess;
  port: number;
  output: string[];
  exited: Promise<number | null>;
}

/** The real server process (the build), as `npm start` runs it. */
async function startServer(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jts-webhooks-'));
  const child = spawn(process.execPath, [built('server')], {
    cwd: join(__dirname, '..', '..'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      BCRYPT_ROUNDS: '10',
      JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'),
      JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem'),
      JTS_STATE_PROOF_SECRET_PATH: join(dir, 'state-proof.secret'),
      JTS_DEMO_USERS: 'true',
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
  const deadline = Date.now() + 30_000;
  while (!output.join('').includes('jts auth server listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, port, output, exited };
}

/** The demo user signs in and out on `port`: one session.revoked. */
async function signInAndOut(port: number): Promise<string> {
  const base = `http://127.0.0.1:${port}`;
  const headers = { 'content-type': 'application/json', 'x-jts-request': '1' };
  const login = await fetch(`${base}/jts/login`, { method: 'POST', headers, body: JSON.stringify({ email: 'user@example.com', password: 'user123' }) });
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  const cookie = /jts_state_proof=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1] ?? '';
  const logout = await fetch(`${base}/jts/logout`, { method: 'POST', headers: { ...headers, cookie: `jts_state_proof=${cookie}` } });
  if (logout.status !== 200) throw new Error(`logout answered ${logout.status}`);
  return cookie.split('.')[2] as string;
}

describe('operator webhooks in the real server process', () => {
  const running: Running[] = [];
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await Receiver.start();
  });
  afterEach(async () => {
    for (const server of running.splice(0)) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await receiver.close();
  });

  it('a server killed (SIGKILL) while the receiver was down: the next process on the same PostgreSQL and Redis delivers every event, under the ids already tried', async () => {
    const env = { DATABASE_URL: await freshDatabaseUrl(), REDIS_URL: process.env.TEST_REDIS_URL ?? '', REDIS_KEY_PREFIX: `wp${randomBytes(4).toString('hex')}:`, ...webhookEnv(receiver) };
    receiver.status = 503;
    const first = await startServer(env);
    running.push(first);
    expect(first.output.join('')).toContain('operator webhooks on');
    expect(first.output.join('')).not.toContain(SECRET.slice(6));
    const aids = [await signInAndOut(first.port), await signInAndOut(first.port)];
    await until(() => new Set(receiver.received.map((r) => r.headers['webhook-id'])).size === 2, 'both events tried');
    first.child.kill('SIGKILL');
    await first.exited;
    const triedIds = new Set(receiver.received.map((r) => String(r.headers['webhook-id'])));

    receiver.status = 204;
    const second = await startServer(env);
    running.push(second);
    await until(() => receiver.accepted().length === 2, 'both delivered by the second process', 20_000);
    expect(receiver.accepted().map((d) => d.payload.data.aid).sort()).toEqual([...aids].sort());
    expect(new Set(receiver.accepted().map((d) => d.id))).toEqual(triedIds);

    // SIGTERM with a delivery in flight: it completes and is recorded before the process exits 0.
    receiver.delayMs = 700;
    const third = await signInAndOut(second.port);
    await until(() => receiver.accepted().length === 2 && receiver.inFlight === 1, 'the third delivery in flight');
    second.child.kill('SIGTERM');
    await expect(second.exited).resolves.toBe(0);
    expect(receiver.accepted().filter((d) => d.payload.data.aid === third)).toHaveLength(1);
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      const rows = await db.query<{ status: string }>('select status from webhook_outbox where body like $1', [`%${third}%`]);
      expect(rows.rows).toEqual([{ status: 'delivered' }]);
    } finally {
      await db.end();
    }
  });
});
