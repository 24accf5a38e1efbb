#!/usr/bin/env bash
# The one test command (README, .ci/run): lint, typecheck, the layer check, unit + integration tests against a
# private redis-server (on a supported Node), then the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "the tests need: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
[ -d node_modules ] || npm ci

npm run lint
npm run typecheck
npm run lint:layers
# jest runs once, on a supported Node: this machine's when package.json's engines allow it, else the
# Docker image's line fetched from the npm registry (scripts/test-node-lts.sh). The browser tests
# below still run the built server on this machine's Node, so `npm start` here stays covered.
if node scripts/node-in-engines.mjs; then
  npx jest
else
  echo "so jest runs on the Docker image's Node line"
  bash scripts/test-node-lts.sh --all
fi
# jest's global setup built dist/ (scripts/ensure-built.mjs); the browser tests run that build.
node scripts/ensure-built.mjs
npx jest -c test/e2e/jest.config.ts
