import { format } from 'node:util';
import type { Logger } from 'pino';
import { redactUrlCredentials } from '../config/redact.js';

/**
 * Routes what libraries print with `console.*` into the JSON log, so stdout stays one JSON object
 * per line. ioredis, for one, prints `[WARN] Redis server does not require a password…`, `Skipping
 * the ready check…` and `[ioredis] Unhandled error event: <stack>` with console.warn/error, and
 * offers no option to route them. Each call becomes one line with `source: "console"`, at warn for
 * console.warn, error for console.error, info otherwise; URL credentials in the text are redacted.
 * Returns a function that restores the original console methods.
 */
export function routeConsoleToLog(logger: Logger): () => void {
  const routed = logger.child({ source: 'console' });
  const original = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  const to =
    (level: 'info' | 'warn' | 'error' | 'debug') =>
    (...args: unknown[]): void => {
      routed[level](redactUrlCredentials(format(...args)));
    };
  console.log = to('info');
  console.info = to('info');
  console.warn = to('warn');
  console.error = to('error');
  console.debug = to('debug');
  return () => {
    Object.assign(console, original);
  };
}
