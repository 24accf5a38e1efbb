import 'dotenv/config';
import { openAccountsDatabase } from '../accounts/database.js';
import { migrateToLatest } from '../accounts/migrate.js';
import { loadConfig } from '../config/load.js';
import { runCli } from './args.js';

/** `npm run db:migrate`: applies every pending migration to DATABASE_URL (or the PGlite under DATA_DIR). */
async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openAccountsDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(applied.length === 0 ? `${database.description}: already up to date\n` : `${database.description}: applied ${applied.join(', ')}\n`);
  } finally {
    await database.close();
  }
}

runCli('db:migrate', main);
