"""Issue 8: a real client, Debian's mod_auth_openidc, logs a user in with our AS.

One httpd: the main server (TLS, h.tls_port) is the authorization server of standard_conf; a
second TLS <VirtualHost> on its own port is the relying party, an application under /app/
protected by mod_auth_openidc (AuthType openid-connect), configured only from our discovery
document.  Its page is a mod_include SSI file that prints the claims mod_auth_openidc passes
on as environment variables (OIDC_CLAIM_*), so no CGI is involved.

The test walks a user through it like a browser (requests.Session with a cookie jar):
GET /app/ -> 302 to our /authorize (PKCE S256, state, nonce) -> Basic login as alice -> our
consent page -> allow -> 302 to the RP's redirect URI -> mod_auth_openidc redeems the code at
our token endpoint (client_secret_basic), validates the ID token against our JWKS and sets its
session cookie -> 302 to /app/ -> the page shows sub=alice and email=alice@example.test.

Debian 12's mod_auth_openidc (2.4.12) cannot do PAR and does not verify EdDSA ID tokens, so
the AS signs with ES256 or RS256 here.  TLS towards our AS: OIDCCABundlePath is the harness's
self-signed certificate, so the RP verifies the server (OIDCSSLValidateServer stays On).
"""

import html
import os
import re
import urllib.parse

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from client import parse_forms, session
from client_jwk import write_client_key
from harness import MODULES_DIR
from oauth_conf import USERS, standard_conf
from third_party import second_port
from test_190_readme import demo  # noqa: F401  (fixture: tools/demo.sh on a free port)

RP_CLIENT = "rp-openidc"
RP_SECRET = "rp-openidc-secret-3c9e51"
RP_KID = "rp-openidc-rsa"
PASSPHRASE = "rp-crypto-passphrase-0f41b2"

APP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>app</title></head><body>
<p>sub=<!--#echo var="OIDC_CLAIM_sub" --></p>
<p>email=<!--#echo var="OIDC_CLAIM_email" --></p>
<p>name=<!--#echo var="OIDC_CLAIM_name" --></p>
<p>remote_user=<!--#echo var="REMOTE_USER" --></p>
</body></html>
"""


def rp_body(h, keys, method="GET", ca_bundle=None, pkjwt=None):
    """standard_conf + an RP client + the RP vhost (port kept in h.rp_port across retries).
    pkjwt: (RSA private key, OAuthASAssertionAudience value): the RP authenticates at our token
    endpoint with private_key_jwt (OIDCPrivateKeyFiles) instead of client_secret_basic."""
    h.rp_port = second_port(h)
    rp = f"https://localhost:{h.rp_port}"
    h.rp_url = rp
    h.rp_redirect = rp + "/app/redirect_uri"
    docs = h.path("rp-htdocs")
    os.makedirs(os.path.join(docs, "app"), exist_ok=True)
    with open(os.path.join(docs, "app", "index.shtml"), "w") as f:
        f.write(APP_PAGE)
    our_auth = f'OAuthASClientSecret "{RP_SECRET}"\n    OAuthASAuthMethod client_secret_basic'
    rp_auth = f"OIDCClientSecret {RP_SECRET}\n    OIDCProviderTokenEndpointAuth client_secret_basic"
    if pkjwt:
        key, audience = pkjwt
        pem, jwks = write_client_key(h, "rp-openidc", key, kid=RP_KID)
        our_auth = (f'OAuthASClientJWKS "{jwks}"\n    OAuthASAuthMethod private_key_jwt\n'
                    f"    OAuthASAssertionAudience {audience}")
        pub = h.path("conf", "rp-openidc.pub.pem")
        with open(pub, "wb") as f:
            f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
        # The keys first: 2.4.12 accepts private_key_jwt only once it has private keys, and
        # its child crashes (SIGSEGV in oidc_proto_token_endpoint_auth) at the first token
        # request when it has private keys but no OIDCPublicKeyFiles.
        rp_auth = (f'OIDCPrivateKeyFiles "{RP_KID}#{pem}"\n'
                   f'    OIDCPublicKeyFiles "{RP_KID}#{pub}"\n'
                   "    OIDCProviderTokenEndpointAuth private_key_jwt")
    client = f"""
<OAuthASClient {RP_CLIENT}>
    OAuthASClientName "mod_auth_openidc test app"
    {our_auth}
    OAuthASRedirectURI {h.rp_redirect}
    OAuthASScope openid email profile
    OAuthASGrantType authorization_code
    OAuthASConsent On
</OAuthASClient>
"""
    vhost = f"""
LoadModule auth_openidc_module {MODULES_DIR}/mod_auth_openidc.so
LoadModule include_module {MODULES_DIR}/mod_include.so

Listen 127.0.0.1:{h.rp_port}
<VirtualHost 127.0.0.1:{h.rp_port}>
    ServerName localhost:{h.rp_port}
    SSLEngine on
    DocumentRoot "{docs}"
    <Directory "{docs}">
        Require all granted
    </Directory>

    OIDCProviderMetadataURL {h.issuer}/.well-known/openid-configuration
    OIDCCABundlePath "{ca_bundle or h.ca}"
    OIDCSSLValidateServer On
    OIDCClientID {RP_CLIENT}
    {rp_auth}
    OIDCRedirectURI {h.rp_redirect}
    OIDCScope "openid email profile"
    OIDCPKCEMethod S256
    OIDCProviderAuthRequestMethod {method}
    OIDCCryptoPassphrase {PASSPHRASE}
    OIDCRemoteUserClaim sub
    OIDCPassClaimsAs environment
    OIDCCacheDir "{h.datadir}"

    <Location /app/>
        AuthType openid-connect
        Require valid-user
        Options +Includes
        DirectoryIndex index.shtml
        AddOutputFilter INCLUDES .shtml
    </Location>
</VirtualHost>
"""
    return standard_conf(h, keys=keys, extra=client) + vhost


def start(httpd_factory, keys, method="GET", **kw):
    return httpd_factory(lambda h: rp_body(h, keys, method, **kw), extra_modules=("dir",))


def browser(h):
    s = session(h)
    return s


def login_through_rp(h, s, method="GET"):
    """The browser's walk; returns the final app page response."""
    loc = authorize_through_rp(h, s, method)

    # the RP redeems the code and starts its session
    r = s.get(loc, allow_redirects=False, timeout=20)
    assert r.status_code == 302, (r.status_code, r.text[:1000])
    assert r.headers["Location"] in (h.rp_url + "/app/", "/app/"), r.headers["Location"]
    assert any(c.name.startswith("mod_auth_openidc_session") for c in s.cookies), s.cookies
    r = s.get(h.rp_url + "/app/", allow_redirects=False, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return r


def authorize_through_rp(h, s, method="GET"):
    """The walk up to our redirect back to the RP (the URL with code, state and iss)."""
    r = s.get(h.rp_url + "/app/", allow_redirects=False, timeout=10)
    if method == "GET":
        assert r.status_code == 302, (r.status_code, r.text[:500])
        loc = r.headers["Location"]
        assert loc.startswith(h.issuer + "/authorize?"), loc
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        authz = lambda: s.get(loc, auth=("alice", USERS["alice"]), allow_redirects=False,
                              timeout=10)
    else:
        # OIDCProviderAuthRequestMethod POST: an auto-submitting form posting to /authorize.
        assert r.status_code == 200, (r.status_code, r.text[:500])
        forms = parse_forms(r.text)
        assert len(forms) == 1 and forms[0]["method"] == "post", r.text[:1000]
        action = html.unescape(forms[0]["action"])
        assert action == h.issuer + "/authorize", action
        q = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
        q = {html.unescape(k): html.unescape(v) for k, v in q.items()}
        assert "onload" in r.text or "submit()" in r.text, r.text[:1000]
        authz = lambda: s.post(action, data=q, auth=("alice", USERS["alice"]),
                               allow_redirects=False, timeout=10)
    assert q["client_id"] == RP_CLIENT
    assert q["response_type"] == "code"
    assert q["redirect_uri"] == h.rp_redirect
    assert set(q["scope"].split()) == {"openid", "email", "profile"}
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43, q
    assert q.get("state") and q.get("nonce"), q

    # our consent page
    r = authz()
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert "mod_auth_openidc test app" in r.text
    forms = parse_forms(r.text)
    assert len(forms) == 1, forms
    form = forms[0]
    data = dict(form["hidden"], decision="allow")
    action = urllib.parse.urljoin(r.url, html.unescape(form["action"] or r.url))
    r = s.post(action, data=data, auth=("alice", USERS["alice"]), allow_redirects=False,
               timeout=10)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    loc = r.headers["Location"]
    assert loc.startswith(h.rp_redirect + "?"), loc
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    assert back["state"] == q["state"] and back["iss"] == h.issuer and back["code"], back
    return loc


@pytest.mark.parametrize("keys", [("es256",), ("rsa",)], ids=["ES256", "RS256"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_through_mod_auth_openidc(httpd_factory, keys, method):
    h = start(httpd_factory, keys, method)
    s = browser(h)
    r = login_through_rp(h, s, method)
    assert "sub=alice</p>" in r.text, r.text
    assert "email=alice@example.test</p>" in r.text, r.text
    assert "remote_user=alice</p>" in r.text, r.text


def rp_rsa_key():
    """The RP's key: mod_auth_openidc 2.4.12 signs its client assertions with RS256 only."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_login_with_private_key_jwt(httpd_factory):
    """Issue 15: `OIDCProviderTokenEndpointAuth private_key_jwt` with `OIDCPrivateKeyFiles`
    (an RSA key; the assertion is RS256, kid from `KID#file`). mod_auth_openidc 2.4.12 puts our
    token endpoint URL in the assertion's `aud` (its token endpoint call passes the provider's
    token_endpoint_url as the audience), not the issuer identifier, so this client needs
    `OAuthASAssertionAudience Legacy` (the next test shows the strict default refusing it)."""
    h = start(httpd_factory, ("es256",), pkjwt=(rp_rsa_key(), "Legacy"))
    r = login_through_rp(h, browser(h))
    assert "sub=alice</p>" in r.text, r.text
    assert "email=alice@example.test</p>" in r.text, r.text


@pytest.mark.allow_log("auth_openidc:error", "auth_openidc:warn")
@pytest.mark.expect_log("OAS06218")
def test_private_key_jwt_strict_audience_refuses_token_endpoint_url(httpd_factory):
    """The same RP with our default `OAuthASAssertionAudience Strict`: its assertion (aud = the
    token endpoint URL) is refused with invalid_client, the code is not redeemed and no session
    starts: what Legacy above makes work is exactly the audience."""
    h = start(httpd_factory, ("es256",), pkjwt=(rp_rsa_key(), "Strict"))
    s = browser(h)
    loc = authorize_through_rp(h, s)
    r = s.get(loc, allow_redirects=False, timeout=20)
    # its error page (200), not the redirect to /app/ that starts a session
    assert r.status_code != 302 and "sub=" not in r.text, (r.status_code, r.text[:1000])
    assert "OpenID Connect Provider error" in r.text, r.text[:1000]
    assert not any(c.name.startswith("mod_auth_openidc_session") for c in s.cookies)
    # our log names the check that failed: the audience (OAS06218), for this client
    assert re.search(r"OAS06218.*client rp-openidc: assertion aud", h.error_log()), h.log_tail()


def test_deny_starts_no_session(httpd_factory):
    """The user denies: we send access_denied back with state and iss (RFC 9207 wants iss on
    error responses too); mod_auth_openidc shows an error page and starts no session.

    Debian's 2.4.12 takes a redirect_uri request that has `iss` but no code for a response
    of its own OP discovery page, so its page says "Invalid Request ... target_link_uri"
    instead of access_denied: a cosmetic client limitation, the outcome (no login) is right."""
    h = start(httpd_factory, ("es256",))
    s = browser(h)
    r = s.get(h.rp_url + "/app/", allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.status_code
    loc = r.headers["Location"]
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))["state"]
    r = s.get(loc, auth=("alice", USERS["alice"]), allow_redirects=False, timeout=10)
    form = parse_forms(r.text)[0]
    action = urllib.parse.urljoin(r.url, html.unescape(form["action"] or r.url))
    r = s.post(action, data=dict(form["hidden"], decision="deny"),
               auth=("alice", USERS["alice"]), allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.status_code
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    assert back["error"] == "access_denied" and back["state"] == state, back
    assert back["iss"] == h.issuer and "code" not in back, back
    r = s.get(r.headers["Location"], allow_redirects=False, timeout=10)
    assert "<title>Error</title>" in r.text and "sub=" not in r.text, (r.status_code, r.text)
    assert not any(c.name.startswith("mod_auth_openidc_session") for c in s.cookies)
    r = s.get(h.rp_url + "/app/", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith(h.issuer + "/authorize?")


def test_demo_app_and_api(demo):
    """`make run`'s demo: https://localhost:PORT/app/ behind mod_auth_openidc (client demo-rp),
    and the app's "Call the API" link reaching /api/ behind AuthType oauth-as with the access
    token the app asked for the API (resource=): the backend got the user, client, scope and
    audience."""
    workdir, port = demo
    base = f"https://localhost:{port}"
    s = session()
    s.verify = str(workdir / "demo" / "tls.crt")
    auth = ("demo", "demo")
    r = s.get(base + "/app/", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith(base + "/authorize?")
    r = s.get(r.headers["Location"], auth=auth, allow_redirects=False, timeout=10)
    assert r.status_code == 200 and "Demo app (mod_auth_openidc)" in r.text, r.text[:500]
    form = parse_forms(r.text)[0]
    action = urllib.parse.urljoin(r.url, html.unescape(form["action"] or r.url))
    r = s.post(action, data=dict(form["hidden"], decision="allow"), auth=auth,
               allow_redirects=False, timeout=10)
    assert r.headers["Location"].startswith(base + "/app/redirect_uri?code="), r.headers
    r = s.get(r.headers["Location"], allow_redirects=True, timeout=20)
    assert r.status_code == 200 and r.url == base + "/app/", (r.status_code, r.url)
    assert '<dd id="sub">demo</dd>' in r.text and '<dd id="email">demo@example.test</dd>' in r.text
    assert 'href="/app/api/"' in r.text
    r = s.get(base + "/app/api/", allow_redirects=False, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    api = r.json()
    assert api["sub"] == "demo" and api["user"] == "demo" and api["client_id"] == "demo-rp", api
    assert api["scope"].split() == ["openid", "profile", "email", "api.read"], api
    assert api["subject_type"] == "user" and api["aud"] == base + "/api", api
    # the API itself wants a bearer token, and says where its metadata is (RFC 9728)
    r = s.get(base + "/api/", allow_redirects=False, timeout=10)
    assert r.status_code == 401, r.status_code
    assert r.headers["WWW-Authenticate"].startswith(
        f'Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/api"'), r.headers


@pytest.mark.allow_log("auth_openidc:error")
def test_rp_verifies_our_certificate(httpd_factory):
    """OIDCSSLValidateServer stays On: with the system CA bundle instead of our self-signed
    certificate, mod_auth_openidc cannot fetch the discovery document and sends nobody to
    /authorize (so the logins above really ran over verified TLS)."""
    h = start(httpd_factory, ("es256",), ca_bundle="/etc/ssl/certs/ca-certificates.crt")
    r = browser(h).get(h.rp_url + "/app/", allow_redirects=False, timeout=20)
    assert r.status_code >= 500 and "Location" not in r.headers, (r.status_code, r.headers)
    assert "/.well-known/openid-configuration" not in open(h.accesslog).read()
    assert "SSL certificate problem" in h.error_log()
