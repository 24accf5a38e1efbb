import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlWebhookOutbox } from '../../src/webhooks/outbox';
import { outboxEvent } from '../../src/webhooks/events';
import { openTestDatabase, urlWithSchema } from '../support/accounts';
import { built } from '../support/built';

const ROOT = resolve(__dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the webhooks CLI with only the variables given here. */
function webhooksCli(args: string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(JTS_|REDIS_|BCRYPT_|DOTENV_|DATABASE_|DATA_DIR)/.test(name)));
  return new Promise((done) => {
    execFile(process.execPath, [built('cli/webhooks'), ...args], { cwd: ROOT, env: { ...base, NODE_ENV: 'test', ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

jest.setTimeout(120_000);

describe('npm run webhooks', () => {
  let database: AccountsDatabase;
  let outbox: SqlWebhookOutbox;
  let env: Record<string, string>;

  beforeEach(async () => {
    database = await openTestDatabase('postgres');
    outbox = new SqlWebhookOutbox(database.db);
    env = { DATABASE_URL: urlWithSchema(database.schema ?? 'public') };
  });
  afterEach(async () => {
    await database.close();
  });

  it('new-secret prints a whsec_ secret of 32 bytes that the standardwebhooks library accepts', async () => {
    const run = await webhooksCli(['new-secret'], {});
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const secret = run.stdout.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const wh = new Webhook(secret);
    const at = new Date();
    expect(() => wh.verify('{}', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign('msg_1', at, '{}') })).not.toThrow();
  });

  it('lists dead letters and redelivers one by id: pending again, same row; an unknown id fails', async () => {
    await outbox.add([outboxEvent('k1', 'sign_in.failures_exceeded', Date.now(), { prn: 'p', count: 5, window_seconds: 60 })], ['https://hooks.example.com/a?token=t0k']);
    const [claim] = await outbox.claim(10, 1000);
    if (claim === undefined) throw new Error('nothing claimed');
    await outbox.failed(claim, 'HTTP 500', undefined);

    const list = await webhooksCli(['list'], env);
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout).toContain(claim.id);
    expect(list.stdout).toMatch(/sign_in\.failures_exceeded {2}https:\/\/hooks\.example\.com\/a {2}attempts=1 {2}dead=\S+ {2}HTTP 500/);
    expect(list.stdout).not.toContain('t0k');

    const redeliver = await webhooksCli(['redeliver', '--id', claim.id], env);
    expect(redeliver).toMatchObject({ code: 0, stdout: `${claim.id} is pending again\n` });
    expect(await outbox.list('pending', 10)).toEqual([expect.objectContaining({ id: claim.id, attempts: 0 })]);
    expect((await webhooksCli(['list'], env)).stdout).toBe('no dead deliveries\n');

    const unknown = await webhooksCli(['redeliver', '--id', 'msg_nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('webhooks: no dead-lettered delivery has the id "msg_nope"\n');
    const usage = await webhooksCli(['list', '--status', 'lost'], env);
    expect(usage.stderr).toMatch(/--status "lost": expected one of dead, pending, delivered \(see --help\)/);
  });
});
