#!/usr/bin/env bash
# Creates the Python virtualenv with the official `standardwebhooks` library (PyPI), which
# tests/webhooks/receiver.py uses to verify every webhook the console delivers in
# tests/integration/webhooks/.
#
# Venv location: ${WEBHOOK_VENV:-<repo>/target/webhooks-venv} (target/ is git-ignored).
# Idempotent: a stamp holding the sha256 of requirements.txt makes a repeated run a no-op.
# Prints the path of the venv's python on stdout as its last line:
#     WEBHOOK_PYTHON=$(bash tests/webhooks/setup.sh | tail -n1)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${WEBHOOK_VENV:-$REPO/target/webhooks-venv}"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.webhooks-requirements.sha256"
PYTHON="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
ready() {
    [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/python" ]]
}
if ready; then
    echo "$VENV/bin/python"
    exit 0
fi

mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if ready; then
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
"$VENV/bin/python" -c "import standardwebhooks; standardwebhooks.Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')" >&2
echo "$want" >"$STAMP"
echo "$VENV/bin/python"
