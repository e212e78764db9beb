#!/usr/bin/env bash
# Installs the OpenID provider's npm dependencies (from package-lock.json) when
# node_modules is missing or older than the lock file. Safe to run again and again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null || { echo "setup.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup.sh: npm is not installed" >&2; exit 1; }

stamp=node_modules/.package-lock.json   # written by npm ci/install
if [[ -d node_modules/oidc-provider && -f $stamp && ! package-lock.json -nt $stamp ]]; then
    exit 0
fi
echo "setup.sh: npm ci in $(pwd)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
touch "$stamp"
