#!/usr/bin/env bash
# Installs axe-core from package-lock.json (npm ci) when node_modules is missing or older than
# the lock file. The browser tests read node_modules/axe-core/axe.min.js and inject it into
# every page. Safe to run again and again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v npm >/dev/null || { echo "setup.sh: npm is not installed" >&2; exit 1; }

stamp=node_modules/.package-lock.json   # written by npm ci/install
if [[ -f node_modules/axe-core/axe.min.js && -f $stamp && ! package-lock.json -nt $stamp ]]; then
    exit 0
fi
echo "setup.sh: npm ci in $(pwd)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
touch "$stamp"
