import 'dotenv/config';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { lockDataDir } from '../accounts/data-dir-lock.js';
import { openAccountsDatabase } from '../accounts/database.js';
import { migrateToLatest } from '../accounts/migrate.js';
import { loadConfig } from '../config/load.js';
import { runCli } from './args.js';

/** `npm run db:migrate`: applies every pending migration to DATABASE_URL (or the PGlite under DATA_DIR). */
async function main(): Promise<void> {
  const config = loadConfig();
  const embedded = config.database.url === undefined && config.database.dataDir !== 'memory://';
  if (embedded) mkdirSync(resolve(config.database.dataDir), { recursive: true });
  // PGlite is one process: never under a running server.
  const release = embedded ? lockDataDir(resolve(config.database.dataDir), 'cli') : undefined;
  const database = await openAccountsDatabase(config.database).catch((error: unknown) => {
    release?.();
    throw error;
  });
  try {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(applied.length === 0 ? `${database.description}: already up to date\n` : `${database.description}: applied ${applied.join(', ')}\n`);
  } finally {
    await database.close();
    release?.();
  }
}

runCli('db:migrate', main);
