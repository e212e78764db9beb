#!/usr/bin/env bash
# Creates the Python virtualenv with schemathesis, the independent OpenAPI contract checker that
# tests/integration/api/contract.rs runs against the console's /v4/openapi.json.
#
# Venv location: ${SCHEMATHESIS_VENV:-<repo>/target/schemathesis-venv} (target/ is git-ignored).
# Idempotent: a stamp holding the sha256 of requirements.txt makes a repeated run a no-op.
# Prints the path of the `st` executable on stdout as its last line:
#     ST=$(bash tests/schemathesis/setup.sh | tail -n1)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${SCHEMATHESIS_VENV:-$REPO/target/schemathesis-venv}"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.schemathesis-requirements.sha256"
PYTHON="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/st" ]]; then
    echo "$VENV/bin/st"
    exit 0
fi

mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/st" ]]; then
    echo "$VENV/bin/st"
    exit 0
fi

rm -f "$STAMP"
if [[ ! -x "$VENV/bin/python" ]]; then
    if ! "$PYTHON" -m venv "$VENV" >&2; then
        rm -rf "$VENV"
        echo "setup.sh: '$PYTHON -m venv' failed; on Debian: apt-get install -y python3-venv" >&2
        exit 1
    fi
fi
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQ" >&2
# Fail early if the install is unusable.
"$VENV/bin/st" --version >&2
echo "$want" >"$STAMP"
echo "$VENV/bin/st"
