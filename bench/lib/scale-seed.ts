/**
 * Seeding for bench/scale.ts: accounts in PostgreSQL by bulk insert (one precomputed bcrypt hash
 * for all), then the users' Redis mirrors and their sessions through the server's own components —
 * the mirror's sign-in rebuild and the session store's create script — never a key written here.
 * The components are handed in (ScaleSeedTools): the bench loads them from the build (dist/), the
 * test (test/bench/scale-seed.test.ts) from src/.
 */
import type pg from 'pg';
import type { CredentialMinter } from '../../src/auth/credentials.js';
import type { SessionPolicy } from '../../src/sessions/policy.js';
import type { SessionStore } from '../../src/sessions/types.js';
import type { NewUserInput } from '../../src/users/new-user.js';
import type { User } from '../../src/users/types.js';

export interface ScaleSeedTools {
  /** users/new-user.ts: the one way to build an account record. */
  newUser: (input: NewUserInput, now: number) => User;
  /** mirrored-users.ts ensureMirror: the mirror a sign-in writes. */
  mirror: { ensureMirror(user: User): Promise<unknown> };
  sessions: Pick<SessionStore, 'create'>;
  /** jts/state-proof.ts randomId: session ids as the server makes them. */
  randomId: () => string;
  minter: Pick<CredentialMinter, 'bearerPass' | 'issue'>;
  policy: SessionPolicy;
  /** What a sign-in stores of its client: describeDevice(User-Agent) and maskIp(address). */
  device: string;
  ipPrefix: string;
}

export const SCALE_PASSWORD = 'scale-bench-password-1234';
export const accountEmail = (index: number) => `scale-${index}@bench.example.com`;
const accountName = (index: number) => `Scale User ${index}`;

/** The seeded accounts: ids by index; emails and names follow from the index. */
export interface SeededAccounts {
  ids: string[];
  /** The record every account was built as (newUser), minus id, email and name. */
  template: User;
  durationS: number;
}

/** Runs `work` for 0..count-1, at most `lanes` at a time (the store's client pipelines them). */
export async function inLanes(count: number, lanes: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const seconds = (startedAt: bigint) => Number(process.hrtime.bigint() - startedAt) / 1e9;

/**
 * `count` accounts (indexes `first`…) in the `users` table `client` sees (its search path), in
 * multi-row INSERTs of `batch` rows: each row built by newUser, all with `passwordHash`.
 */
export async function seedAccounts(client: pg.ClientBase, tools: Pick<ScaleSeedTools, 'newUser'>, options: { first: number; count: number; passwordHash: string; now: number; batch?: number }): Promise<SeededAccounts> {
  const { first, count, passwordHash, now } = options;
  const batch = options.batch ?? 5000;
  const startedAt = process.hrtime.bigint();
  const build = (index: number) => tools.newUser({ email: accountEmail(index), name: accountName(index), passwordHash, permissions: [] }, now);
  const template = build(first);
  // The columns left to their defaults must hold what newUser decides, or the rows would differ from registered ones.
  if (template.permissions.length > 0) throw new Error('seedAccounts: newUser now grants permissions; insert them too');
  const ids: string[] = [];
  for (let start = 0; start < count; start += batch) {
    const users = Array.from({ length: Math.min(batch, count - start) }, (_, k) => build(first + start + k));
    await client.query(
      `INSERT INTO users (id, email, name, password_hash, disabled, credential_epoch, version, email_verified, created_at, updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::int[], $7::bigint[], $8::boolean[], $9::timestamptz[], $9::timestamptz[])`,
      [
        users.map((user) => user.id),
        users.map((user) => user.email),
        users.map((user) => user.name),
        users.map((user) => user.passwordHash),
        users.map((user) => user.disabled),
        users.map((user) => user.credentialEpoch),
        users.map((user) => user.version),
        users.map((user) => user.emailVerified),
        users.map((user) => new Date(user.createdAt)),
      ],
    );
    for (const user of users) ids.push(user.id);
  }
  return { ids, template, durationS: seconds(startedAt) };
}

/** The record of account `k` of `accounts` (seeded as index `first + k`). */
export function accountAt(accounts: SeededAccounts, first: number, k: number): User {
  return { ...accounts.template, id: accounts.ids[k]!, email: accountEmail(first + k), name: accountName(first + k) };
}

/** Every account's Redis mirror, as a sign-in writes it. */
export async function seedMirrors(tools: Pick<ScaleSeedTools, 'mirror'>, accounts: SeededAccounts, first: number, lanes = 256): Promise<number> {
  const startedAt = process.hrtime.bigint();
  await inLanes(accounts.ids.length, lanes, async (k) => {
    await tools.mirror.ensureMirror(accountAt(accounts, first, k));
  });
  return seconds(startedAt);
}

export interface SeededSession {
  prn: string;
  aid: string;
  createdAt: number;
}

/**
 * One session for each of `prns`, through the store's create script. `lifetimeMs` per session:
 * a number, or a function of the time of the call (the bench gives half the sessions one common
 * end, whenever their turn comes).
 */
export async function seedSessions(tools: Pick<ScaleSeedTools, 'sessions' | 'randomId' | 'policy' | 'device' | 'ipPrefix'>, prns: readonly string[], lifetimeMs: number | ((now: number) => number), lanes = 256): Promise<{ sessions: SeededSession[]; durationS: number }> {
  const startedAt = process.hrtime.bigint();
  const sessions = new Array<SeededSession>(prns.length);
  await inLanes(prns.length, lanes, async (k) => {
    const prn = prns[k]!;
    const aid = tools.randomId();
    const now = Date.now();
    const { evicted } = await tools.sessions.create(
      { prn, aid, createdAt: now, device: tools.device, ipPrefix: tools.ipPrefix, deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0 },
      { policy: tools.policy, lifetimeMs: typeof lifetimeMs === 'number' ? lifetimeMs : lifetimeMs(now), now },
    );
    if (evicted.length > 0) throw new Error(`seedSessions: creating a session of ${prn} evicted ${evicted.length} (more than the policy allows for one user)`);
    sessions[k] = { prn, aid, createdAt: now };
  });
  return { sessions, durationS: seconds(startedAt) };
}

export interface SessionCredentials {
  bearerPass: string;
  stateProof: string;
}

/**
 * What a sign-in would have handed the client of `session` (generation 1), minted by the
 * server's own minter with the server's key and StateProof secret, for an account as `template`.
 */
export function credentialsFor(tools: Pick<ScaleSeedTools, 'minter'>, session: SeededSession, template: Pick<User, 'permissions' | 'credentialEpoch' | 'emailVerified'>): SessionCredentials {
  const { prn, aid, createdAt } = session;
  const minted = tools.minter.bearerPass(prn, aid, { createdAt, deviceHash: undefined, permissions: template.permissions, credentialEpoch: template.credentialEpoch, amr: ['pwd'], emailVerified: template.emailVerified });
  const issued = tools.minter.issue({ prn, aid }, 1, minted.token, minted.expiresIn, createdAt);
  return { bearerPass: issued.bearerPass, stateProof: issued.stateProof };
}
