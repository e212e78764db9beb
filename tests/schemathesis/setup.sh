#!/usr/bin/env bash
# The Python virtualenv with schemathesis, the independent OpenAPI contract checker that
# tests/integration/api/contract.rs runs against the console's /v4/openapi.json.
# Venv: ${SCHEMATHESIS_VENV:-<repo>/target/schemathesis-venv}. Prints `st` as the last line:
#     SCHEMATHESIS_ST=$(bash tests/schemathesis/setup.sh | tail -n1)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
. "$REPO/scripts/lib.sh"
python_venv "${SCHEMATHESIS_VENV:-$REPO/target/schemathesis-venv}" "$HERE/requirements.txt" st \
    st --version
