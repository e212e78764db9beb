#!/usr/bin/env bash
# Creates the Python virtualenv with scim2-tester, the SCIM 2.0 conformance checker that
# tests/integration/scim/peer.rs runs (through tests/scim/check_server.py) against /scim/v2.
#
# Venv location: ${SCIM_TESTER_VENV:-<repo>/target/scim-tester-venv} (target/ is git-ignored).
# Idempotent: a stamp holding the sha256 of requirements.txt makes a repeated run a no-op.
# Prints the path of the venv's `python` on stdout as its last line:
#     SCIM_TESTER_PYTHON=$(bash tests/scim/setup.sh | tail -n1)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${SCIM_TESTER_VENV:-$REPO/target/scim-tester-venv}"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.scim-tester-requirements.sha256"
PYTHON="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/python" ]]; then
    echo "$VENV/bin/python"
    exit 0
fi

mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/python" ]]; then
    echo "$VENV/bin/python"
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
"$VENV/bin/python" -c "import scim2_tester, scim2_client.engines.httpx2" >&2
echo "$want" >"$STAMP"
echo "$VENV/bin/python"
