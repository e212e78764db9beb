#!/usr/bin/env bash
# Self-check of the test OpenID provider: a full authorization code + PKCE (S256) sign-in
# done with curl only, the way the Rust tests do it over HTTP.
# Usage: tests/oidc/selfcheck.sh        (exit 0 when every check passes)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

CLIENT_ID=selfcheck-client
CLIENT_SECRET='selfcheck secret:with/odd+chars'
REDIRECT_URI=http://127.0.0.1:9/callback   # never contacted: curl does not follow it
passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION ACTUAL EXPECTED
    if [[ "$2" == "$3" ]]; then ok "$1 ($2)"; else fail "$1: got '$2', expected '$3'"; fi
}
die() { echo "FATAL: $*" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

# start_provider NAME [ARGS...] -> sets ISSUER (read from the `ready` line)
start_provider() {
    local name=$1; shift
    local out="$work/$name.out"
    node "$here/provider.mjs" --port 0 --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" \
        --redirect-uri "$REDIRECT_URI" "$@" >"$out" 2>"$work/$name.err" &
    pids+=("$!")
    for _ in $(seq 100); do
        if grep -q '^ready ' "$out"; then
            ISSUER=$(sed -n 's/^ready //p' "$out")
            [[ $(wc -l <"$out") == 1 ]] || die "stdout has more than the ready line"
            return 0
        fi
        kill -0 "$!" 2>/dev/null || { cat "$work/$name.err" >&2; die "provider $name exited"; }
        sleep 0.1
    done
    die "provider $name not ready after 10 s"
}

b64url() { node -e 'process.stdout.write(Buffer.from(process.argv[1]).toString("base64url"))' "$1"; }
json() { node -e 'const v=JSON.parse(process.argv[1])[process.argv[2]]; process.stdout.write(v===undefined?"":String(v))' "$1" "$2"; }
header() { grep -i "^$2:" "$1" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
status() { head -1 "$1" | cut -d' ' -f2; }
urlparam() { node -e 'process.stdout.write(new URL(process.argv[1]).searchParams.get(process.argv[2]) ?? "")' "$1" "$2"; }
absolute() { node -e 'process.stdout.write(new URL(process.argv[1], process.argv[2]).href)' "$1" "$2"; }

# authorize LOGIN JAR [EXTRA_QUERY] -> sets CODE STATE NONCE VERIFIER CALLBACK
# GET /auth -> 303 /interaction/<uid> -> GET form -> POST login=... -> 303s -> redirect_uri
authorize() {
    local login=$1 jar=$2 extra=${3-}
    VERIFIER=$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')
    local challenge
    challenge=$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(process.argv[1]).digest("base64url"))' "$VERIFIER")
    STATE="st-$RANDOM$RANDOM"
    NONCE="n-$RANDOM$RANDOM"
    local url="$ISSUER/auth?response_type=code&client_id=$CLIENT_ID&redirect_uri=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$REDIRECT_URI")&scope=openid%20email%20profile&state=$STATE&nonce=$NONCE&code_challenge=$challenge&code_challenge_method=S256$extra"
    local h="$work/h" b="$work/b" action
    curl -sS -c "$jar" -b "$jar" -D "$h" -o "$b" "$url"
    [[ $(status "$h") == 303 ]] || die "authorize: expected 303, got $(status "$h"): $(cat "$b")"
    url=$(absolute "$(header "$h" location)" "$ISSUER/")
    [[ $url == "$ISSUER/interaction/"* ]] || die "authorize did not lead to /interaction/: $url"
    curl -sS -c "$jar" -b "$jar" -D "$h" -o "$b" "$url"
    [[ $(status "$h") == 200 ]] || die "interaction GET: $(status "$h")"
    grep -q 'name="login" id="login"' "$b" && grep -q 'id="submit"' "$b" || die "login form fields missing"
    action=$(sed -n 's/.*<form[^>]* action="\([^"]*\)".*/\1/p' "$b" | sed 's/&amp;/\&/g')
    [[ -n $action ]] || die "no form action"
    curl -sS -c "$jar" -b "$jar" -D "$h" -o "$b" --data-urlencode "login=$login" "$action"
    local hops=0
    while [[ $(status "$h") == 30[23] ]]; do
        url=$(absolute "$(header "$h" location)" "$url")
        [[ $url == "$REDIRECT_URI"* ]] && break
        hops=$((hops + 1)); [[ $hops -lt 10 ]] || die "redirect loop"
        curl -sS -c "$jar" -b "$jar" -D "$h" -o "$b" "$url"
    done
    [[ $url == "$REDIRECT_URI"* ]] || die "sign-in did not come back to redirect_uri (status $(status "$h")): $(head -c 600 "$b")"
    CALLBACK=$url
    CODE=$(urlparam "$url" code)
    [[ -n $CODE ]] || die "no code in $url"
    check "callback state matches" "$(urlparam "$url" state)" "$STATE"
}

# token CODE VERIFIER [basic|post] -> sets TOKEN_STATUS TOKEN_BODY
token() {
    local code=$1 verifier=$2 how=${3:-basic} h="$work/th" b="$work/tb"
    local auth=()
    if [[ $how == basic ]]; then
        # RFC 6749 2.3.1: form-urlencode id and secret, then base64
        local enc
        enc=$(node -e 'const f=(s)=>encodeURIComponent(s).replace(/%20/g,"+"); process.stdout.write(Buffer.from(f(process.argv[1])+":"+f(process.argv[2])).toString("base64"))' "$CLIENT_ID" "$CLIENT_SECRET")
        auth=(-H "Authorization: Basic $enc")
    else
        auth=(--data-urlencode "client_id=$CLIENT_ID" --data-urlencode "client_secret=$CLIENT_SECRET")
    fi
    curl -sS -D "$h" -o "$b" "${auth[@]}" \
        --data-urlencode grant_type=authorization_code --data-urlencode "code=$code" \
        --data-urlencode "redirect_uri=$REDIRECT_URI" --data-urlencode "code_verifier=$verifier" \
        "$ISSUER/token"
    TOKEN_STATUS=$(status "$h")
    TOKEN_BODY=$(cat "$b")
}

# Decodes the ID token payload after checking its RS256 signature against the JWKS.
id_token_payload() {
    local jwks
    jwks=$(curl -sS "$ISSUER/jwks")
    node -e '
const crypto = require("crypto");
const [h, p, s] = process.argv[1].split(".");
const header = JSON.parse(Buffer.from(h, "base64url"));
const jwk = JSON.parse(process.argv[2]).keys.find((k) => k.kid === header.kid);
if (header.alg !== "RS256" || !jwk) throw new Error("unexpected header " + JSON.stringify(header));
const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
if (!crypto.verify("sha256", Buffer.from(h + "." + p), key, Buffer.from(s, "base64url"))) throw new Error("bad signature");
process.stdout.write(Buffer.from(p, "base64url").toString());' "$1" "$jwks"
}

show_claims() {
    local payload=$1 k
    for k in iss aud sub email email_verified nonce; do
        printf '     %-15s %s\n' "$k" "$(json "$payload" "$k")"
    done
}

echo "== start provider"
start_provider main
echo "     ready line: ready $ISSUER"
disco=$(curl -sS "$ISSUER/.well-known/openid-configuration")
check "discovery issuer" "$(json "$disco" issuer)" "$ISSUER"
check "discovery code_challenge_methods" "$(json "$disco" code_challenge_methods_supported)" "S256"
jwks=$(curl -sS "$ISSUER/jwks")
check "JWKS has one RS256 key" "$(node -e 'const k=JSON.parse(process.argv[1]).keys; process.stdout.write(k.length+" "+k[0].kty+" "+k[0].alg+" "+("d" in k[0]))' "$jwks")" "1 RSA RS256 false"

echo "== alice: code + PKCE S256, client_secret_basic"
authorize alice "$work/jar1"
echo "     callback: $CALLBACK"
token "$CODE" "$VERIFIER" basic
check "token endpoint status" "$TOKEN_STATUS" 200
check "token_type" "$(json "$TOKEN_BODY" token_type)" "Bearer"
idt=$(json "$TOKEN_BODY" id_token)
payload=$(id_token_payload "$idt") || die "ID token signature check failed"
ok "ID token RS256 signature verifies against JWKS"
show_claims "$payload"
check "iss" "$(json "$payload" iss)" "$ISSUER"
check "aud" "$(json "$payload" aud)" "$CLIENT_ID"
check "sub" "$(json "$payload" sub)" "sub-alice"
check "email" "$(json "$payload" email)" "alice@example.com"
check "email_verified" "$(json "$payload" email_verified)" "true"
check "nonce" "$(json "$payload" nonce)" "$NONCE"
me=$(curl -sS -H "Authorization: Bearer $(json "$TOKEN_BODY" access_token)" "$ISSUER/me")
check "userinfo name" "$(json "$me" name)" "alice"

echo "== same code again"
token "$CODE" "$VERIFIER" basic
echo "     $TOKEN_STATUS $TOKEN_BODY"
check "second redemption status" "$TOKEN_STATUS" 400
check "second redemption error" "$(json "$TOKEN_BODY" error)" "invalid_grant"

echo "== unverified-bob (same browser, switches account), client_secret_post"
authorize unverified-bob "$work/jar1"
token "$CODE" "$VERIFIER" post
check "token endpoint status" "$TOKEN_STATUS" 200
payload=$(id_token_payload "$(json "$TOKEN_BODY" id_token)")
show_claims "$payload"
check "sub" "$(json "$payload" sub)" "sub-unverified-bob"
check "email" "$(json "$payload" email)" "unverified-bob@example.com"
check "email_verified" "$(json "$payload" email_verified)" "false"

echo "== login carol@corp.test, wrong code_verifier"
authorize carol@corp.test "$work/jar2"
token "$CODE" "wrong-verifier-wrong-verifier-wrong-verifier-0" basic
check "wrong verifier error" "$(json "$TOKEN_BODY" error)" "invalid_grant"
authorize carol@corp.test "$work/jar2"
token "$CODE" "$VERIFIER" basic
payload=$(id_token_payload "$(json "$TOKEN_BODY" id_token)")
check "email is the login" "$(json "$payload" email)" "carol@corp.test"

echo "== authorization request without PKCE"
curl -sS -D "$work/h" -o /dev/null "$ISSUER/auth?response_type=code&client_id=$CLIENT_ID&redirect_uri=$REDIRECT_URI&scope=openid&state=s1"
loc=$(header "$work/h" location)
check "no code_challenge -> error to redirect_uri" "$(urlparam "$loc" error)" "invalid_request"

echo "== deny button"
jar="$work/jar3"
curl -sS -c "$jar" -b "$jar" -D "$work/h" -o /dev/null "$ISSUER/auth?response_type=code&client_id=$CLIENT_ID&redirect_uri=$REDIRECT_URI&scope=openid&state=s2&code_challenge=$(b64url 0123456789012345678901234567890123456789abc)&code_challenge_method=S256"
url=$(absolute "$(header "$work/h" location)" "$ISSUER/")
curl -sS -c "$jar" -b "$jar" -D "$work/h" -o /dev/null --data 'login=x&action=deny' "$url"
url=$(absolute "$(header "$work/h" location)" "$url")
curl -sS -c "$jar" -b "$jar" -D "$work/h" -o /dev/null "$url"
loc=$(header "$work/h" location)
check "deny -> access_denied at redirect_uri" "$(urlparam "$loc" error)" "access_denied"

echo "== --issuer-claim"
start_provider other --issuer-claim https://other-issuer.example
disco=$(curl -sS "$ISSUER/.well-known/openid-configuration")
check "discovery issuer is the claimed one" "$(json "$disco" issuer)" "https://other-issuer.example"
check "endpoints stay on the listening address" "$(json "$disco" token_endpoint)" "$ISSUER/token"
authorize dave "$work/jar4"
token "$CODE" "$VERIFIER" basic
payload=$(id_token_payload "$(json "$TOKEN_BODY" id_token)")
check "ID token iss is the claimed one" "$(json "$payload" iss)" "https://other-issuer.example"

echo "== SIGTERM"
kill -TERM "${pids[0]}"
if timeout 5 tail --pid="${pids[0]}" -f /dev/null; then ok "provider exited on SIGTERM"; else fail "provider still running 5 s after SIGTERM"; fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
