import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import bcrypt from 'bcrypt';
import type { Redis } from 'ioredis';
import { createRedisClient, waitForReady } from '../../src/redis/connect';
import { parseSessionPolicy } from '../../src/sessions/policy';
import { redisKeys } from '../../src/sessions/redis-keys';
import { RedisSessionStore } from '../../src/sessions/redis-store';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import { openTestDatabase, testDatabaseUrl } from '../support/accounts';
import { built } from '../support/built';

const ROOT = resolve(__dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: the jest global setup starts a private redis-server');
  return url;
}

/** Runs the user CLI with only the variables given here, so the developer's shell or .env cannot leak in. */
function userCli(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(JTS_|REDIS_|BCRYPT_|DOTENV_|DATABASE_|DATA_DIR)/.test(name)));
  return new Promise((done) => {
    const child = execFile(process.execPath, [built('cli/user'), ...args], { cwd: ROOT, env: { ...base, NODE_ENV: 'test', BCRYPT_ROUNDS: '4', ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

describe('npm run user', () => {
  let redis: Redis;
  let prefix: string;
  let env: Record<string, string>;
  let users: SqlUserStore;
  let sessions: RedisSessionStore;
  let database: AccountsDatabase;
  let databaseUrl: string;

  beforeAll(async () => {
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await waitForReady(redis, 5000);
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(async () => {
    prefix = `cli${randomBytes(4).toString('hex')}:`;
    database = await openTestDatabase('postgres');
    // The CLI reads DATABASE_URL only; the search path in the URL puts it in this test's schema.
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', `-c search_path=${database.schema ?? 'public'}`);
    databaseUrl = url.toString();
    env = { REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix, DATABASE_URL: databaseUrl };
    users = new SqlUserStore(database.db);
    sessions = new RedisSessionStore(redis, redisKeys(prefix));
  });

  afterEach(async () => {
    await database.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  async function seedUser(email: string): Promise<string> {
    const id = randomBytes(16).toString('base64url');
    const now = Date.now();
    await users.create({ id, email, name: 'Seeded', passwordHash: await bcrypt.hash('correct horse', 4), permissions: ['read:profile'], disabled: false, credentialEpoch: 0, version: 1, emailVerified: false, mfaRequired: false, createdAt: now, updatedAt: now });
    return id;
  }

  it('adds a user with repeated and comma-separated permissions, and list shows it without the password hash', async () => {
    const added = await userCli(['add', '--email', 'Ada@Example.com', '--password', 'correct horse', '--name', 'Ada', '--perm', 'read:profile,write:profile', '--perm', 'admin:access'], env);
    expect(added.code).toBe(0);
    const user = await users.findByEmail('ada@example.com');
    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada', permissions: ['read:profile', 'write:profile', 'admin:access'], disabled: false });
    expect(await bcrypt.compare('correct horse', user!.passwordHash)).toBe(true);

    const listed = await userCli(['list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/id\s+email\s+name\s+permissions\s+disabled/);
    expect(listed.stdout).toContain(user!.id);
    expect(listed.stdout).toContain('read:profile,write:profile,admin:access');
    expect(listed.stdout).not.toContain(user!.passwordHash);
    expect(listed.stdout).not.toContain('$2b$');
  });

  it('reads the password from the first line of stdin with --password-stdin', async () => {
    const run = await userCli(['add', '--email', 'stdin@example.com', '--password-stdin'], env, 'spaces are kept \nsecond line\n');
    expect(run.code).toBe(0);
    const user = await users.findByEmail('stdin@example.com');
    expect(await bcrypt.compare('spaces are kept ', user!.passwordHash)).toBe(true);
  });

  it('hashes the NFKC form of the password and measures its length there (30 × é sent as NFD is 60 bytes)', async () => {
    const nfd = 'é'.repeat(30).normalize('NFD');
    const run = await userCli(['add', '--email', 'nfd@example.com', '--password-stdin'], env, `${nfd}\n`);
    expect(run.code).toBe(0);
    const user = await users.findByEmail('nfd@example.com');
    expect(await bcrypt.compare('é'.repeat(30).normalize('NFC'), user!.passwordHash)).toBe(true);
    const ligature = await userCli(['add', '--email', 'lig@example.com', '--password', 'ﬁﬁﬁﬁ'], env);
    expect(ligature.code).toBe(0);
    expect(await bcrypt.compare('ﬁﬁﬁﬁ'.normalize('NFKC'), (await users.findByEmail('lig@example.com'))!.passwordHash)).toBe(true);
  });

  it('refuses to add an email that already exists', async () => {
    await seedUser('taken@example.com');
    const run = await userCli(['add', '--email', 'TAKEN@example.com', '--password', 'correct horse'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('email already exists');
    expect(await users.list()).toHaveLength(1);
  });

  it('replaces the permissions of a user with set-permissions', async () => {
    const id = await seedUser('perm@example.com');
    const run = await userCli(['set-permissions', '--email', 'perm@example.com', '--perm', 'billing:read', '--perm', 'billing:write'], env);
    expect(run.code).toBe(0);
    expect((await users.get(id))?.permissions).toEqual(['billing:read', 'billing:write']);
  });

  it('keeps admin:users on the last enabled account that holds it, through the admin API\'s service', async () => {
    const id = await seedUser('root@example.com');
    await users.update(id, { permissions: ['admin:users'] }, Date.now());
    for (const args of [['set-permissions', '--email', 'root@example.com', '--perm', 'read:profile'], ['disable', '--email', 'root@example.com']]) {
      const run = await userCli(args, env);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('last enabled account with admin:users');
    }
    await expect(users.get(id)).resolves.toMatchObject({ permissions: ['admin:users'], disabled: false });
    expect((await userCli(['set-permissions', '--email', 'nobody@example.com', '--perm', 'x'], env)).stderr).toContain('no user with email nobody@example.com');
  });

  it('requires a second factor of a user with require-mfa, and lifts it with --off', async () => {
    const id = await seedUser('mfa@example.com');
    const on = await userCli(['require-mfa', '--email', 'mfa@example.com'], env);
    expect(on.code).toBe(0);
    expect(on.stdout).toBe('a second factor is required of mfa@example.com from their next sign-in\n');
    expect((await users.get(id))?.mfaRequired).toBe(true);
    expect((await userCli(['require-mfa', '--email', 'mfa@example.com', '--off'], env)).code).toBe(0);
    expect((await users.get(id))?.mfaRequired).toBe(false);
  });

  it('disables a user and ends their sessions, and enable lets them back in', async () => {
    const id = await seedUser('off@example.com');
    const now = Date.now();
    await sessions.create({ prn: id, aid: 'a1', createdAt: now, device: 'test', ipPrefix: '127.0.0.x', deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0 }, { policy: parseSessionPolicy('allow_all'), lifetimeMs: 60_000, now });
    expect((await sessions.state(id, 'a1')).state).toBe('active');

    const disabled = await userCli(['disable', '--email', 'off@example.com'], env);
    expect(disabled.code).toBe(0);
    expect((await users.get(id))?.disabled).toBe(true);
    expect((await sessions.state(id, 'a1')).state).toBe('missing');

    const enabled = await userCli(['enable', '--email', 'off@example.com'], env);
    expect(enabled.code).toBe(0);
    expect((await users.get(id))?.disabled).toBe(false);
  });

  it.each([
    ['an email over 254 characters', ['--email', `${'a'.repeat(250)}@b.co`], '--email', 'must be at most 254 characters'],
    ['a malformed email', ['--email', 'not-an-email'], '--email', 'must be an email address'],
    ['a name over 100 characters', ['--email', 'n@example.com', '--name', 'n'.repeat(101)], '--name', 'must be 1 to 100 characters'],
    ['a blank name', ['--email', 'n@example.com', '--name', '   '], '--name', 'must be 1 to 100 characters'],
    ['a permission with a space', ['--email', 'n@example.com', '--perm', 'read profile'], '--perm', 'must be 1 to 128 characters without spaces or commas'],
    ['a permission over 128 characters', ['--email', 'n@example.com', '--perm', 'p'.repeat(129)], '--perm', 'must be 1 to 128 characters without spaces or commas'],
  ])('refuses %s before connecting, by the field rules the server applies (src/http/fields.ts)', async (_name, args, option, message) => {
    const run = await userCli(['add', ...args, '--password', 'correct horse'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(option);
    expect(run.stderr).toContain(message);
    expect(await users.list()).toHaveLength(0);
  });

  it('resyncs every user\'s Redis mirror from the accounts database (PostgreSQL wins)', async () => {
    const id = await seedUser('mirror@example.com');
    // A mirror that disagrees with PostgreSQL, e.g. left by a change that failed half-way.
    await sessions.putUser(id, { disabled: true, permissions: [], credentialEpoch: 9, version: 2, emailVerified: false }, { restriction: true });
    const run = await userCli(['resync'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('resynced the Redis mirror of 1 user(s)');
    await expect(sessions.sessionAndUser(id, 'none')).resolves.toMatchObject({ user: { disabled: false, permissions: ['read:profile'], credentialEpoch: 0 } });
  });

  it('writes the mirror with disable before ending the sessions, so renewals are refused at once', async () => {
    const id = await seedUser('mirror-off@example.com');
    expect((await userCli(['disable', '--email', 'mirror-off@example.com'], env)).code).toBe(0);
    await expect(sessions.sessionAndUser(id, 'none')).resolves.toMatchObject({ user: { disabled: true } });
    expect((await userCli(['enable', '--email', 'mirror-off@example.com'], env)).code).toBe(0);
    await expect(sessions.sessionAndUser(id, 'none')).resolves.toMatchObject({ user: { disabled: false } });
  });

  it('imports the users a 0.1 deployment kept in Redis: dry run, counts, idempotent, password hashes leave Redis', async () => {
    const keys = redisKeys(prefix);
    const hash = await bcrypt.hash('correct horse', 4);
    const legacy = (id: string, email: string, extra: Record<string, string> = {}) =>
      redis.hset(keys.userMirror(id), { email, name: 'Old', passwordHash: hash, permissions: '["read:profile","admin:access"]', disabled: '0', createdAt: '1000', updatedAt: '2000', ...extra });
    await legacy('old-1', 'old1@example.com');
    await legacy('old-2', 'old2@example.com', { disabled: '1' });
    await legacy('old-3', 'taken@example.com');
    await redis.hset(keys.userMirror('old-4'), { permissions: '[]' });
    await redis.sadd(keys.legacyUserIds(), 'old-1', 'old-2', 'old-3', 'old-4');
    await seedUser('TAKEN@example.com');

    const dry = await userCli(['import-from-redis', '--dry-run'], env);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toContain('dry run: would import 2, skipped 0 already in the accounts database, 1 whose email belongs to another account, 1 unreadable (of 4 in Redis)');
    await expect(users.get('old-1')).resolves.toBeUndefined();

    const run = await userCli(['import-from-redis'], env);
    expect(run.stdout).toContain('imported 2, skipped 0 already in the accounts database, 1 whose email belongs to another account, 1 unreadable (of 4 in Redis)');
    await expect(users.get('old-1')).resolves.toMatchObject({ email: 'old1@example.com', permissions: ['read:profile', 'admin:access'], disabled: false, createdAt: 1000, passwordHash: hash });
    await expect(users.get('old-2')).resolves.toMatchObject({ disabled: true });
    expect(await redis.hgetall(keys.userMirror('old-1'))).toEqual({ permissions: '["read:profile","admin:access"]', disabled: '0', epoch: '0', version: '1', restriction: '0', ev: '0' });

    const again = await userCli(['import-from-redis'], env);
    expect(again.stdout).toContain('imported 0, skipped 2 already in the accounts database');
  });

  it('works on the accounts database without Redis', async () => {
    await seedUser('noredis@example.com');
    const run = await userCli(['list'], { DATABASE_URL: databaseUrl });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('noredis@example.com');
  });
});
