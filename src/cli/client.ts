import 'dotenv/config';
import { openAccounts } from '../accounts/open.js';
import type { ServiceClient } from '../accounts/sql-client-store.js';
import { ClientAdministration, ClientAdminError, DEFAULT_ROTATION_GRACE_SECONDS } from '../auth/client-admin.js';
import { loadConfig } from '../config/load.js';
import { commandOf, parseOptions, runCli, UsageError } from './args.js';
import { formatClientTable } from './client-table.js';

const USAGE = `Usage: npm run client -- <command> [options]

Commands:
  add --id ID --audience URL [--scope S]...
                  register a service client; its secret is printed once, only a hash is kept
  list            print every client (never a secret or its hash)
  disable --id ID refuse the client's authentication; its tokens turn inactive in introspection
  enable --id ID  allow the client again
  delete --id ID  remove the client; its tokens turn inactive in introspection
  rotate-secret --id ID [--grace DURATION]
                  print a new secret; the current one stays valid for DURATION (default 24h;
                  e.g. 0, 90m, 12h, 7d; at most 30d) while the service is redeployed
  rotate-secret --id ID --finish
                  end the open rotation now: only the newest secret is valid afterwards

--scope may be repeated and may hold a comma-separated list: --scope read:orders,write:orders
The audience is the \`aud\` of the client's tokens (what the service's verifier expects), and the
name other clients use to exchange a user's token for one to this service; one client per audience,
and never this server's own JTS_AUDIENCE.

Clients live in PostgreSQL (DATABASE_URL) or, without it, in the embedded PGlite database under
DATA_DIR (stop the server first). Running servers see changes within JTS_CLIENTS_REFRESH seconds.
`;

/** How the service names the operator at the shell (the CLI has no account of its own). */
const CLI_ACTOR = 'cli';
const ID = { id: { type: 'string' } } as const;
const HELP = { help: { type: 'boolean' } } as const;
const COMMAND_OPTIONS = {
  add: { ...ID, ...HELP, scope: { type: 'string', multiple: true }, audience: { type: 'string' } },
  list: { ...HELP },
  disable: { ...ID, ...HELP },
  enable: { ...ID, ...HELP },
  delete: { ...ID, ...HELP },
  'rotate-secret': { ...ID, ...HELP, grace: { type: 'string' }, finish: { type: 'boolean' } },
} as const;
type Command = keyof typeof COMMAND_OPTIONS;

async function main(): Promise<void> {
  const asked = commandOf(process.argv.slice(2), Object.keys(COMMAND_OPTIONS) as Command[], USAGE);
  if (asked === undefined) return;
  const { command, rest } = asked;
  const config = loadConfig();
  // Everything is checked before connecting, so a typo costs no round trip.
  const run = prepare(command, rest);
  const accounts = await openAccounts(config.database, { production: config.env === 'production', owner: 'cli' });
  try {
    await run(new ClientAdministration({ clients: accounts.clients, serverAudience: config.jts.audience }));
  } catch (error) {
    // The service's refusals are the operator's to read, not a crash.
    if (error instanceof ClientAdminError) throw new Error(error.message);
    throw error;
  } finally {
    await accounts.database.close();
  }
}

/** Parses and validates the arguments of `command`; the returned function does the work. */
function prepare(command: Command, args: string[]): (admin: ClientAdministration) => Promise<void> {
  switch (command) {
    case 'add': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.add);
      const id = required(values.id, '--id');
      const audience = required(values.audience, '--audience');
      const scopes = (values.scope ?? []).flatMap((value) => value.split(',')).map((item) => item.trim()).filter((item) => item.length > 0);
      return async (admin) => {
        const { client, secret } = await admin.add(CLI_ACTOR, { id, audience, scopes }, Date.now());
        process.stdout.write(
          `added client ${client.id} for audience ${client.audience} with scopes: ${client.scopes.join(' ') || '-'}\n` +
            `client secret (shown once; store it in the service's secret store now):\n${secret}\n`,
        );
      };
    }
    case 'list': {
      parseOptions(args, COMMAND_OPTIONS.list);
      return async (admin) => {
        process.stdout.write(formatClientTable(await admin.list(CLI_ACTOR), Date.now()));
      };
    }
    case 'disable':
    case 'enable': {
      const { values } = parseOptions(args, COMMAND_OPTIONS[command]);
      const id = required(values.id, '--id');
      const disabled = command === 'disable';
      return async (admin) => {
        await admin.setDisabled(CLI_ACTOR, id, disabled, Date.now());
        process.stdout.write(`${disabled ? 'disabled' : 'enabled'} client ${id}\n`);
      };
    }
    case 'delete': {
      const { values } = parseOptions(args, COMMAND_OPTIONS.delete);
      const id = required(values.id, '--id');
      return async (admin) => {
        await admin.delete(CLI_ACTOR, id);
        process.stdout.write(`deleted client ${id}\n`);
      };
    }
    case 'rotate-secret': {
      const { values } = parseOptions(args, COMMAND_OPTIONS['rotate-secret']);
      const id = required(values.id, '--id');
      if (values.finish === true) {
        if (values.grace !== undefined) throw new UsageError('use either --finish or --grace, not both');
        return async (admin) => {
          await admin.finishRotation(CLI_ACTOR, id, Date.now());
          process.stdout.write(`rotation of ${id} finished: only the newest secret is valid\n`);
        };
      }
      const graceSeconds = values.grace === undefined ? DEFAULT_ROTATION_GRACE_SECONDS : parseDuration(values.grace);
      return async (admin) => {
        const { client, secret } = await admin.rotateSecret(CLI_ACTOR, id, graceSeconds, Date.now());
        process.stdout.write(
          `new client secret for ${id} (shown once):\n${secret}\n` +
            `the previous secret stays valid until ${describeDeadline(client)}; run rotate-secret --id ${id} --finish once every instance uses the new one\n`,
        );
      };
    }
  }
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new UsageError(`${option} is required`);
  return value;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `0`, or a whole number with its unit: 90s, 30m, 12h, 7d. */
function parseDuration(value: string): number {
  if (value === '0') return 0;
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(value);
  if (!match) throw new UsageError(`--grace ${JSON.stringify(value)}: expected 0 or a number with a unit, e.g. 90m, 12h, 7d`);
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

function describeDeadline(client: ServiceClient): string {
  return client.previousSecretExpiresAt === undefined ? 'now' : new Date(client.previousSecretExpiresAt).toISOString();
}

runCli('client', main);
