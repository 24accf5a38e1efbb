// `npm start` on a fresh clone: install dependencies and build first when needed, so that one
// command starts the server on a machine with nothing but Node.js.
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

if (!existsSync('node_modules/.package-lock.json')) {
  process.stderr.write('installing dependencies (npm ci)…\n');
  execSync('npm ci', { stdio: 'inherit' });
}
const entry = 'dist/server.js';
const stale = () => !existsSync(entry) || !existsSync('public/assets/jts-client.js') || statSync(entry).mtimeMs < newest('src');
if (existsSync('src') && stale()) {
  process.stderr.write('building (dist/ is missing or stale)…\n');
  execSync('npm run build', { stdio: 'inherit' });
}
