import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/**
 * The compiled entry point `dist/<name>.js`, for tests that start the server or a CLI as its own
 * process: `node dist/…` as `npm start` and the Docker image run them. The jest global setup runs
 * scripts/ensure-built.mjs first, so the build is never older than src/. About a second faster per
 * process than compiling TypeScript with tsx, which matters on a loaded CI machine (SIGKILL restarts
 * inside the grace window, CLIs started dozens of times).
 */
export function built(name: 'server' | 'cli/user' | 'cli/client' | 'cli/keygen' | 'cli/webhooks' | 'cli/db-migrate'): string {
  return join(ROOT, 'dist', `${name}.js`);
}
