import 'dotenv/config';
import { openAccounts } from '../accounts/open.js';
import { AuthError } from '../auth/errors.js';
import { MirroredUserStore } from '../auth/mirrored-users.js';
import { UserAdministration } from '../auth/user-administration.js';
import { loadConfig, type Config } from '../config/load.js';
import { redactRedisError } from '../config/redact.js';
import { email as emailField, name as nameField, NAME_MAX_LENGTH, permission as permissionField } from '../http/fields.js';
import { connectRedis, describeRedis, waitForReady, type RedisClient } from '../redis/connect.js';
import { redisKeys } from '../sessions/redis-keys.js';
import { RedisSessionStore } from '../sessions/redis-store.js';
import { createPasswordHasher, passwordProblem } from '../users/password.js';
import { systemClock } from '../jts/clock.js';
import { normaliseEmail, type User } from '../users/types.js';
import { commandOf, parseOptions, runCli, UsageError } from './args.js';
import { importFromRedis } from './import-from-redis.js';
import { formatPermissions, formatTable } from './user-table.js';

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
  require-mfa --email E [--off]
                  require a second factor of the user (from their next sign-in: one without an
                  authenticator only enrols one); --off lifts the requirement
  import-from-redis [--dry-run]
                  copy the users a 0.1 deployment kept in Redis (REDIS_URL, REDIS_KEY_PREFIX) into the
                  accounts database; users already there (same id or email) are skipped, so it can be
                  run again; prints the counts
  resync          rewrite every user's security mirror in Redis from the accounts database
                  (PostgreSQL wins; e.g. after a change failed half-way)

--perm may be repeated and may hold a comma-separated list: --perm read:profile,write:profile

--password-stdin reads the password from the first line of standard input, so that it appears
neither in shell history nor in the process list:
  printf '%s\\n' "$PASSWORD" | npm run user -- add --email a@example.com --password-stdin

Users live in PostgreSQL (DATABASE_URL) or, without it, in the embedded PGlite database under DATA_DIR,
which is one process: stop the server first (the CLI refuses while a server holds DATA_DIR).
Sessions live in Redis: REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) and REDIS_KEY_PREFIX must match
the server's, so that disable can end the user's sessions at once; so must BCRYPT_ROUNDS.
Changed permissions reach clients at their next renewal (at most JTS_BEARER_PASS_LIFETIME).
add, set-permissions, disable, enable and require-mfa go through the service the admin API (/admin/users) uses:
the last enabled account holding admin:users cannot be disabled or lose it.
`;


const EMAIL = { email: { type: 'string' } } as const;
const HELP = { help: { type: 'boolean' } } as const;
const COMMAND_OPTIONS = {
  add: { ...EMAIL, ...HELP, password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, name: { type: 'string' }, perm: { type: 'string', multiple: true } },
  list: { ...HELP },
  'set-permissions': { ...EMAIL, ...HELP, perm: { type: 'string', multiple: true } },
  disable: { ...EMAIL, ...HELP },
  enable: { ...EMAIL, ...HELP },
  'require-mfa': { ...EMAIL, ...HELP, off: { type: 'boolean' } },
  resync: { ...HELP },
  'import-from-redis': { ...HELP, 'dry-run': { type: 'boolean' } },
} as const;
type Command = keyof typeof COMMAND_OPTIONS;

interface Context {
  config: Config;
  redis: RedisClient | undefined;
  /** Writes the Redis mirror with every change when Redis is configured. */
  users: MirroredUserStore;
  /** Undefined without Redis: the server's sessions are then in its own memory, out of reach. */
  sessions: RedisSessionStore | undefined;
  /** The service the admin API calls too: add, list, set-permissions, disable and enable go through it. */
  administration: UserAdministration;
}

/** How the audit trail names the operator at the shell (the CLI has no account of its own). */
const ACTOR = 'cli';

/**
 * Without Redis the server keeps sessions and mirrors in its own memory, out of this process's
 * reach: nothing to write, no session to end.
 */
const DETACHED_SESSIONS = {
  putUser: () => Promise.resolve(false),
  removeUser: () => Promise.resolve(),
  userProfile: () => Promise.resolve(undefined),
  list: () => Promise.resolve([]),
  revokeAll: () => Promise.resolve([]),
};

async function main(): Promise<void> {
  const asked = commandOf(process.argv.slice(2), Object.keys(COMMAND_OPTIONS) as Command[], USAGE);
  if (asked === undefined) return;
  const { command, rest } = asked;

  const config = loadConfig();
  // Everything is checked before connecting, so a typo costs no round trip.
  const run = await prepare(command, rest, config);
  const accounts = await openAccounts(config.database, { production: config.env === 'production', owner: 'cli' });
  const redis = redisConfigured(config.redis) ? await connect(config) : undefined;
  try {
    const keys = redisKeys(config.redis.keyPrefix);
    const sessions = redis && new RedisSessionStore(redis, keys, { retention: config.events.retention });
    const users = new MirroredUserStore(accounts.users, sessions ?? DETACHED_SESSIONS, { sessionLifetimeMs: config.jts.stateProofLifetimeSeconds * 1000 });
    // The operator's commands are not part of the server's audit log; their output is the record.
    const administration = new UserAdministration({ users, sessions: sessions ?? DETACHED_SESSIONS, hasher: createPasswordHasher(config.bcryptRounds), clock: systemClock, audit: () => undefined });
    await run({ config, redis, users, sessions, administration });
  } finally {
    if (redis) await close(redis);
    await accounts.database.close();
  }
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
      return async ({ administration }) => {
        const user = await administration.create(ACTOR, { email, name, password, permissions }).catch((error: unknown) => {
          throw error instanceof AuthError && error.code === 'email_taken' ? new Error(`email already exists: ${email}`) : error;
        });
        process.stdout.write(`added ${email} (id ${user.id}) with permissions: ${formatPermissions(permissions)}\n`);
      };
    }
    case 'list': {
      parseOptions(args, COMMAND_OPTIONS.list);
      return async ({ administration }) => {
        process.stdout.write(formatTable(await administration.list(ACTOR)));
      };
    }
    case 'set-permissions': {
      const { values } = parseOptions(args, COMMAND_OPTIONS['set-permissions']);
      const email = parseEmail(values.email);
      if (values.perm === undefined) throw new UsageError('set-permissions needs --perm (--perm "" removes every permission)');
      const permissions = parsePermissions(values.perm);
      return async ({ administration }) => {
        const user = await requireUser(administration, email);
        await administration.update(ACTOR, user.id, { permissions });
        process.stdout.write(
          `permissions of ${email}: ${formatPermissions(permissions)}\n` +
            `BearerPasses already issued keep the old permissions until they expire (at most ${config.jts.bearerPassLifetimeSeconds} s)\n`,
        );
      };
    }
    case 'disable': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.disable);
      const email = parseEmail(values.email);
      return async ({ administration }) => {
        const user = await requireUser(administration, email);
        // The service ends the sessions too: live BearerPasses are then refused at once.
        const { revokedSessions } = await administration.update(ACTOR, user.id, { disabled: true });
        process.stdout.write(`disabled ${email}; ended ${revokedSessions} session(s)\n`);
      };
    }
    case 'import-from-redis': {
      const { values } = parseOptions(args, COMMAND_OPTIONS['import-from-redis']);
      const dryRun = values['dry-run'] ?? false;
      return async ({ redis, users }) => {
        if (!redis) throw new Error('REDIS_URL is not set: point REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) and REDIS_KEY_PREFIX at the 0.1 deployment\'s Redis');
        const counts = await importFromRedis(redis, redisKeys(config.redis.keyPrefix), users, dryRun);
        process.stdout.write(
          `${dryRun ? 'dry run: would import' : 'imported'} ${counts.imported}, skipped ${counts.existing} already in the accounts database, ${counts.conflicts} whose email belongs to another account, ${counts.unreadable} unreadable (of ${counts.seen} in Redis)\n`,
        );
      };
    }
    case 'resync': {
      parseOptions(args, COMMAND_OPTIONS.resync);
      return async ({ users, sessions }) => {
        if (!sessions) throw new Error('REDIS_URL is not set: without Redis the mirror lives in the server\'s memory and is rebuilt at each sign-in; nothing to resync');
        process.stdout.write(`resynced the Redis mirror of ${await users.resync()} user(s) from the accounts database\n`);
      };
    }
    case 'require-mfa': {
      const { values } = parseOptions(args, COMMAND_OPTIONS['require-mfa']);
      const email = parseEmail(values.email);
      const mfaRequired = values.off !== true;
      return async ({ administration }) => {
        const user = await requireUser(administration, email);
        await administration.update(ACTOR, user.id, { mfaRequired });
        process.stdout.write(mfaRequired ? `a second factor is required of ${email} from their next sign-in
` : `a second factor is no longer required of ${email}
`);
      };
    }
    case 'enable': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.enable);
      const email = parseEmail(values.email);
      return async ({ administration }) => {
        const user = await requireUser(administration, email);
        await administration.update(ACTOR, user.id, { disabled: false });
        process.stdout.write(`enabled ${email}\n`);
      };
    }
  }
}

/** The fields are checked as the registration body checks them, so a CLI-made user can always log in. */
function parseEmail(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--email is required');
  const result = emailField.safeParse(value);
  if (!result.success) throw new UsageError(`--email ${JSON.stringify(value)} ${result.error.issues[0]?.message ?? 'is not valid'}`);
  return normaliseEmail(result.data);
}

function parseName(value: string): string {
  const result = nameField.safeParse(value);
  if (!result.success) throw new UsageError(`--name must be 1 to ${NAME_MAX_LENGTH} characters`);
  return result.data;
}

function parsePermissions(values: string[]): string[] {
  const permissions = values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter((item) => item.length > 0);
  for (const permission of permissions) {
    const result = permissionField.safeParse(permission);
    if (!result.success) throw new UsageError(`--perm ${JSON.stringify(permission)} ${result.error.issues[0]?.message ?? 'is not valid'}`);
  }
  return [...new Set(permissions)];
}

/** Whether the configuration names a Redis (URL, Cluster or Sentinels). */
function redisConfigured(redis: Config['redis']): boolean {
  return redis.url !== undefined || redis.clusterNodes.length > 0 || redis.sentinels.length > 0;
}

async function requireUser(administration: UserAdministration, email: string): Promise<User> {
  return administration.findByEmail(ACTOR, email).catch((error: unknown) => {
    throw error instanceof AuthError && error.code === 'user_not_found' ? new Error(`no user with email ${email}`) : error;
  });
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
    lastError = redactRedisError(error, { url: config.redis.url, password: config.redis.password }).message;
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
