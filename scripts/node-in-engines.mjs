// Exits 0 when this Node satisfies package.json's `engines.node`, 1 otherwise (printing why).
// Understands the only shape we use, caret ranges joined by `||` (e.g. "^24.11.0 || ^26.0.0"), so
// scripts/test.sh needs no dependency to decide which Node runs jest.
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

const range = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
const [major, minor, patch] = process.versions.node.split('.').map(Number);
const satisfied = range.split('||').some((part) => {
  const match = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
  if (!match) throw new Error(`engines.node part "${part}" is not a caret range (^MAJOR.MINOR.PATCH)`);
  const [want, wantMinor, wantPatch] = match.slice(1).map(Number);
  return major === want && (minor > wantMinor || (minor === wantMinor && patch >= wantPatch));
});
if (!satisfied) console.log(`Node ${process.versions.node} is outside engines.node "${range}"`);
process.exit(satisfied ? 0 : 1);
