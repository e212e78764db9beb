#!/usr/bin/env bash
# Creates the Python virtualenv for the test SAML IdP (tests/saml/idp.py).
#
# System prerequisites (Debian): python3 with venv + pip, openssl, xmlsec1:
#     apt-get install -y xmlsec1 openssl python3-venv
# (pysaml2 signs by running the `xmlsec1` binary; libxml2-utils/xmllint is
# optional, selfcheck.sh falls back to Python for well-formedness checks.)
#
# Venv location: ${SAML_VENV:-<repo>/target/saml-venv} (target/ is git-ignored).
# Idempotent: a stamp file holding the sha256 of requirements.txt makes a
# repeated run a no-op (well under a second). Prints the venv's python path
# on stdout as its last line, so callers can do PY=$(tests/saml/setup.sh | tail -n1).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="${SAML_VENV:-$REPO/target/saml-venv}"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.saml-requirements.sha256"
PYTHON="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$VENV/bin/python" ]]; then
    echo "$VENV/bin/python"
    exit 0
fi

if ! command -v xmlsec1 >/dev/null 2>&1; then
    echo "setup.sh: warning: xmlsec1 not on PATH; install it with: apt-get install -y xmlsec1" >&2
fi

# Serialise concurrent runs (e.g. several cargo test threads calling setup).
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
# Re-check after acquiring the lock: another process may have finished.
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
"$VENV/bin/python" -c 'import saml2.sigver, lxml.etree' >&2
echo "$want" >"$STAMP"
echo "$VENV/bin/python"
