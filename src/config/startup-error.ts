/**
 * What stops the server or a command from starting: a bad setting, an unusable key file, a wrong
 * command line. Each problem is one self-contained line that names the variable, file or option,
 * what is wrong with it and how to fix it, so the process can print one line per problem and exit.
 */
export type StartupCode = 'config_invalid' | 'key_file_unusable' | 'database_unusable' | 'usage';

export abstract class StartupError extends Error {
  abstract readonly code: StartupCode;
  /** One line per problem: `<variable, file or option>: <what is wrong>; <the fix>`. */
  readonly problems: readonly string[];

  /** With a `heading`, the message is the heading and one indented line per problem. */
  protected constructor(problems: readonly string[], options: { heading?: string; cause?: unknown } = {}) {
    const message = options.heading === undefined ? problems.join('\n') : `${options.heading}:\n${problems.map((line) => `  ${line}`).join('\n')}`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problems = problems;
  }
}

/** Environment variables that fail validation; every bad variable is listed at once. */
export class ConfigError extends StartupError {
  override readonly name = 'ConfigError';
  readonly code = 'config_invalid';

  constructor(problems: readonly string[]) {
    super(problems, { heading: 'Invalid configuration' });
  }
}

/** The accounts database cannot be used: unreachable at start-up, or its schema behind this build. */
export class DatabaseStartupError extends StartupError {
  override readonly name = 'DatabaseStartupError';
  readonly code = 'database_unusable';

  constructor(problem: string, options: { cause?: unknown } = {}) {
    super([problem], options);
  }
}
