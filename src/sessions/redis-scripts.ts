import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from 'ioredis';
import type { RedisClient } from '../redis/connect.js';
import type { EncodedUserMirror, PutUserMode } from './redis-keys.js';

/**
 * Lua files are named `<verb>-<numKeys>.lua` (BullMQ's habit); they are read once at start-up.
 *
 * Redis Cluster runs a script on the node of its first key and refuses any key of another slot.
 * Every script gets keys (and key prefixes in ARGV) built by redis-keys.ts from one principal's
 * `{u:<prn>}` hash tag only, so each one runs whole on one node; test/reliability/cluster.test.ts
 * runs them all on a 3-master cluster.
 */
const SCRIPT_DIR = join(__dirname, 'lua');

const SCRIPTS = {
  jtsCreateSession: 'create-3.lua',
  jtsRotateSession: 'rotate-4.lua',
  jtsListSessions: 'list-2.lua',
  jtsRevokeSession: 'revoke-4.lua',
  jtsRevokeAllSessions: 'revoke-all-2.lua',
  jtsPutUser: 'put-user-1.lua',
  jtsRemoveUser: 'remove-user-2.lua',
  jtsStepUpSession: 'step-up-2.lua',
} as const;

/**
 * Scripts that end sessions get include/publish.lua prepended (Lua has no include of its own in
 * Redis): its `publishEnds` writes their security events in the same atomic step.
 */
const PUBLISHING = new Set<string>(['create-3.lua', 'rotate-4.lua', 'revoke-4.lua', 'revoke-all-2.lua']);

type ScriptArg = string | number;
type Reply = string | number | null | Reply[];

/** What a session-writing script returns, having written nothing, when it starts past its deadline. */
export const SCRIPT_LATE = -1;
type Late = typeof SCRIPT_LATE;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    jtsCreateSession(...args: ScriptArg[]): Result<string[] | Late, Context>;
    jtsRotateSession(...args: ScriptArg[]): Result<Reply[] | Late, Context>;
    jtsListSessions(...args: ScriptArg[]): Result<string[], Context>;
    jtsRevokeSession(...args: ScriptArg[]): Result<number, Context>;
    jtsRevokeAllSessions(...args: ScriptArg[]): Result<string[] | Late, Context>;
    jtsStepUpSession(sessionKey: string, mirrorKey: string, stepUp: string, credentialEpoch: number, deadline: number): Result<number, Context>;
    jtsPutUser(mirrorKey: string, mode: PutUserMode, ...fieldsThenExpiry: [...EncodedUserMirror, expiresInMs: number]): Result<number, Context>;
    jtsRemoveUser(mirrorKey: string, indexKey: string, sessionPrefix: string): Result<number, Context>;
  }
}

const defined = new WeakSet<RedisClient>();

/** Registers the session scripts on a client, single or cluster (idempotent). */
export function defineSessionScripts(client: RedisClient): void {
  if (defined.has(client)) return;
  for (const [name, file] of Object.entries(SCRIPTS)) {
    const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
    const prelude = PUBLISHING.has(file) ? `${readFileSync(join(SCRIPT_DIR, 'include', 'publish.lua'), 'utf8')}\n` : '';
    client.defineCommand(name, { numberOfKeys, lua: prelude + readFileSync(join(SCRIPT_DIR, file), 'utf8') });
  }
  defined.add(client);
}
