#!/usr/bin/env bash
# Usage: tests/saml/keys.sh DIR
# Writes into DIR (created if missing), with openssl:
#   idp.key / idp.crt     RSA-2048 key (PKCS#8 PEM) + self-signed cert (PEM) of the test IdP
#   wrong.key / wrong.crt an unrelated RSA-2048 pair ("attacker"), for negative tests
# Existing files are overwritten. No password on the keys.
set -euo pipefail
if [[ $# -ne 1 ]]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir="$1"
mkdir -p "$dir"
gen() {
    local name="$1" cn="$2"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=$cn" \
        -keyout "$dir/$name.key" -out "$dir/$name.crt" 2>/dev/null
    chmod 600 "$dir/$name.key"
}
gen idp "Test SAML IdP"
gen wrong "Unrelated attacker key"
