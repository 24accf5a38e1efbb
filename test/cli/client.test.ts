import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { hashClientSecret, secretMatches } from '../../src/accounts/client-secret';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlClientStore } from '../../src/accounts/sql-client-store';
import { openTestDatabase, urlWithSchema } from '../support/accounts';
import { built } from '../support/built';

const ROOT = resolve(__dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the client CLI with only the variables given here, so the developer's shell or .env cannot leak in. */
function clientCli(args: string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(JTS_|REDIS_|BCRYPT_|DOTENV_|DATABASE_|DATA_DIR)/.test(name)));
  return new Promise((done) => {
    execFile(process.execPath, [built('cli/client'), ...args], { cwd: ROOT, env: { ...base, NODE_ENV: 'test', ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The secret line of an `add` or `rotate-secret` output. */
function secretOf(run: Run): string {
  const secret = /^([A-Za-z0-9_-]{43})$/m.exec(run.stdout)?.[1];
  if (secret === undefined) throw new Error(`no secret in: ${run.stdout}`);
  return secret;
}

// Each command is a process of its own (about half a second each, more on a loaded 2-core machine).
jest.setTimeout(120_000);

describe('npm run client', () => {
  let database: AccountsDatabase;
  let clients: SqlClientStore;
  let env: Record<string, string>;

  beforeEach(async () => {
    database = await openTestDatabase('postgres');
    clients = new SqlClientStore(database.db);
    env = { DATABASE_URL: urlWithSchema(database.schema ?? 'public') };
  });

  afterEach(async () => {
    await database.close();
  });

  it('adds a client, prints its secret once and stores only its SHA-256', async () => {
    const run = await clientCli(['add', '--id', 'orders', '--scope', 'read:orders,write:orders', '--scope', 'read:orders', '--audience', 'https://orders.example.com'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const secret = secretOf(run);
    const stored = await clients.get('orders');
    expect(stored).toMatchObject({ id: 'orders', scopes: ['read:orders', 'write:orders'], audience: 'https://orders.example.com', disabled: false, previousSecretHash: undefined });
    expect(stored?.secretHash).toBe(hashClientSecret(secret));
    expect(JSON.stringify(await database.db.selectFrom('clients').selectAll().execute())).not.toContain(secret);

    const listed = await clientCli(['list'], env);
    expect(listed.stdout).toMatch(/^id\s+audience\s+scopes\s+disabled\s+rotation$/m);
    expect(listed.stdout).toMatch(/^orders\s+https:\/\/orders\.example\.com\s+read:orders,write:orders\s+no\s+-$/m);
    expect(listed.stdout).not.toContain(stored?.secretHash);
  });

  // The service's other refusals are tested without a process each (test/auth/client-admin.test.ts).
  it('prints a refusal as one line and exits 1: a taken id, a missing option', async () => {
    await clientCli(['add', '--id', 'orders', '--audience', 'https://orders.example.com'], env);
    const cases: [string[], RegExp][] = [
      [['add', '--id', 'orders', '--audience', 'https://other.example.com'], /^client: a client with id orders already exists\n$/],
      [['add', '--id', 'x'], /^client: --audience is required \(see --help\)\n$/],
    ];
    for (const [args, message] of cases) {
      const run = await clientCli(args, env);
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      expect(run.stderr).toMatch(message);
    }
    expect(await clients.list()).toHaveLength(1);
  });

  it('deletes a client, and refuses one with this server’s own audience (JTS_AUDIENCE)', async () => {
    await clientCli(['add', '--id', 'orders', '--audience', 'https://orders.example.com'], env);
    expect(await clientCli(['delete', '--id', 'orders'], env)).toMatchObject({ code: 0, stdout: 'deleted client orders\n' });
    await expect(clients.get('orders')).resolves.toBeUndefined();
    const own = await clientCli(['add', '--id', 'api', '--audience', 'https://auth.example.com'], { ...env, JTS_AUDIENCE: 'https://auth.example.com' });
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/^client: `audience` must not be this server's own audience \(JTS_AUDIENCE https:\/\/auth\.example\.com\)/);
    expect(await clients.list()).toEqual([]);
  });

  it('disables and enables a client', async () => {
    await clientCli(['add', '--id', 'orders', '--audience', 'https://orders.example.com'], env);
    expect((await clientCli(['disable', '--id', 'orders'], env)).stdout).toBe('disabled client orders\n');
    expect((await clients.get('orders'))?.disabled).toBe(true);
    expect((await clientCli(['enable', '--id', 'orders'], env)).code).toBe(0);
    expect((await clients.get('orders'))?.disabled).toBe(false);
    const missing = await clientCli(['disable', '--id', 'nobody'], env);
    expect(missing).toMatchObject({ code: 1, stderr: 'client: no client with id nobody\n' });
  });

  it('rotates a secret keeping the previous one for the grace period, refuses a second rotation, and --finish ends it', async () => {
    const first = secretOf(await clientCli(['add', '--id', 'orders', '--audience', 'https://orders.example.com'], env));
    const rotated = await clientCli(['rotate-secret', '--id', 'orders', '--grace', '2h'], env);
    expect(rotated.code).toBe(0);
    const second = secretOf(rotated);
    const during = await clients.get('orders');
    expect(secretMatches(second, during?.secretHash ?? '')).toBe(true);
    expect(secretMatches(first, during?.previousSecretHash ?? '')).toBe(true);
    expect((during?.previousSecretExpiresAt ?? 0) - Date.now()).toBeGreaterThan(7_000_000);
    expect((await clientCli(['list'], env)).stdout).toContain('previous secret valid until');

    const again = await clientCli(['rotate-secret', '--id', 'orders'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/a rotation of orders is open until .*; finish it first \(npm run client -- rotate-secret --finish, or POST \/admin\/clients\/orders\/finish-rotation\)/);

    expect((await clientCli(['rotate-secret', '--id', 'orders', '--finish'], env)).code).toBe(0);
    const after = await clients.get('orders');
    expect(after).toMatchObject({ previousSecretHash: undefined, previousSecretExpiresAt: undefined });
    expect(secretMatches(second, after?.secretHash ?? '')).toBe(true);
    expect((await clientCli(['rotate-secret', '--id', 'orders', '--grace', 'soon'], env)).stderr).toMatch(/--grace "soon": expected 0 or a number with a unit/);
  });
});
