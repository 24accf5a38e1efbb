// Runs before `npm start` and the CLIs (`npm run keygen`, `user`, `db:migrate`), which all run the
// compiled code in dist/: on a fresh clone it installs dependencies and builds, so one command works
// on a machine with nothing but Node.js. In the Docker image (no src/) and in a production install
// with a built dist/ it does nothing. Its own output goes to stderr, so a CLI's stdout stays its own.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

// stdout of npm and tsc to our stderr: `npm run user -- list | …` must read only the CLI's output.
const quietStdout = { stdio: ['inherit', process.stderr, 'inherit'] };

if (!existsSync('node_modules/.package-lock.json')) {
  process.stderr.write('installing dependencies (npm ci)…\n');
  execSync('npm ci', quietStdout);
}
const entry = 'dist/server.js';
// The server imports the verifier package's build (packages/verifier/dist), so its sources count too.
const verifier = 'packages/verifier/dist/index.js';
const sourcesNewerThan = (built) => statSync(built).mtimeMs < Math.max(newest('src'), existsSync('packages/verifier/src') ? newest('packages/verifier/src') : 0);
const stale = () => !existsSync(entry) || !existsSync(verifier) || !existsSync('public/assets/jts-client.js') || sourcesNewerThan(entry) || sourcesNewerThan(verifier);
if (existsSync('src') && stale()) {
  if (!existsSync('node_modules/typescript')) {
    // `npm ci --omit=dev` leaves out the compiler: build where the dev dependencies are, then ship dist/.
    process.stderr.write('dist/ is missing or older than src/, and TypeScript is not installed (a production install?): run `npm ci && npm run build` first\n');
    process.exit(1);
  }
  process.stderr.write('building (dist/ is missing or stale)…\n');
  execSync('npm run build', quietStdout);
}
