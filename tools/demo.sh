#!/usr/bin/env bash
# make run: a foreground httpd with mod_oauth_as on https://localhost:$PORT (Ctrl-C stops it).
# Builds nothing (make does); creates the git-ignored demo/ directory once.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEMO=${DEMO_DIR:-$ROOT/demo}
PORT=${PORT:-8443}
MODULE=$ROOT/build/mod_oauth_as.so
APACHE2=/usr/sbin/apache2

[ -f "$MODULE" ] || { echo "demo: $MODULE is missing; run 'make run' (it builds first)" >&2; exit 1; }

mkdir -p "$DEMO/run" "$DEMO/htdocs/app" "$DEMO/htdocs/api" "$DEMO/data"
if [ ! -f "$DEMO/tls.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" \
        -keyout "$DEMO/tls.key" -out "$DEMO/tls.crt" 2>/dev/null
fi
if [ ! -f "$DEMO/signing-es256.pem" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DEMO/signing-es256.pem"
fi
# The client demo-partner authenticates with a key (private_key_jwt): its key pair, and the
# public half as the JWK Set the server reads (README, "Clients with keys").
if [ ! -f "$DEMO/partner.jwks.json" ]; then
    openssl genpkey -algorithm ed25519 -out "$DEMO/partner.key"
    tools/jwk "$DEMO/partner.key" partner-1 > "$DEMO/partner.jwks.json"
fi
# The client demo-mtls authenticates with a certificate (tls_client_auth): a CA of its own and
# the client's certificate under it (README, "Mutual TLS").
if [ ! -f "$DEMO/partner-mtls.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
        -subj "/O=Demo Partner CA" -keyout "$DEMO/partner-ca.key" -out "$DEMO/partner-ca.crt" 2>/dev/null
    openssl req -x509 -CA "$DEMO/partner-ca.crt" -CAkey "$DEMO/partner-ca.key" \
        -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
        -subj "/C=DE/O=Partner Inc./CN=partner" -addext "basicConstraints=critical,CA:FALSE" \
        -addext "extendedKeyUsage=clientAuth" \
        -keyout "$DEMO/partner-mtls.key" -out "$DEMO/partner-mtls.crt" 2>/dev/null
fi
[ -f "$DEMO/rp-passphrase" ] || openssl rand -hex 24 > "$DEMO/rp-passphrase"
RP_PASSPHRASE=$(cat "$DEMO/rp-passphrase")
[ -f "$DEMO/users.htpasswd" ] || htpasswd -cbB "$DEMO/users.htpasswd" demo demo 2>/dev/null
# A 16x16 favicon: browsers ask for /favicon.ico on every page, and a 404 is a console error.
printf '%s' 'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGOQit9CEmIY1TCqYfhqAABsBC0QMgl3ZgAAAABJRU5ErkJggg==' \
    | openssl base64 -d -A > "$DEMO/htdocs/favicon.ico"
cat > "$DEMO/htdocs/callback.html" <<'HTML'
<!doctype html>
<html><head><meta charset="utf-8"><title>demo-app callback</title></head>
<body>
<h1>demo-app callback</h1>
<p>The authorization server redirected here. This page is static: the parameters below are
read from the address bar by the browser, nothing on the server handles them.</p>
<pre id="q"></pre>
<script>
  var out = [];
  new URLSearchParams(location.search).forEach(function (v, k) { out.push(k + " = " + v); });
  document.getElementById("q").textContent = out.join("\n") || "(no parameters)";
</script>
</body></html>
HTML

# The relying party's page (mod_auth_openidc passes the ID token's claims as OIDC_CLAIM_*)
# and the API's answer: what its backend received from AuthType oauth-as (REMOTE_USER and
# OAUTH_AS_*; SSI's echo escapes them as HTML entities, so the JSON stays JSON).
cat > "$DEMO/htdocs/app/index.shtml" <<'HTML'
<!doctype html>
<html><head><meta charset="utf-8"><title>Demo app</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; color: #222; }
  dt { font-weight: 600; margin-top: .6rem; } dd { margin-left: 0; font-family: monospace; }
  a.button { display: inline-block; margin-top: 1.5rem; padding: .6rem 1.2rem; border-radius: 6px;
             background: #1a5fb4; color: #fff; text-decoration: none; }
</style></head>
<body>
<h1>Hello, <span id="user"><!--#echo var="OIDC_CLAIM_name" --></span></h1>
<p>This page is protected by mod_auth_openidc; you signed in at the authorization server
<code><!--#echo var="OIDC_CLAIM_iss" --></code>. Claims of your ID token:</p>
<dl>
  <dt>sub</dt><dd id="sub"><!--#echo var="OIDC_CLAIM_sub" --></dd>
  <dt>email</dt><dd id="email"><!--#echo var="OIDC_CLAIM_email" --></dd>
  <dt>name</dt><dd id="name"><!--#echo var="OIDC_CLAIM_name" --></dd>
</dl>
<a class="button" id="call-api" href="/app/api/">Call the API with my access token</a>
</body></html>
HTML
cat > "$DEMO/htdocs/api/index.shtml" <<'JSON'
{"message": "hello from the API (AuthType oauth-as)",
 "user": "<!--#echo var="REMOTE_USER" -->",
 "sub": "<!--#echo var="OAUTH_AS_CLAIM_sub" -->",
 "client_id": "<!--#echo var="OAUTH_AS_CLIENT_ID" -->",
 "scope": "<!--#echo var="OAUTH_AS_SCOPE" -->",
 "subject_type": "<!--#echo var="OAUTH_AS_SUBJECT_TYPE" -->",
 "aud": "<!--#echo var="OAUTH_AS_CLAIM_aud" -->"}
JSON

# Children run as nobody when we are root; they read htdocs and the htpasswd file.
RUN_AS=
if [ "$(id -u)" -eq 0 ]; then
    RUN_AS='User nobody\nGroup nogroup'
    chmod 755 "$DEMO" "$DEMO/htdocs" "$DEMO/htdocs/app" "$DEMO/htdocs/api"
    chmod 644 "$DEMO/users.htpasswd" "$DEMO/htdocs/callback.html" "$DEMO/htdocs/favicon.ico" \
        "$DEMO/htdocs/app/index.shtml" "$DEMO/htdocs/api/index.shtml"
    # the SQLite database (and its WAL files) are written by the children
    chown -R nobody:nogroup "$DEMO/data"
fi

sed -e "s|@DEMO@|$DEMO|g" -e "s|@PORT@|$PORT|g" -e "s|@MODULE@|$MODULE|g" \
    -e "s|@MODULES_DIR@|/usr/lib/apache2/modules|g" -e "s|@RUN_AS@|$RUN_AS|g" \
    -e "s|@RP_PASSPHRASE@|$RP_PASSPHRASE|g" \
    conf/demo.conf.in > "$DEMO/httpd.conf"

ISS=https://localhost:$PORT
REDIRECT=$(printf '%s' "$ISS/callback" | sed -e 's|:|%3A|g' -e 's|/|%2F|g')
VERIFIER=$(openssl rand -base64 48 | tr -d '\n=' | tr '+/' '-_' | cut -c1-43)
CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | openssl base64 -A | tr -d '=' | tr '+/' '-_')
cat <<TXT
mod_oauth_as demo — issuer $ISS   (user demo / password demo; Ctrl-C stops)

  metadata:  curl --cacert demo/tls.crt $ISS/.well-known/openid-configuration
  JWKS:      curl --cacert demo/tls.crt $ISS/.well-known/jwks.json

  the app (mod_auth_openidc, client demo-rp): $ISS/app/   -> sign in, allow, "Call the API"
  the API (AuthType oauth-as):                $ISS/api/   (needs an access token for $ISS/api)

  by hand, as the client demo-app:
  1. open in a browser (accept the self-signed certificate, log in as demo/demo):
     $ISS/authorize?response_type=code&client_id=demo-app&redirect_uri=$REDIRECT&scope=openid%20profile%20email&state=xyz&nonce=n1&code_challenge=$CHALLENGE&code_challenge_method=S256
  2. redeem the code shown on the callback page:
     curl --cacert demo/tls.crt -u demo-app:demo-secret $ISS/oauth/token \\
          -d grant_type=authorization_code -d redirect_uri=$ISS/callback \\
          -d code_verifier=$VERIFIER -d code=CODE

  as the client demo-mtls, with its TLS client certificate instead of a secret:
     curl --cacert demo/tls.crt --cert demo/partner-mtls.crt --key demo/partner-mtls.key \\
          $ISS/oauth/token -d grant_type=client_credentials -d client_id=demo-mtls

TXT
exec "$APACHE2" -f "$DEMO/httpd.conf" -d "$DEMO" -D FOREGROUND
