#!/usr/bin/env bash
# The Python virtualenv for the test SAML IdP (tests/saml/idp.py): pysaml2, which signs by
# running the `xmlsec1` binary (Debian: apt-get install -y xmlsec1 openssl python3-venv).
# Venv: ${SAML_VENV:-<repo>/target/saml-venv}. Prints the venv's python as the last line:
#     SAML_PYTHON=$(bash tests/saml/setup.sh | tail -n1)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
. "$REPO/scripts/lib.sh"
command -v xmlsec1 >/dev/null 2>&1 ||
    echo "setup.sh: warning: xmlsec1 not on PATH; install it with: apt-get install -y xmlsec1" >&2
python_venv "${SAML_VENV:-$REPO/target/saml-venv}" "$HERE/requirements.txt" python \
    python -c 'import saml2.sigver, lxml.etree'
