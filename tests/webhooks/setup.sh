#!/usr/bin/env bash
# The Python virtualenv with the official `standardwebhooks` library (PyPI), which
# tests/webhooks/receiver.py uses to verify every webhook the console delivers in
# tests/integration/webhooks/. Venv: ${WEBHOOK_VENV:-<repo>/target/webhooks-venv}.
# Prints its python as the last line:
#     WEBHOOK_PYTHON=$(bash tests/webhooks/setup.sh | tail -n1)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
. "$REPO/scripts/lib.sh"
python_venv "${WEBHOOK_VENV:-$REPO/target/webhooks-venv}" "$HERE/requirements.txt" python \
    python -c "import standardwebhooks; standardwebhooks.Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')"
