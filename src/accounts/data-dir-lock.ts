import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
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

function readHolder(path: string): { pid: number; owner: LockOwner } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; owner?: unknown };
    if (typeof parsed.pid === 'number' && (parsed.owner === 'server' || parsed.owner === 'cli')) return { pid: parsed.pid, owner: parsed.owner };
  } catch {
    // Unreadable or half-written: treated as stale below.
  }
  return undefined;
}

/**
 * Takes the data folder's lock file (created exclusively, holding this pid), replacing one left by
 * a process that no longer runs. Throws DataDirBusyError while a live process holds it. Resolves
 * to the function that releases it.
 */
export function lockDataDir(dataDir: string, owner: LockOwner): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, owner, since: new Date().toISOString() }));
      closeSync(fd);
      return () => {
        if (readHolder(path)?.pid === process.pid) unlinkSync(path);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder && holder.pid !== process.pid && alive(holder.pid)) throw new DataDirBusyError(dataDir, holder);
      unlinkSync(path);
    }
  }
  throw new Error(`could not take the lock file ${path}`);
}
