import 'dotenv/config';
import { loadConfig, type Config } from '../config/load.js';
import { email as emailField, name as nameField, NAME_MAX_LENGTH, permission as permissionField } from '../http/fields.js';
import { randomId } from '../jts/state-proof.js';
import { connectRedis, describeRedis, waitForReady, type RedisClient } from '../redis/connect.js';
import { redisKeys } from '../sessions/redis-keys.js';
import { RedisSessionStore } from '../sessions/redis-store.js';
import { createPasswordHasher, passwordProblem } from '../users/password.js';
import { RedisUserStore } from '../users/redis-store.js';
import { normaliseEmail, type User } from '../users/types.js';
import { parseOptions, runCli, UsageError } from './args.js';

const USAGE = `Usage: npm run user -- <command> [options]

Commands:
  add --email E (--password P | --password-stdin) [--name N] [--perm P]...
                  create a user (name defaults to the part of the email before "@")
  list            print every user (never their password hashes)
  set-permissions --email E --perm P...
                  replace a user's permissions (--perm "" removes them all)
  disable --email E
                  refuse the user's logins and renewals and end their sessions now
  enable --email E
                  allow the user to log in again

--perm may be repeated and may hold a comma-separated list: --perm read:profile,write:profile

--password-stdin reads the password from the first line of standard input, so that it appears
neither in shell history nor in the process list:
  printf '%s\\n' "$PASSWORD" | npm run user -- add --email a@example.com --password-stdin

Users live in Redis: REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS), REDIS_KEY_PREFIX and BCRYPT_ROUNDS must match the
server's. Changed permissions reach clients at their next renewal (at most JTS_BEARER_PASS_LIFETIME).
`;

const EMAIL = { email: { type: 'string' } } as const;
const HELP = { help: { type: 'boolean' } } as const;
const COMMAND_OPTIONS = {
  add: { ...EMAIL, ...HELP, password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, name: { type: 'string' }, perm: { type: 'string', multiple: true } },
  list: { ...HELP },
  'set-permissions': { ...EMAIL, ...HELP, perm: { type: 'string', multiple: true } },
  disable: { ...EMAIL, ...HELP },
  enable: { ...EMAIL, ...HELP },
} as const;
type Command = keyof typeof COMMAND_OPTIONS;

interface Context {
  config: Config;
  users: RedisUserStore;
  sessions: RedisSessionStore;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    if (command === undefined) throw new UsageError(`missing command: one of ${Object.keys(COMMAND_OPTIONS).join(', ')}`);
    process.stdout.write(USAGE);
    return;
  }
  if (!isCommand(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}: expected one of ${Object.keys(COMMAND_OPTIONS).join(', ')}`);
  if (rest.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }

  const config = loadConfig();
  if (!redisConfigured(config.redis)) {
    throw new Error('REDIS_URL is not set: without Redis the server keeps users in memory, inside its own process, where this CLI cannot reach them; point REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS, and REDIS_KEY_PREFIX) at the Redis the server uses');
  }
  // Everything is checked before connecting, so a typo costs no Redis round trip.
  const run = await prepare(command, rest, config);
  const redis = await connect(config);
  try {
    const keys = redisKeys(config.redis.keyPrefix);
    await run({ config, users: new RedisUserStore(redis, keys), sessions: new RedisSessionStore(redis, keys) });
  } finally {
    await close(redis);
  }
}

function isCommand(value: string): value is Command {
  return Object.hasOwn(COMMAND_OPTIONS, value);
}

/** Parses and validates the arguments of `command`; the returned function does the work. */
async function prepare(command: Command, args: string[], config: Config): Promise<(context: Context) => Promise<void>> {
  switch (command) {
    case 'add': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.add);
      const email = parseEmail(values.email);
      const name = parseName(values.name ?? email.slice(0, email.indexOf('@')));
      const permissions = parsePermissions(values.perm ?? []);
      const fromStdin = values['password-stdin'] ?? false;
      if (fromStdin && values.password !== undefined) throw new UsageError('use either --password or --password-stdin, not both');
      if (!fromStdin && values.password === undefined) throw new UsageError('add needs --password or --password-stdin');
      const password = values.password ?? (await readPasswordLine());
      const problem = passwordProblem(password);
      if (problem) throw new Error(problem);
      return async ({ users }) => {
        const now = Date.now();
        const user: User = {
          id: randomId(),
          email,
          name,
          passwordHash: await createPasswordHasher(config.bcryptRounds).hash(password),
          permissions,
          disabled: false,
          createdAt: now,
          updatedAt: now,
        };
        if ((await users.create(user)) === 'email_taken') throw new Error(`email already exists: ${email}`);
        process.stdout.write(`added ${email} (id ${user.id}) with permissions: ${formatPermissions(permissions)}\n`);
      };
    }
    case 'list': {
      parseOptions(args, COMMAND_OPTIONS.list);
      return async ({ users }) => {
        process.stdout.write(formatTable(await users.list()));
      };
    }
    case 'set-permissions': {
      const { values } = parseOptions(args, COMMAND_OPTIONS['set-permissions']);
      const email = parseEmail(values.email);
      if (values.perm === undefined) throw new UsageError('set-permissions needs --perm (--perm "" removes every permission)');
      const permissions = parsePermissions(values.perm);
      return async ({ users }) => {
        const user = await requireUser(users, email);
        await users.update(user.id, { permissions }, Date.now());
        process.stdout.write(
          `permissions of ${email}: ${formatPermissions(permissions)}\n` +
            `BearerPasses already issued keep the old permissions until they expire (at most ${config.jts.bearerPassLifetimeSeconds} s)\n`,
        );
      };
    }
    case 'disable': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.disable);
      const email = parseEmail(values.email);
      return async ({ users, sessions }) => {
        const user = await requireUser(users, email);
        await users.update(user.id, { disabled: true }, Date.now());
        // Renewal would refuse the user anyway, but live BearerPasses stay good until they expire;
        // ending the sessions makes the strict revocation check turn them away at once.
        const ended = await sessions.revokeAll(user.id);
        process.stdout.write(`disabled ${email}; ended ${ended.length} session(s)\n`);
      };
    }
    case 'enable': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.enable);
      const email = parseEmail(values.email);
      return async ({ users }) => {
        const user = await requireUser(users, email);
        await users.update(user.id, { disabled: false }, Date.now());
        process.stdout.write(`enabled ${email}\n`);
      };
    }
  }
}

/** The fields are checked as the registration body checks them, so a CLI-made user can always log in. */
function parseEmail(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--email is required');
  const result = emailField.safeParse(value);
  if (!result.success) throw new UsageError(`--email ${JSON.stringify(value)}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return normaliseEmail(result.data);
}

function parseName(value: string): string {
  const result = nameField.safeParse(value);
  if (!result.success) throw new UsageError(`--name: expected 1 to ${NAME_MAX_LENGTH} characters`);
  return result.data;
}

function parsePermissions(values: string[]): string[] {
  const permissions = values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter((item) => item.length > 0);
  for (const permission of permissions) {
    const result = permissionField.safeParse(permission);
    if (!result.success) throw new UsageError(`--perm ${JSON.stringify(permission)}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  }
  return [...new Set(permissions)];
}

/** Whether the configuration names a Redis (URL, Cluster or Sentinels): the CLI has nothing to talk to otherwise. */
function redisConfigured(redis: Config['redis']): boolean {
  return redis.url !== undefined || redis.clusterNodes.length > 0 || redis.sentinels.length > 0;
}

async function requireUser(users: RedisUserStore, email: string): Promise<User> {
  const user = await users.findByEmail(email);
  if (!user) throw new Error(`no user with email ${email}`);
  return user;
}

/** The first line of stdin, without its line ending; spaces are kept, they may be part of it. */
async function readPasswordLine(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (shown as typed; pipe it in to hide it): ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  const line = text.split('\n')[0]?.replace(/\r$/, '') ?? '';
  if (line.length === 0) throw new UsageError('--password-stdin: no password on standard input');
  return line;
}

const COLUMNS = ['id', 'email', 'name', 'permissions', 'disabled'] as const;

function formatTable(users: User[]): string {
  if (users.length === 0) return 'no users\n';
  const rows = users.map((user) => [user.id, user.email, user.name, formatPermissions(user.permissions), user.disabled ? 'yes' : 'no'].map(printable));
  const widths = COLUMNS.map((column, index) => Math.max(column.length, ...rows.map((row) => row[index]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return [line(COLUMNS), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n') + '\n';
}

function formatPermissions(permissions: readonly string[]): string {
  return permissions.length === 0 ? '-' : permissions.join(',');
}

/**
 * Names come from self-registration; control and bidi characters in them could rewrite the
 * operator's terminal, so they are shown as "?".
 */
function printable(value: string): string {
  return value.replace(/[\p{Cc}\p{Cf}]/gu, '?');
}

/**
 * An operator's command waits longer than a request may: REDIS_COMMAND_TIMEOUT bounds what a
 * client of the server waits for; here a busy Cluster node being connected lazily must not fail
 * the command (a Cluster connects each node within half the command timeout).
 */
const CLI_COMMAND_TIMEOUT_MS = 5000;

async function connect(config: Config): Promise<RedisClient> {
  const redis = connectRedis({ ...config.redis, commandTimeoutMs: Math.max(config.redis.commandTimeoutMs, CLI_COMMAND_TIMEOUT_MS) });
  if (!redis) throw new Error('no Redis is configured');
  let lastError = '';
  redis.on('error', (error: Error) => {
    lastError = error.message;
  });
  try {
    await waitForReady(redis, 5000);
  } catch {
    redis.disconnect();
    // describeRedis never includes a password.
    throw new Error(`cannot reach Redis at ${describeRedis(config.redis)}${lastError ? ` (${lastError})` : ''}`);
  }
  return redis;
}

async function close(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => {
      redis.disconnect();
    });
  else redis.disconnect();
}

runCli('user', main);
