#!/usr/bin/env bash
# The FAPI 2.0 flow by hand, with curl and openssl only: a private_key_jwt client (ES256) pushes
# its request (PAR) with a DPoP proof, the user logs in and consents, the client redeems the
# code with an assertion and a proof, then calls userinfo with the DPoP-bound token.
# README.md, "FAPI 2.0 in ten minutes".
#
#   docs/fapi2-curl.sh jwks KEY KID    the public JWK Set of an EC P-256 key (OAuthASClientJWKS)
#   docs/fapi2-curl.sh flow            the flow, against a running server:
#     ISSUER        the server's issuer, e.g. https://auth.example.org
#     CLIENT_ID     the client, KEY its private key (PEM), KID the key's kid in its JWK Set
#     REDIRECT_URI  one of the client's redirect URIs
#     LOGIN         the user's name:password for the site's Basic authentication at /authorize
#     CACERT        (optional) the CA file that verifies the server's certificate
# Not handled: DPoP nonces (a server with OAuthASDPoPNonce On answers use_dpop_nonce).
set -euo pipefail

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# The public JWK of an EC P-256 key: X and Y are the last 64 bytes of its DER public key.
jwk() {
  printf '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' \
    "$(openssl pkey -in "$1" -pubout -outform DER | tail -c 64 | head -c 32 | b64url)" \
    "$(openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | b64url)"
}

# A compact JWS (ES256) of header $2 and claims $3 with key $1. openssl signs in DER; JWS
# wants R and S as two 32-byte big-endian numbers.
jws() {
  local input sig
  input="$(printf %s "$2" | b64url).$(printf %s "$3" | b64url)"
  sig=$(printf %s "$input" | openssl dgst -sha256 -sign "$1" | openssl asn1parse -inform DER |
    sed -n 's/.*INTEGER *:\([0-9A-F]*\)$/\1/p' |
    while read -r n; do n=$(printf '%064s' "$n" | tr ' ' 0); printf %s "${n: -64}"; done |
    sed 's/../\\x&/g')
  printf '%s.%s' "$input" "$(printf "$sig" | b64url)"
}

# A client assertion (RFC 7523): iss = sub = the client, aud = the issuer, a minute to live.
assertion() {
  local now; now=$(date +%s)
  jws "$KEY" "{\"alg\":\"ES256\",\"kid\":\"$KID\"}" "$(printf \
    '{"iss":"%s","sub":"%s","aud":"%s","iat":%s,"exp":%s,"jti":"%s"}' \
    "$CLIENT_ID" "$CLIENT_ID" "$ISSUER" "$now" $((now + 60)) "$(openssl rand -hex 16)")"
}

# A DPoP proof (RFC 9449) for method $1 at URL $2 (and, with $3, an access token's hash).
proof() {
  local ath=""
  [ -z "${3:-}" ] || ath=",\"ath\":\"$(printf %s "$3" | openssl dgst -sha256 -binary | b64url)\""
  jws "$W/dpop.key" "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":$(jwk "$W/dpop.key")}" \
    "{\"jti\":\"$(openssl rand -hex 16)\",\"htm\":\"$1\",\"htu\":\"$2\",\"iat\":$(date +%s)$ath}"
}

# curl with the expected status $1; the body is left in $W/body.
call() {
  local want=$1 status; shift
  status=$(curl -sS ${CACERT:+--cacert "$CACERT"} -o "$W/body" -w '%{http_code}' "$@")
  [ "$status" = "$want" ] || { echo "HTTP $status, not $want: $(cat "$W/body")" >&2; exit 1; }
}

field() { grep -o "\"$1\":\"[^\"]*\"" "$W/body" | head -1 | cut -d'"' -f4; }

case "${1:-}" in
jwks)
  printf '{"keys":[%s]}\n' \
    "$(jwk "$2" | sed "s/}\$/,\"kid\":\"$3\",\"alg\":\"ES256\",\"use\":\"sig\"}/")"
  exit ;;
flow) ;;
*) sed -n '7,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
: "${ISSUER:?}" "${CLIENT_ID:?}" "${KEY:?}" "${KID:?}" "${REDIRECT_URI:?}" "${LOGIN:?}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
ASSERTION=(-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer)

echo "== 0. Discovery, and a DPoP key of this run (the tokens will be bound to it)"
call 200 "$ISSUER/.well-known/openid-configuration"
PAR=$(field pushed_authorization_request_endpoint) AUTHZ=$(field authorization_endpoint)
TOKEN=$(field token_endpoint) USERINFO=$(field userinfo_endpoint)
echo "par $PAR, authorize $AUTHZ, token $TOKEN, userinfo $USERINFO"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/dpop.key"
echo "jkt $(jwk "$W/dpop.key" | openssl dgst -sha256 -binary | b64url)"

echo "== 1. PAR: the request, an assertion and a DPoP proof; PKCE S256"
VERIFIER=$(openssl rand -hex 32)
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | b64url)
STATE=$(openssl rand -hex 8)
call 201 "$PAR" -H "DPoP: $(proof POST "$PAR")" "${ASSERTION[@]}" \
  -d client_assertion="$(assertion)" -d response_type=code -d scope=openid \
  --data-urlencode redirect_uri="$REDIRECT_URI" -d state="$STATE" \
  -d code_challenge="$CHALLENGE" -d code_challenge_method=S256
cat "$W/body"; echo
REQUEST_URI=$(field request_uri)

echo "== 2. The browser: /authorize with client_id and request_uri, login, consent: 303"
UA=(-sS ${CACERT:+--cacert "$CACERT"} -u "$LOGIN" -w '%{http_code} %{redirect_url}')
LOCATION=$(curl "${UA[@]}" -o "$W/body" "$AUTHZ" -G -d client_id="$CLIENT_ID" \
  --data-urlencode request_uri="$REQUEST_URI")
if [ "${LOCATION%% *}" = 200 ]; then   # the consent page (unless consent was remembered)
  TXN=$(sed -n 's/.*name="txn" value="\([^"]*\)".*/\1/p' "$W/body")
  CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$W/body")
  LOCATION=$(curl "${UA[@]}" -o /dev/null -d txn="$TXN" -d csrf="$CSRF" -d decision=allow "$AUTHZ")
fi
echo "$LOCATION"
[ "${LOCATION%% *}" = 303 ] || exit 1
query() { printf %s "$LOCATION" | sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p"; }
ISS=$(query iss)
[ "$(printf '%b' "${ISS//%/\\x}")" = "$ISSUER" ] && [ "$(query state)" = "$STATE" ] ||
  { echo "iss or state does not match" >&2; exit 1; }   # RFC 9207: not a mix-up

echo "== 3. Token: the code, the PKCE verifier, a new assertion and a new proof"
call 200 "$TOKEN" -H "DPoP: $(proof POST "$TOKEN")" "${ASSERTION[@]}" \
  -d client_assertion="$(assertion)" -d grant_type=authorization_code -d code="$(query code)" \
  --data-urlencode redirect_uri="$REDIRECT_URI" -d code_verifier="$VERIFIER"
cat "$W/body"; echo
AT=$(field access_token)
[ "$(field token_type)" = DPoP ] || exit 1

echo "== 4. Userinfo: the token with the DPoP scheme and a proof carrying its hash"
call 200 "$USERINFO" -H "Authorization: DPoP $AT" -H "DPoP: $(proof GET "$USERINFO" "$AT")"
cat "$W/body"; echo
