import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StartupError } from '../config/startup-error.js';

/** A mistake on the command line: reported with a pointer to --help rather than as a failure. */
export class UsageError extends StartupError {
  override readonly name = 'UsageError';
  readonly code = 'usage';

  constructor(problem: string) {
    super([problem]);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, with its errors (unknown option, missing value) turned into
 * UsageErrors so that the runner prints them as one line.
 */
export function parseOptions<const O extends Options>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true }>> {
  try {
    return parseArgs({ args, options, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error));
  }
}

/**
 * Runs a CLI entry point. Any failure becomes exit code 1 and a single line on stderr: an operator
 * needs the reason, and a stack trace would bury it (and could leak paths or values into logs).
 */
export function runCli(program: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${program}: ${describeError(error)}\n`);
    process.exitCode = 1;
  });
}

function describeError(error: unknown): string {
  if (error instanceof StartupError) return oneLine(error.problems.join('; ') + (error instanceof UsageError ? ' (see --help)' : ''));
  if (!(error instanceof Error)) return oneLine(String(error));
  let message = error.message;
  // Store errors wrap the Redis failure; the operator needs the underlying reason too.
  if (error.cause instanceof Error && error.cause.message && !message.includes(error.cause.message)) {
    message = `${message} (${error.cause.message})`;
  }
  return oneLine(message);
}

function oneLine(text: string): string {
  return text.replace(/:\s*\n\s*/g, ': ').replace(/\s*\n\s*/g, '; ').trim();
}

/**
 * The command of `npm run <cli> -- <command> [options]` and its options. Prints `usage` and
 * resolves to undefined when help is asked for (no command word `help`/`-h`/`--help`, or `--help`
 * among the options). Throws UsageError for a missing or unknown command.
 */
export function commandOf<C extends string>(argv: readonly string[], commands: readonly C[], usage: string): { command: C; rest: string[] } | undefined {
  const [command, ...rest] = argv;
  const expected = `expected one of ${commands.join(', ')}`;
  if (command === undefined) throw new UsageError(`missing command: one of ${commands.join(', ')}`);
  if (command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    if (command !== '--help' && command !== '-h' && command !== 'help' && !(commands as readonly string[]).includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}: ${expected}`);
    process.stdout.write(usage);
    return undefined;
  }
  if (!(commands as readonly string[]).includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}: ${expected}`);
  return { command: command as C, rest };
}
