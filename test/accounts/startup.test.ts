import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { openAccounts, SchemaBehindError } from '../../src/accounts/open';
import { newUser } from '../../src/users/new-user';
import { testDatabaseUrl } from '../support/accounts';
import { built } from '../support/built';

const ROOT = resolve(__dirname, '../..');
const settings = (overrides: { url?: string; dataDir?: string; schema?: string }) => ({ url: undefined, dataDir: 'memory://', timeoutMs: 5000, poolMax: 2, ...overrides });

function migrateCli(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(JTS_|REDIS_|DATABASE_|DATA_DIR|DOTENV_)/.test(name)));
  return new Promise((done) => {
    execFile(process.execPath, [built('cli/db-migrate')], { cwd: ROOT, env: { ...base, NODE_ENV: 'test', ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('opening the accounts database', () => {
  it('migrates a fresh PostgreSQL schema outside production, and then has nothing left to apply', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const first = await openAccounts(settings({ url: testDatabaseUrl(), schema }), { production: false });
    expect(first.applied).toEqual(['0001-users', '0002-user-version', '0003-challenges', '0004-clients', '0005-one-live-challenge', '0006-mfa', '0007-passkeys', '0008-mfa-required', '0009-sign-in-devices', '0010-webhook-outbox', '0011-notice-outbox', '0012-email-change']);
    await first.database.close();
    const second = await openAccounts(settings({ url: testDatabaseUrl(), schema }), { production: true });
    expect(second.applied).toEqual([]);
    await second.database.close();
  });

  it('refuses, in production, a schema that is behind, naming npm run db:migrate; the command then brings it up to date', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const error = await openAccounts(settings({ url: testDatabaseUrl(), schema }), { production: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaBehindError);
    expect((error as Error).message).toMatch(/pending migrations: 0001-users.*npm run db:migrate/);

    // The CLI reads DATABASE_URL only; the search path in the URL puts it in this test's schema.
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', `-c search_path=${schema}`);
    const run = await migrateCli({ DATABASE_URL: url.toString() });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('applied 0001-users');
    const again = await migrateCli({ DATABASE_URL: url.toString() });
    expect(again.stdout).toContain('already up to date');

    const opened = await openAccounts(settings({ url: testDatabaseUrl(), schema }), { production: true });
    await opened.database.close();
  });

  it('enforces unique emails in the database itself, whatever the case, not only in code', async () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const opened = await openAccounts(settings({ url: testDatabaseUrl(), schema }), { production: false });
    await opened.database.close();
    const client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      const insert = (id: string, email: string) =>
        client.query(`INSERT INTO ${schema}.users (id, email, name, password_hash, created_at, updated_at) VALUES ($1, $2, 'x', 'h', now(), now())`, [id, email]);
      await insert('a', 'Same@Example.com');
      await expect(insert('b', 'sAME@example.COM')).rejects.toMatchObject({ code: '23505' });
    } finally {
      await client.end();
    }
  });

  it('keeps PGlite accounts in DATA_DIR across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jts-pglite-'));
    try {
      const first = await openAccounts(settings({ dataDir }), { production: false });
      const user = newUser({ email: 'kept@example.com', name: 'Kept', passwordHash: 'h', permissions: ['read:profile'] }, 1_000);
      await first.users.create(user);
      await first.database.close();
      const second = await openAccounts(settings({ dataDir }), { production: false });
      expect(second.applied).toEqual([]);
      await expect(second.users.findByEmail('KEPT@example.com')).resolves.toMatchObject({ id: user.id, name: 'Kept' });
      await second.database.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
