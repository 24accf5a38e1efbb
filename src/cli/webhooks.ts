import 'dotenv/config';
import { randomBytes } from 'node:crypto';
import { openAccounts } from '../accounts/open.js';
import { loadConfig } from '../config/load.js';
import { shownUrl } from '../config/webhooks.js';
import { SqlWebhookOutbox, type OutboxStatus } from '../webhooks/outbox.js';
import { commandOf, parseOptions, runCli, UsageError } from './args.js';

const USAGE = `Usage: npm run webhooks -- <command> [options]

Commands:
  new-secret              print a new signing secret for JTS_WEBHOOK_SECRET (whsec_ + 32 random bytes)
  list [--status S] [--limit N]
                          print outbox rows, newest first: S is dead (default), pending or delivered
  redeliver --id ID       send a dead-lettered delivery again (same webhook-id, same body),
                          with a fresh round of JTS_WEBHOOK_MAX_ATTEMPTS attempts

The outbox lives in PostgreSQL (DATABASE_URL) or, without it, in the embedded PGlite database under
DATA_DIR (stop the server first). A running server picks a redelivered row up within JTS_WEBHOOK_POLL.
`;

const COMMAND_OPTIONS = {
  'new-secret': { help: { type: 'boolean' } },
  list: { help: { type: 'boolean' }, status: { type: 'string' }, limit: { type: 'string' } },
  redeliver: { help: { type: 'boolean' }, id: { type: 'string' } },
} as const;
type Command = keyof typeof COMMAND_OPTIONS;

const STATUSES: readonly OutboxStatus[] = ['dead', 'pending', 'delivered'];

async function main(): Promise<void> {
  const asked = commandOf(process.argv.slice(2), Object.keys(COMMAND_OPTIONS) as Command[], USAGE);
  if (asked === undefined) return;
  const { command, rest } = asked;
  if (command === 'new-secret') {
    parseOptions(rest, COMMAND_OPTIONS['new-secret']);
    process.stdout.write(`whsec_${randomBytes(32).toString('base64')}\n`);
    return;
  }
  const run = prepare(command, rest);
  const config = loadConfig();
  const accounts = await openAccounts(config.database, { production: config.env === 'production', owner: 'cli' });
  try {
    await run(new SqlWebhookOutbox(accounts.database.db));
  } finally {
    await accounts.database.close();
  }
}

function prepare(command: Exclude<Command, 'new-secret'>, args: string[]): (outbox: SqlWebhookOutbox) => Promise<void> {
  switch (command) {
    case 'list': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.list);
      const status = (values.status ?? 'dead') as OutboxStatus;
      if (!STATUSES.includes(status)) throw new UsageError(`--status ${JSON.stringify(values.status)}: expected one of ${STATUSES.join(', ')}`);
      const limit = Number(values.limit ?? '50');
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError(`--limit ${JSON.stringify(values.limit)}: expected a whole number from 1 to 10000`);
      return async (outbox) => {
        const rows = await outbox.list(status, limit);
        if (rows.length === 0) {
          process.stdout.write(`no ${status} deliveries\n`);
          return;
        }
        for (const row of rows) {
          const when = (row.finishedAt ?? row.nextAttemptAt).toISOString();
          process.stdout.write(`${row.id}  ${row.type}  ${shownUrl(row.endpoint)}  attempts=${row.attempts}  ${row.status === 'pending' ? 'next' : row.status}=${when}  ${row.lastError ?? ''}\n`);
        }
      };
    }
    case 'redeliver': {
      const { id } = parseOptions(args, COMMAND_OPTIONS.redeliver).values;
      if (id === undefined) throw new UsageError('redeliver needs --id (msg_…, from `npm run webhooks -- list`)');
      return async (outbox) => {
        if (!(await outbox.redeliver(id))) throw new Error(`no dead-lettered delivery has the id ${JSON.stringify(id)}`);
        process.stdout.write(`${id} is pending again\n`);
      };
    }
  }
}

runCli('webhooks', main);
