#!/usr/bin/env bash
# The Python virtualenv with scim2-tester, the SCIM 2.0 conformance checker that
# tests/integration/scim/peer.rs runs (through tests/scim/check_server.py) against /scim/v2.
# Venv: ${SCIM_TESTER_VENV:-<repo>/target/scim-tester-venv}. Prints its python as the last line:
#     SCIM_TESTER_PYTHON=$(bash tests/scim/setup.sh | tail -n1)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
. "$REPO/scripts/lib.sh"
python_venv "${SCIM_TESTER_VENV:-$REPO/target/scim-tester-venv}" "$HERE/requirements.txt" python \
    python -c 'import scim2_tester, scim2_client.engines.httpx2'
