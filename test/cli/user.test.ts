import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import bcrypt from 'bcrypt';
import type { Redis } from 'ioredis';
import { createRedisClient, waitForReady } from '../../src/redis/connect';
import { parseSessionPolicy } from '../../src/sessions/policy';
import { redisKeys } from '../../src/sessions/redis-keys';
import { RedisSessionStore } from '../../src/sessions/redis-store';
import { RedisUserStore } from '../../src/users/redis-store';

const ROOT = resolve(__dirname, '../..');
// The local binary rather than `npx tsx`: npx costs about a second per spawn and may print npm warnings on stderr.
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

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
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(JTS_|REDIS_|BCRYPT_|DOTENV_)/.test(name)));
  return new Promise((done) => {
    const child = execFile(TSX, ['src/cli/user.ts', ...args], { cwd: ROOT, env: { ...base, NODE_ENV: 'test', BCRYPT_ROUNDS: '4', ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

describe('npm run user', () => {
  let redis: Redis;
  let prefix: string;
  let env: Record<string, string>;
  let users: RedisUserStore;
  let sessions: RedisSessionStore;

  beforeAll(async () => {
    redis = createRedisClient({ url: testRedisUrl(), commandTimeoutMs: 2000 });
    await waitForReady(redis, 5000);
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    prefix = `cli${randomBytes(4).toString('hex')}:`;
    env = { REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: prefix };
    users = new RedisUserStore(redis, redisKeys(prefix));
    sessions = new RedisSessionStore(redis, redisKeys(prefix));
  });

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  async function seedUser(email: string): Promise<string> {
    const id = randomBytes(16).toString('base64url');
    const now = Date.now();
    await users.create({ id, email, name: 'Seeded', passwordHash: await bcrypt.hash('correct horse', 4), permissions: ['read:profile'], disabled: false, createdAt: now, updatedAt: now });
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

  it('disables a user and ends their sessions, and enable lets them back in', async () => {
    const id = await seedUser('off@example.com');
    const now = Date.now();
    await sessions.create({ prn: id, aid: 'a1', createdAt: now, device: 'test', ipPrefix: '127.0.0.x', deviceHash: undefined }, { policy: parseSessionPolicy('allow_all'), lifetimeMs: 60_000, now });
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
    ['an email over 254 characters', ['--email', `${'a'.repeat(250)}@b.co`], '--email', 'at most 254 characters'],
    ['a malformed email', ['--email', 'not-an-email'], '--email', 'expected an email address'],
    ['a name over 100 characters', ['--email', 'n@example.com', '--name', 'n'.repeat(101)], '--name', 'expected 1 to 100 characters'],
    ['a blank name', ['--email', 'n@example.com', '--name', '   '], '--name', 'expected 1 to 100 characters'],
    ['a permission with a space', ['--email', 'n@example.com', '--perm', 'read profile'], '--perm', 'expected up to 128 characters without spaces or commas'],
    ['a permission over 128 characters', ['--email', 'n@example.com', '--perm', 'p'.repeat(129)], '--perm', 'expected up to 128 characters without spaces or commas'],
  ])('refuses %s before connecting, by the field rules the server applies (src/http/fields.ts)', async (_name, args, option, message) => {
    const run = await userCli(['add', ...args, '--password', 'correct horse'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(option);
    expect(run.stderr).toContain(message);
    expect(await users.list()).toHaveLength(0);
  });

  it('exits 1 without REDIS_URL, explaining that the memory store is out of its reach', async () => {
    const run = await userCli(['list'], { REDIS_KEY_PREFIX: prefix });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('REDIS_URL');
    expect(run.stderr).toContain('memory');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
