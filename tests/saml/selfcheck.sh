#!/usr/bin/env bash
# Self-check of the test IdP (tests/saml/idp.py), independent of the Rust code.
# Needs: xmlsec1 + openssl on PATH (apt-get install xmlsec1), python3 with venv.
# Creates/reuses the venv via setup.sh, makes throw-away keys in a temp dir,
# then checks metadata, signatures (with the xmlsec1 CLI, not pysaml2) and the
# XML shape of every variant. Ends with "N passed, N failed"; exit 1 on failure.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$("$HERE/setup.sh" | tail -n1)" || { echo "setup.sh failed" >&2; exit 1; }
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
"$HERE/keys.sh" "$T" || { echo "keys.sh failed" >&2; exit 1; }

PASS=0
FAIL=0
ok() { echo "ok   - $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL - $1"; FAIL=$((FAIL + 1)); }
# check DESC CMD...: CMD must succeed
check() {
    local desc="$1"; shift
    if "$@" >"$T/log" 2>&1; then ok "$desc"; else bad "$desc"; sed 's/^/    | /' "$T/log"; fi
}
# check_fails DESC CMD...: CMD must fail
check_fails() {
    local desc="$1"; shift
    if "$@" >"$T/log" 2>&1; then bad "$desc (unexpectedly succeeded)"; sed 's/^/    | /' "$T/log"; else ok "$desc"; fi
}
# eq DESC ACTUAL EXPECTED
eq() {
    if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1"; echo "    | expected: $3"; echo "    | actual:   $2"; fi
}

idp() { "$PY" "$HERE/idp.py" "$@"; }

# xp FILE XPATH: evaluates XPath 1.0 with prefixes samlp/saml/ds/md; prints a
# string/number result, or for node-sets one line per node (text or attr value).
xp() {
    "$PY" - "$1" "$2" <<'EOF'
import sys
from lxml import etree
ns = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#",
      "md": "urn:oasis:names:tc:SAML:2.0:metadata"}
doc = etree.parse(sys.argv[1], etree.XMLParser(resolve_entities=False, no_network=True))
r = doc.xpath(sys.argv[2], namespaces=ns)
if isinstance(r, list):
    for x in r:
        print(x if isinstance(x, str) else (x.text or ""))
elif isinstance(r, float):
    print(int(r) if r.is_integer() else r)
else:
    print(r)
EOF
}

# well-formed FILE: parses with lxml (xmllint is not required)
wellformed() {
    "$PY" -c 'import sys; from lxml import etree; etree.parse(sys.argv[1], etree.XMLParser(resolve_entities=False, no_network=True))' "$1"
}

A_NODE=urn:oasis:names:tc:SAML:2.0:assertion:Assertion
R_NODE=urn:oasis:names:tc:SAML:2.0:protocol:Response
# verify FILE CERT [NODE_ID]: xmlsec1 verification of the signature found first
# from NODE_ID (default: the document root), trusting only CERT (the KeyInfo
# certificate in the message is ignored: --enabled-key-data raw-x509-cert).
verify() {
    local file="$1" cert="$2" node="${3:-}"
    xmlsec1 --verify --enabled-reference-uris empty,same-doc \
        --enabled-key-data raw-x509-cert \
        --id-attr:ID "$A_NODE" --id-attr:ID "$R_NODE" \
        --pubkey-cert-pem "$cert" ${node:+--node-id "$node"} "$file"
}

IDP=https://idp.test/metadata
SP=https://sp.test/saml/metadata
ACS=https://sp.test/saml/acs
COMMON=(--idp-entity-id "$IDP" --sp-entity-id "$SP" --acs-url "$ACS"
    --name-id alice@example.com --email alice@example.com
    --key "$T/idp.key" --cert "$T/idp.crt")

# response OUT ARGS...: base64 output, decoded into OUT
response() {
    local out="$1"; shift
    idp response "${COMMON[@]}" "$@" >"$out.b64" && base64 -d "$out.b64" >"$out"
}

echo "# xmlsec1: $(command -v xmlsec1) ($(xmlsec1 --version))"
echo "# python:  $PY"

# ---------------------------------------------------------------- metadata
idp metadata --entity-id "$IDP" --sso-url https://idp.test/sso --cert "$T/idp.crt" >"$T/md.xml"
check "metadata is well-formed" wellformed "$T/md.xml"
eq "metadata entityID" "$(xp "$T/md.xml" 'string(/md:EntityDescriptor/@entityID)')" "$IDP"
eq "metadata KeyDescriptor use=signing" \
    "$(xp "$T/md.xml" 'count(//md:IDPSSODescriptor/md:KeyDescriptor[@use="signing"]/ds:KeyInfo/ds:X509Data/ds:X509Certificate)')" 1
eq "metadata certificate is idp.crt" \
    "$(xp "$T/md.xml" 'string(//md:KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate)')" \
    "$(sed '/-----/d' "$T/idp.crt" | tr -d '\n')"
eq "metadata SSO Redirect+POST" \
    "$(xp "$T/md.xml" '//md:SingleSignOnService[@Location="https://idp.test/sso"]/@Binding' | sort | tr '\n' ' ')" \
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect "
idp metadata --entity-id "$IDP" --sso-url https://idp.test/sso --no-cert >"$T/md-nocert.xml"
check "metadata --no-cert is well-formed" wellformed "$T/md-nocert.xml"
eq "metadata --no-cert has no KeyDescriptor" "$(xp "$T/md-nocert.xml" 'count(//md:KeyDescriptor)')" 0

# ---------------------------------------------------------- valid response
response "$T/ok.xml" --in-response-to _req42
check "valid response is well-formed" wellformed "$T/ok.xml"
check "valid response: assertion signature verifies with idp.crt" verify "$T/ok.xml" "$T/idp.crt"
check_fails "valid response: verification with wrong.crt fails" verify "$T/ok.xml" "$T/wrong.crt"
eq "Response Destination" "$(xp "$T/ok.xml" 'string(/samlp:Response/@Destination)')" "$ACS"
eq "Response InResponseTo" "$(xp "$T/ok.xml" 'string(/samlp:Response/@InResponseTo)')" _req42
eq "Response status Success" "$(xp "$T/ok.xml" 'string(/samlp:Response/samlp:Status/samlp:StatusCode/@Value)')" \
    urn:oasis:names:tc:SAML:2.0:status:Success
eq "Response itself unsigned (default --sign assertion)" "$(xp "$T/ok.xml" 'count(/samlp:Response/ds:Signature)')" 0
eq "exactly one assertion" "$(xp "$T/ok.xml" 'count(//saml:Assertion)')" 1
eq "assertion Issuer" "$(xp "$T/ok.xml" 'string(//saml:Assertion/saml:Issuer)')" "$IDP"
eq "signature reference = assertion ID" \
    "$(xp "$T/ok.xml" 'string(//saml:Assertion/ds:Signature/ds:SignedInfo/ds:Reference/@URI)')" \
    "#$(xp "$T/ok.xml" 'string(//saml:Assertion/@ID)')"
eq "default SignatureMethod rsa-sha256" \
    "$(xp "$T/ok.xml" 'string(//ds:SignatureMethod/@Algorithm)')" http://www.w3.org/2001/04/xmldsig-more#rsa-sha256
eq "default DigestMethod sha256" \
    "$(xp "$T/ok.xml" 'string(//ds:DigestMethod/@Algorithm)')" http://www.w3.org/2001/04/xmlenc#sha256
eq "exclusive c14n" "$(xp "$T/ok.xml" 'string(//ds:CanonicalizationMethod/@Algorithm)')" http://www.w3.org/2001/10/xml-exc-c14n#
eq "NameID emailAddress" \
    "$(xp "$T/ok.xml" 'concat(//saml:NameID/@Format, " ", //saml:NameID)')" \
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress alice@example.com"
eq "SubjectConfirmation bearer" "$(xp "$T/ok.xml" 'string(//saml:SubjectConfirmation/@Method)')" urn:oasis:names:tc:SAML:2.0:cm:bearer
eq "SubjectConfirmationData Recipient/InResponseTo" \
    "$(xp "$T/ok.xml" 'concat(//saml:SubjectConfirmationData/@Recipient, " ", //saml:SubjectConfirmationData/@InResponseTo)')" \
    "$ACS _req42"
eq "Conditions NotBefore+NotOnOrAfter" \
    "$(xp "$T/ok.xml" 'count(//saml:Conditions[@NotBefore and @NotOnOrAfter])')" 1
eq "Audience" "$(xp "$T/ok.xml" 'string(//saml:Conditions/saml:AudienceRestriction/saml:Audience)')" "$SP"
eq "AuthnStatement" "$(xp "$T/ok.xml" 'count(//saml:AuthnStatement[@AuthnInstant and @SessionIndex])')" 1
eq "attributes email/givenName/surname" \
    "$(xp "$T/ok.xml" '//saml:Attribute/@Name' | tr '\n' ' ')" "email givenName surname "
eq "email attribute value" "$(xp "$T/ok.xml" 'string(//saml:Attribute[@Name="email"]/saml:AttributeValue)')" alice@example.com
now_ok="$("$PY" - "$T/ok.xml" <<'EOF'
import sys, datetime
from lxml import etree
d = etree.parse(sys.argv[1])
ns = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
def t(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
now = datetime.datetime.now(datetime.timezone.utc)
ii = t(d.getroot().get("IssueInstant"))
noa = t(d.find(".//saml:Conditions", ns).get("NotOnOrAfter"))
print(abs((now - ii).total_seconds()) < 30 and 290 <= (noa - ii).total_seconds() <= 310)
EOF
)"
eq "IssueInstant is now (UTC), NotOnOrAfter = +300s" "$now_ok" True

response "$T/unsolicited.xml"
eq "unsolicited: no InResponseTo anywhere" "$(xp "$T/unsolicited.xml" 'count(//@InResponseTo)')" 0
check "unsolicited: signature verifies" verify "$T/unsolicited.xml" "$T/idp.crt"

response "$T/custom.xml" --destination https://other.test/d --recipient https://other.test/r \
    --audience https://other.test/a --assertion-id _fixed_assertion_id
eq "--destination/--recipient/--audience/--assertion-id" \
    "$(xp "$T/custom.xml" 'concat(/samlp:Response/@Destination," ",//saml:SubjectConfirmationData/@Recipient," ",//saml:Audience," ",//saml:Assertion/@ID)')" \
    "https://other.test/d https://other.test/r https://other.test/a _fixed_assertion_id"
check "custom response verifies" verify "$T/custom.xml" "$T/idp.crt"

response "$T/expired.xml" --not-on-or-after-offset -60
expired="$("$PY" - "$T/expired.xml" <<'EOF'
import sys, datetime
from lxml import etree
d = etree.parse(sys.argv[1])
ns = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
vals = [d.find(".//saml:Conditions", ns).get("NotOnOrAfter"), d.find(".//saml:SubjectConfirmationData", ns).get("NotOnOrAfter")]
print(all(v < now for v in vals))
EOF
)"
eq "--not-on-or-after-offset -60: both NotOnOrAfter in the past" "$expired" True
check "expired response still verifies (it is only stale)" verify "$T/expired.xml" "$T/idp.crt"

# ---------------------------------------------------------- algorithms / placement
response "$T/sha1.xml" --digest sha1 --sig-alg rsa-sha1
eq "--sig-alg rsa-sha1 -> SignatureMethod rsa-sha1" \
    "$(xp "$T/sha1.xml" 'string(//ds:SignatureMethod/@Algorithm)')" http://www.w3.org/2000/09/xmldsig#rsa-sha1
eq "--digest sha1 -> DigestMethod sha1" \
    "$(xp "$T/sha1.xml" 'string(//ds:DigestMethod/@Algorithm)')" http://www.w3.org/2000/09/xmldsig#sha1
check "sha1 response verifies" verify "$T/sha1.xml" "$T/idp.crt"

response "$T/signresp.xml" --sign response
eq "--sign response: only the Response is signed" \
    "$(xp "$T/signresp.xml" 'concat(count(/samlp:Response/ds:Signature)," ",count(//saml:Assertion/ds:Signature))')" "1 0"
check "--sign response verifies" verify "$T/signresp.xml" "$T/idp.crt"
check_fails "--sign response: wrong.crt fails" verify "$T/signresp.xml" "$T/wrong.crt"

response "$T/both.xml" --sign both
RID="$(xp "$T/both.xml" 'string(/samlp:Response/@ID)')"
AID="$(xp "$T/both.xml" 'string(//saml:Assertion/@ID)')"
eq "--sign both: two signatures" "$(xp "$T/both.xml" 'count(//ds:Signature)')" 2
check "--sign both: Response signature verifies" verify "$T/both.xml" "$T/idp.crt" "$RID"
check "--sign both: assertion signature verifies" verify "$T/both.xml" "$T/idp.crt" "$AID"

idp response --idp-entity-id "$IDP" --sp-entity-id "$SP" --acs-url "$ACS" \
    --name-id alice@example.com --email alice@example.com \
    --key "$T/wrong.key" --cert "$T/wrong.crt" --raw >"$T/wrongkey.xml"
check "--raw prints XML" wellformed "$T/wrongkey.xml"
check_fails "signed with wrong.key: fails against idp.crt" verify "$T/wrongkey.xml" "$T/idp.crt"
check "signed with wrong.key: verifies against wrong.crt" verify "$T/wrongkey.xml" "$T/wrong.crt"

# ---------------------------------------------------------- variants
EVIL=admin@victim.example
for v in unsigned xsw-before xsw-after xsw-inside xsw-inside-advice xsw-extensions xsw-object comment tampered; do
    if response "$T/$v.xml" --variant "$v" --evil-name-id "$EVIL"; then
        check "variant $v: well-formed XML" wellformed "$T/$v.xml"
    else
        bad "variant $v: idp.py failed"
    fi
done

eq "unsigned: no ds:Signature" "$(xp "$T/unsigned.xml" 'count(//ds:Signature)')" 0
check_fails "unsigned: verification fails" verify "$T/unsigned.xml" "$T/idp.crt"

# SIGNED = the assertion that carries a ds:Signature; EVILA = the one that does not.
SIGNED='//saml:Assertion[ds:Signature]'
EVILA='//saml:Assertion[not(ds:Signature)]'
xsw_common() {
    local v="$1" f="$T/$1.xml"
    eq "$v: two assertions, one signed" \
        "$(xp "$f" "concat(count(//saml:Assertion),' ',count($SIGNED))")" "2 1"
    eq "$v: evil NameID/email, original NameID" \
        "$(xp "$f" "concat($EVILA/saml:Subject/saml:NameID,' ',$EVILA/saml:AttributeStatement/saml:Attribute[@Name='email']/saml:AttributeValue,' ',$SIGNED/saml:Subject/saml:NameID)")" \
        "$EVIL $EVIL alice@example.com"
    check "$v: signed assertion still verifies" verify "$f" "$T/idp.crt" "$(xp "$f" "string($SIGNED/@ID)")"
}
for v in xsw-before xsw-after xsw-inside xsw-inside-advice xsw-extensions xsw-object; do xsw_common "$v"; done
shape() { "$PY" - "$1" <<'EOF'
import sys
from lxml import etree
DS = "{http://www.w3.org/2000/09/xmldsig#}Signature"
def s(e):
    name = etree.QName(e).localname
    if name == "Assertion":
        name += "*" if e.find(DS) is not None else ""
        kids = [s(c) for c in e if isinstance(c.tag, str) and etree.QName(c).localname in ("Assertion", "Advice")]
    elif name in ("Extensions", "Advice", "Object"):
        kids = [s(c) for c in e if isinstance(c.tag, str)]
    elif name == "Signature":
        kids = [s(c) for c in e if isinstance(c.tag, str) and etree.QName(c).localname == "Object"]
    else:
        kids = []
    return name + ("(" + " ".join(kids) + ")" if kids else "")
print(" ".join(s(c) for c in etree.parse(sys.argv[1]).getroot()))
EOF
}
eq "xsw-before shape" "$(shape "$T/xsw-before.xml")" "Issuer Status Assertion Assertion*"
eq "xsw-after shape" "$(shape "$T/xsw-after.xml")" "Issuer Status Assertion* Assertion"
eq "xsw-inside shape" "$(shape "$T/xsw-inside.xml")" "Issuer Status Assertion(Assertion*)"
eq "xsw-inside signed assertion is last child of evil" \
    "$(xp "$T/xsw-inside.xml" 'local-name(/samlp:Response/saml:Assertion/*[last()])')" Assertion
eq "xsw-inside-advice shape" "$(shape "$T/xsw-inside-advice.xml")" "Issuer Status Assertion(Advice(Assertion*))"
eq "xsw-extensions shape" "$(shape "$T/xsw-extensions.xml")" "Issuer Extensions(Assertion*) Status Assertion"
eq "xsw-object shape" "$(shape "$T/xsw-object.xml")" "Issuer Signature(Object(Assertion*)) Status Assertion"

response "$T/xsw-object-both.xml" --variant xsw-object --sign both --evil-name-id "$EVIL"
eq "xsw-object --sign both shape (Object inside the real Response signature)" \
    "$(shape "$T/xsw-object-both.xml")" "Issuer Signature(Object(Assertion*)) Status Assertion"
check "xsw-object --sign both: moved assertion still verifies" \
    verify "$T/xsw-object-both.xml" "$T/idp.crt" "$(xp "$T/xsw-object-both.xml" "string($SIGNED/@ID)")"

response "$T/comment.xml" --variant comment --name-id admin@victim.example.attacker.example \
    --email admin@victim.example.attacker.example
eq "comment: NameID text before the comment" \
    "$(xp "$T/comment.xml" 'string(//saml:NameID/text()[1])')" admin@victim.example
eq "comment: NameID = text, comment, text" \
    "$(xp "$T/comment.xml" 'concat(count(//saml:NameID/comment()), " ", //saml:NameID/text()[2])')" "1 .attacker.example"
check "comment: raw XML contains the split NameID" \
    grep -q 'admin@victim.example<!---->.attacker.example</saml:NameID>' "$T/comment.xml"
eq "comment: email attribute split too" \
    "$(xp "$T/comment.xml" 'count(//saml:AttributeValue[comment()])')" 1
check "comment: signature still verifies (exc-c14n drops comments)" verify "$T/comment.xml" "$T/idp.crt"
response "$T/comment2.xml" --variant comment --name-id bob@corp.example --comment-after bob
check "comment --comment-after bob" grep -q 'bob<!---->@corp.example</saml:NameID>' "$T/comment2.xml"
check "comment --comment-after: verifies" verify "$T/comment2.xml" "$T/idp.crt"

eq "tampered: NameID replaced" "$(xp "$T/tampered.xml" 'string(//saml:NameID)')" "$EVIL"
check_fails "tampered: verification fails" verify "$T/tampered.xml" "$T/idp.crt"

check_fails "usage error: comment variant with --sign response" \
    idp response "${COMMON[@]}" --variant comment --sign response
check_fails "metadata without --cert/--no-cert is an error" \
    idp metadata --entity-id "$IDP" --sso-url https://idp.test/sso

# ---------------------------------------------------------- batch mode
"$PY" - "$T" >"$T/batch.in" <<'EOF'
import json, sys
t = sys.argv[1]
common = ["--idp-entity-id", "https://idp.test/metadata", "--sp-entity-id", "https://sp.test/saml/metadata",
          "--acs-url", "https://sp.test/saml/acs", "--name-id", "carol@example.com", "--email", "carol@example.com",
          "--key", t + "/idp.key", "--cert", t + "/idp.crt"]
print(json.dumps(["response"] + common + ["--raw"]))
print(json.dumps(["response", "--no-such-flag"]))
print(json.dumps(["metadata", "--entity-id", "E", "--sso-url", "U", "--no-cert"]))
EOF
idp batch <"$T/batch.in" >"$T/batch.out"
eq "batch: one answer per request, exit codes 0 2 0" \
    "$("$PY" -c 'import json,sys; print(" ".join(str(json.loads(l)["code"]) for l in open(sys.argv[1])))' "$T/batch.out")" "0 2 0"
"$PY" -c 'import json,sys; sys.stdout.write(json.loads(open(sys.argv[1]).readline())["stdout"])' "$T/batch.out" >"$T/batch1.xml"
check "batch: response verifies" verify "$T/batch1.xml" "$T/idp.crt"

echo "selfcheck: $PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
