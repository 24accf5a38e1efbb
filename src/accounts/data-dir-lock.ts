import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type LockOwner = 'server' | 'cli';

/** The lock file in DATA_DIR while a process has the embedded PGlite database open. */
export const LOCK_FILE = 'jts.lock';

/** Another live process holds the PGlite data folder. PGlite is one process: opening it twice corrupts it. */
export class DataDirBusyError extends Error {
  override readonly name = 'DataDirBusyError';

  constructor(
    readonly dataDir: string,
    readonly holder: { pid: number; owner: LockOwner },
  ) {
    super(
      `DATA_DIR=${dataDir} is in use by ${holder.owner === 'server' ? 'a running server' : 'another npm run user'} (pid ${holder.pid}); the embedded PGlite database is one process. ` +
        (holder.owner === 'server'
          ? 'Stop that server and run the command again, or run server and CLI on PostgreSQL (set DATABASE_URL for both).'
          : 'Wait for it to finish and run the command again.'),
    );
  }
}

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Holder {
  pid: number;
  owner: LockOwner;
  /** Tells two locks of one pid apart (a pid can be reused after its process died); '' in locks of 0.1. */
  nonce: string;
}

/** The lock's holder, or undefined when the file is gone or not a lock this build wrote. */
function readHolder(path: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<keyof Holder, unknown>>;
    if (typeof parsed.pid === 'number' && (parsed.owner === 'server' || parsed.owner === 'cli')) {
      return { pid: parsed.pid, owner: parsed.owner, nonce: typeof parsed.nonce === 'string' ? parsed.nonce : '' };
    }
  } catch {
    // Gone, unreadable or not ours (locks are published whole, so never half-written): stale.
  }
  return undefined;
}

/**
 * Takes the data folder's lock file, replacing one left by a process that no longer runs. Throws
 * DataDirBusyError while a live process holds it. Returns the function that releases it.
 *
 * Race-free between processes (review F7): the lock's content is written to a private file first
 * and published with link(), which fails when the lock exists, so no process ever reads a lock that
 * is half-written. A stale lock is taken over by renaming it aside and checking that what was moved
 * is the stale lock that was judged (every lock holds a nonce): a process that loses the race moves
 * the winner's fresh lock, sees a different nonce, and links it back before trying again.
 */
export function lockDataDir(dataDir: string, owner: LockOwner): () => void {
  const path = join(dataDir, LOCK_FILE);
  const mine: Holder = { pid: process.pid, owner, nonce: randomBytes(12).toString('base64url') };
  const draft = `${path}.${mine.pid}.${mine.nonce}`;
  writeFileSync(draft, JSON.stringify({ ...mine, since: new Date().toISOString() }), { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        linkSync(draft, path);
        return () => {
          if (readHolder(path)?.nonce === mine.nonce) unlinkSync(path);
        };
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const holder = readHolder(path);
      // Our own pid in a lock we did not just write is a previous life of this process (a
      // container restarts its server as pid 1 every time): stale.
      if (holder && holder.pid !== mine.pid && alive(holder.pid)) throw new DataDirBusyError(dataDir, holder);
      moveStaleLockAside(path, holder, `${draft}.stale`);
    }
  } finally {
    unlinkSync(draft);
  }
  throw new Error(`could not take the lock file ${path}: other processes kept taking it`);
}

/** Moves the lock judged stale out of the way; puts it back when a fresh one was moved instead. */
function moveStaleLockAside(path: string, judged: Holder | undefined, aside: string): void {
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // someone else removed it first: just try again
    throw error;
  }
  const moved = readHolder(aside);
  if (moved !== undefined && (moved.pid !== judged?.pid || moved.nonce !== judged.nonce)) {
    // Another process took the lock between our read and our rename: give it back.
    try {
      linkSync(aside, path);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  unlinkSync(aside);
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}
