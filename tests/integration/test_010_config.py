"""The configtest matrix of issue 2: every configuration mistake fails `apache2 -t` with a
message naming the directive and the fault; every directive is accepted where it belongs."""

import os
import re
import shutil

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from client import session, write_key
from client_jwk import write_client_key
from harness import REPO, Httpd, session_key
from oauth_conf import standard_conf

CLIENT = """
<OAuthASClient app>
    OAuthASClientSecret "app-secret"
    OAuthASRedirectURI https://app.test/cb
    OAuthASScope openid
</OAuthASClient>
"""

ENDPOINT = """
<Location /.well-known/openid-configuration>
    OAuthASEndpoint metadata
</Location>
"""


def server(tmp_path, body, name="srv"):
    return Httpd(str(tmp_path / name), body)


def key_path(h, kind="es256"):
    dst = h.path("conf", f"k-{kind}.pem")
    shutil.copyfile(session_key(kind), dst)
    return dst


def configtest(tmp_path, make_body):
    """make_body(h, key) -> config body; returns (rc, output) of apache2 -t."""
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = make_body(h, key_path(h))
    return h.configtest()


def valid(issuer="https://as.test", server_lines="", client=CLIENT, extra=""):
    def body(h, key):
        return (f'OAuthASIssuer "{issuer}"\nOAuthASSigningKey "{key}"\n{server_lines}\n'
                f"{client}\n{extra}\n{ENDPOINT}")
    return body


def assert_fails(tmp_path, make_body, *fragments):
    rc, out = configtest(tmp_path, make_body)
    assert rc != 0, out
    assert "Syntax OK" not in out
    for f in fragments:
        assert f in out, f"{f!r} not in:\n{out}"
    return out


def assert_ok(tmp_path, make_body):
    rc, out = configtest(tmp_path, make_body)
    assert rc == 0, out
    assert "Syntax OK" in out, out
    return out


# ---- a valid configuration ------------------------------------------------------------------

def test_valid_minimal(tmp_path):
    assert_ok(tmp_path, valid())


def test_standard_conf_is_valid(tmp_path):
    h = Httpd(str(tmp_path / "srv"), standard_conf)
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out


# ---- endpoints ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["login", "authorization", "jwk", "", "token2", "metric"])
def test_unknown_endpoint_kind(tmp_path, kind):
    extra = f'<Location /x>\n    OAuthASEndpoint "{kind}"\n</Location>\n'
    out = assert_fails(tmp_path, valid(extra=extra), "OAuthASEndpoint")
    if kind:  # httpd itself refuses an empty argument
        assert "unknown endpoint kind" in out and f"'{kind}'" in out, out


@pytest.mark.parametrize("kind", ["authorize", "par", "token", "metadata", "jwks", "userinfo",
                                  "revoke", "introspect", "register"])
def test_every_endpoint_kind_accepted(tmp_path, kind):
    assert_ok(tmp_path, valid(extra=f"<Location /ep>\n    OAuthASEndpoint {kind}\n</Location>\n"))


def test_endpoint_outside_location(tmp_path):
    assert_fails(tmp_path, valid(server_lines="OAuthASEndpoint token"), "OAuthASEndpoint",
                 "inside <Location>")
    extra = "<VirtualHost 127.0.0.1:1>\n    OAuthASEndpoint token\n</VirtualHost>\n"
    assert_fails(tmp_path, valid(extra=extra), "OAuthASEndpoint", "inside <Location>")


def test_endpoint_inside_directory(tmp_path):
    def body(h, key):
        return valid(extra=f'<Directory "{h.htdocs}">\n    OAuthASEndpoint token\n'
                           "</Directory>\n")(h, key)
    assert_fails(tmp_path, body, "OAuthASEndpoint")


def test_endpoint_inside_locationmatch(tmp_path):
    extra = '<LocationMatch "^/tok">\n    OAuthASEndpoint token\n</LocationMatch>\n'
    assert_fails(tmp_path, valid(extra=extra), "OAuthASEndpoint", "<Location")


def test_endpoint_inside_client_block(tmp_path):
    client = CLIENT.replace("OAuthASScope openid", "OAuthASScope openid\n    OAuthASEndpoint token")
    assert_fails(tmp_path, valid(client=client), "OAuthASEndpoint")


# ---- issuer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("issuer", [
    "http://as.test", "http://example.com:8080", "ftp://as.test", "http://localhost.evil.test",
    "http://127.0.0.2", "http://10.0.0.1",
])
def test_non_https_issuer(tmp_path, issuer):
    out = assert_fails(tmp_path, valid(issuer=issuer), "OAuthASIssuer", "https")
    assert issuer in out


@pytest.mark.parametrize("issuer", ["as.test", "/path", "https://", "https://as.test/#frag",
                                    "https://as.test/?q=1"])
def test_issuer_not_a_url(tmp_path, issuer):
    assert_fails(tmp_path, valid(issuer=issuer), "OAuthASIssuer")


@pytest.mark.parametrize("issuer", ["http://localhost", "http://localhost:8080",
                                    "http://127.0.0.1", "http://127.0.0.1:9000",
                                    "https://as.test", "https://as.test/tenant1"])
def test_allowed_issuers(tmp_path, issuer):
    assert_ok(tmp_path, valid(issuer=issuer))


def test_issuer_required_with_clients(tmp_path):
    def body(h, key):
        return f'OAuthASSigningKey "{key}"\n{CLIENT}'
    assert_fails(tmp_path, body, "OAuthASIssuer")


def test_signing_key_required(tmp_path):
    def body(h, key):
        return f'OAuthASIssuer "https://as.test"\n{CLIENT}'
    assert_fails(tmp_path, body, "OAuthASSigningKey")


# ---- keys -----------------------------------------------------------------------------------

def with_key_file(make_key_file):
    def body(h, key):
        path = make_key_file(h)
        return f'OAuthASIssuer "https://as.test"\nOAuthASSigningKey "{path}"\n{CLIENT}'
    return body


def test_key_missing_file(tmp_path):
    out = assert_fails(tmp_path, with_key_file(lambda h: h.path("conf", "nope.pem")),
                       "OAuthASSigningKey", "nope.pem")
    assert "cannot read" in out or "No such file" in out, out


def test_key_garbage_file(tmp_path):
    out = assert_fails(tmp_path, with_key_file(
        lambda h: h.write_file("conf/garbage.pem", "-----BEGIN PRIVATE KEY-----\nnot a key\n"
                                                   "-----END PRIVATE KEY-----\n")),
        "OAuthASSigningKey", "garbage.pem")
    assert "cannot read" in out, out


def test_key_empty_file(tmp_path):
    assert_fails(tmp_path, with_key_file(lambda h: h.write_file("conf/empty.pem", "")),
                 "OAuthASSigningKey", "empty.pem")


def test_key_is_a_certificate_only(tmp_path):
    # a certificate is no private key
    assert_fails(tmp_path, with_key_file(lambda h: h.ca), "OAuthASSigningKey")


def _gen(kind):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
    return {
        "rsa1024": lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
        "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
        "secp256k1": lambda: ec.generate_private_key(ec.SECP256K1()),
        "x25519": x25519.X25519PrivateKey.generate,
    }[kind]()


@pytest.mark.parametrize("kind,fault", [
    ("rsa1024", "RSA key too small"),
    ("p384", "unsupported EC curve"),
    ("p521", "unsupported EC curve"),
    ("secp256k1", "unsupported EC"),
    ("x25519", "unsupported key type"),
])
def test_key_unsupported(tmp_path, kind, fault):
    out = assert_fails(tmp_path, with_key_file(
        lambda h: write_key(h.path("conf", f"{kind}.pem"), _gen(kind))),
        "OAuthASSigningKey", f"{kind}.pem", fault)
    if kind == "rsa1024":
        assert "1024" in out and "2048" in out, out


def test_key_duplicate_kid(tmp_path):
    def body(h, key):
        other = key_path(h, "rsa")
        return (f'OAuthASIssuer "https://as.test"\nOAuthASSigningKey "{key}" k1\n'
                f'OAuthASSigningKey "{other}" k1\n{CLIENT}')
    assert_fails(tmp_path, body, "OAuthASSigningKey", "duplicate kid", "k1")


def test_key_all_three_kinds_ok(tmp_path):
    def body(h, key):
        return (f'OAuthASIssuer "https://as.test"\nOAuthASSigningKey "{key}"\n'
                f'OAuthASSigningKey "{key_path(h, "rsa")}"\n'
                f'OAuthASSigningKey "{key_path(h, "ed25519")}" ed-key\n{CLIENT}')
    assert_ok(tmp_path, body)


# ---- clients --------------------------------------------------------------------------------

def client(cid="app", *lines):
    return f"<OAuthASClient {cid}>\n" + "".join(f"    {l}\n" for l in lines) + \
        "</OAuthASClient>\n"


def test_duplicate_client_id(tmp_path):
    out = assert_fails(tmp_path, valid(client=CLIENT + CLIENT), "OAuthASClient app",
                       "duplicate client id")
    assert "app" in out


def test_client_block_without_id(tmp_path):
    assert_fails(tmp_path, valid(client="<OAuthASClient>\n</OAuthASClient>\n"),
                 "OAuthASClient", "client id")


@pytest.mark.parametrize("uri,fault", [
    ("/cb", "not an absolute URI"),
    ("app.test/cb", "not an absolute URI"),
    ("cb", "not an absolute URI"),
    ("https://app.test/cb#frag", "fragment"),
    ("https://app.test/cb#", "fragment"),
])
def test_redirect_uri_bad(tmp_path, uri, fault):
    c = client("app", 'OAuthASClientSecret "s"', f'OAuthASRedirectURI "{uri}"')
    out = assert_fails(tmp_path, valid(client=c), "OAuthASRedirectURI", fault)
    assert uri in out


def test_code_client_without_redirect_uri(tmp_path):
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASGrantType authorization_code")
    assert_fails(tmp_path, valid(client=c), "OAuthASClient app", "authorization_code",
                 "OAuthASRedirectURI")
    # the default grant type is authorization_code too
    c = client("app", 'OAuthASClientSecret "s"')
    assert_fails(tmp_path, valid(client=c), "OAuthASClient app", "OAuthASRedirectURI")


def test_client_credentials_client_needs_no_redirect_uri(tmp_path):
    c = client("svc", 'OAuthASClientSecret "s"', "OAuthASGrantType client_credentials")
    assert_ok(tmp_path, valid(client=c))


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post",
                                    "client_secret_basic client_secret_post"])
def test_public_client_with_secret_method(tmp_path, method):
    # no secret: a secret-based method is refused whether 'none' is also given or not
    c = client("app", f"OAuthASAuthMethod none {method}", "OAuthASRedirectURI https://a.test/cb")
    assert_fails(tmp_path, valid(client=c), "OAuthASClient app", "OAuthASAuthMethod")
    c = client("app", f"OAuthASAuthMethod {method}", "OAuthASRedirectURI https://a.test/cb")
    assert_fails(tmp_path, valid(client=c), "OAuthASClient app", "OAuthASAuthMethod",
                 "OAuthASClientSecret")


def test_secret_with_method_none(tmp_path):
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASAuthMethod none",
               "OAuthASRedirectURI https://a.test/cb")
    assert_fails(tmp_path, valid(client=c), "OAuthASClient app", "OAuthASAuthMethod none",
                 "OAuthASClientSecret")


def test_public_client_ok(tmp_path):
    c = client("spa", "OAuthASAuthMethod none", "OAuthASRedirectURI https://a.test/cb")
    assert_ok(tmp_path, valid(client=c))
    c = client("spa", "OAuthASClientSecret none", "OAuthASRedirectURI https://a.test/cb")
    assert_ok(tmp_path, valid(client=c))


@pytest.mark.parametrize("method", ["private_key_jwt", "basic", "client_secret_jwt"])
def test_unknown_auth_method(tmp_path, method):
    c = client("app", 'OAuthASClientSecret "s"', f"OAuthASAuthMethod {method}",
               "OAuthASRedirectURI https://a.test/cb")
    assert_fails(tmp_path, valid(client=c), "OAuthASAuthMethod", method)


@pytest.mark.parametrize("grant", ["implicit", "password", "device_code"])
def test_unknown_grant_type(tmp_path, grant):
    c = client("app", 'OAuthASClientSecret "s"', f"OAuthASGrantType {grant}",
               "OAuthASRedirectURI https://a.test/cb")
    assert_fails(tmp_path, valid(client=c), "OAuthASGrantType", grant)


def test_audience_not_declared(tmp_path):
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASRedirectURI https://a.test/cb",
               "OAuthASAudience urn:declared urn:missing")
    res = "<OAuthASResource urn:declared>\n    OAuthASScope r\n</OAuthASResource>\n"
    out = assert_fails(tmp_path, valid(client=c, extra=res), "OAuthASAudience", "urn:missing",
                       "OAuthASResource")
    assert "urn:declared" not in out.replace("urn:declared urn:missing", "")
    # declared: fine
    res2 = res + "<OAuthASResource urn:missing>\n</OAuthASResource>\n"
    assert_ok(tmp_path, valid(client=c, extra=res2))


def test_audience_of_other_vhost_not_declared(tmp_path):
    """Resources belong to their server: one declared in a vhost does not serve the main
    server's clients."""
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASRedirectURI https://a.test/cb",
               "OAuthASAudience urn:elsewhere")

    def body(h, key):
        return (valid(client=c)(h, key) +
                f'<VirtualHost 127.0.0.1:1>\n    ServerName other.test\n'
                f'    OAuthASIssuer "https://other.test"\n    OAuthASSigningKey "{key}"\n'
                "    <OAuthASResource urn:elsewhere>\n    </OAuthASResource>\n"
                "</VirtualHost>\n")
    assert_fails(tmp_path, body, "OAuthASAudience", "urn:elsewhere")


@pytest.mark.parametrize("directive", [
    "ServerName app.test", 'OAuthASIssuer "https://evil.test"', "Require all granted",
    "OAuthASCodeLifetime 5", "OAuthASStoreSize 5", "OAuthASEndpoint token",
    "OAuthASClientScret typo", "OAuthASClientMetadataDocuments On",
])
def test_unknown_directive_in_client_block(tmp_path, directive):
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASRedirectURI https://a.test/cb",
               directive)
    out = assert_fails(tmp_path, valid(client=c), "OAuthASClient app", directive.split()[0])
    assert "not allowed" in out or "Invalid command" in out, out


@pytest.mark.parametrize("directive", [
    "ServerName api.test", 'OAuthASIssuer "https://evil.test"', "OAuthASClientSecret s",
    "OAuthASRedirectURI https://a.test/cb", "OAuthASRefreshTokenLifetime 60",
    "OAuthASAudience urn:x", "OAuthASConsent Off",
])
def test_unknown_directive_in_resource_block(tmp_path, directive):
    res = f"<OAuthASResource urn:api>\n    OAuthASScope r\n    {directive}\n</OAuthASResource>\n"
    out = assert_fails(tmp_path, valid(extra=res), "OAuthASResource urn:api",
                       directive.split()[0])
    assert "not allowed" in out, out


def test_duplicate_resource(tmp_path):
    res = "<OAuthASResource urn:api>\n</OAuthASResource>\n"
    assert_fails(tmp_path, valid(extra=res + res), "OAuthASResource urn:api", "duplicate")


# ---- numbers and flags ----------------------------------------------------------------------

LIFETIMES = ["OAuthASCodeLifetime", "OAuthASRequestURILifetime", "OAuthASAccessTokenLifetime",
             "OAuthASRefreshTokenLifetime", "OAuthASIDTokenLifetime", "OAuthASSessionLifetime"]
BAD_NUMBERS = ["0", "-5", "abc", "1.5", "10s", "", "99999999999999999999"]


@pytest.mark.parametrize("directive", LIFETIMES + ["OAuthASStoreSize"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_lifetime_not_positive_server(tmp_path, directive, value):
    out = assert_fails(tmp_path, valid(server_lines=f'{directive} "{value}"'), directive)
    if value == "":
        return  # httpd itself refuses an empty argument ("takes one argument")
    assert "not a positive number" in out, out
    assert f"'{value}'" in out


@pytest.mark.parametrize("directive", ["OAuthASAccessTokenLifetime",
                                       "OAuthASRefreshTokenLifetime"])
@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5"])
def test_lifetime_not_positive_client(tmp_path, directive, value):
    c = client("app", 'OAuthASClientSecret "s"', "OAuthASRedirectURI https://a.test/cb",
               f"{directive} {value}")
    out = assert_fails(tmp_path, valid(client=c), directive, "not a positive number")
    assert f"'{value}'" in out


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5"])
def test_lifetime_not_positive_resource(tmp_path, value):
    res = f"<OAuthASResource urn:api>\n    OAuthASAccessTokenLifetime {value}\n</OAuthASResource>\n"
    out = assert_fails(tmp_path, valid(extra=res), "OAuthASAccessTokenLifetime",
                       "not a positive number")
    assert f"'{value}'" in out


@pytest.mark.parametrize("directive", LIFETIMES + ["OAuthASStoreSize"])
def test_lifetime_positive_ok(tmp_path, directive):
    assert_ok(tmp_path, valid(server_lines=f"{directive} 1\n"))


@pytest.mark.parametrize("value", ["64K", "512k", "64M", "1G", "128m"])
def test_store_size_with_unit_ok(tmp_path, value):
    """Issue 14: OAuthASStoreSize in bytes of the region, with a unit."""
    assert_ok(tmp_path, valid(server_lines=f"OAuthASStoreSize {value}\n"))


@pytest.mark.parametrize("value", ["63K", "0M", "M", "1.5M", "-1M", "12T", "100G", "99999999999G"])
def test_store_size_with_unit_bad(tmp_path, value):
    out = assert_fails(tmp_path, valid(server_lines=f"OAuthASStoreSize {value}"),
                       "OAuthASStoreSize")
    assert f"'{value}'" in out, out


@pytest.mark.parametrize("value", ["mem", "redis", "SHM2", "dbd2"])
def test_store_unknown_kind(tmp_path, value):
    out = assert_fails(tmp_path, valid(server_lines=f"OAuthASStore {value}"), "OAuthASStore",
                       "unknown store")
    assert f"'{value}'" in out
    out = assert_fails(tmp_path, valid(server_lines=f"OAuthASStore shm {value}"),
                       "OAuthASStore", "unknown store")


def test_store_shm_ok(tmp_path):
    assert_ok(tmp_path, valid(server_lines="OAuthASStore shm"))
    assert_ok(tmp_path, valid(server_lines="OAuthASStore shm shm"))


FLAG_PLACES = [("OAuthASRequirePAR", "server"), ("OAuthASRequirePAR", "client"),
               ("OAuthASRequirePKCE", "client"), ("OAuthASConsent", "client"),
               ("OAuthASRefreshTokenRotation", "client"), ("OAuthASDPoPNonce", "server"),
               ("OAuthASDPoPNonce", "client"), ("OAuthASClientMetadataDocuments", "server")]


@pytest.mark.parametrize("directive,place", FLAG_PLACES)
@pytest.mark.parametrize("value", ["yes", "1", "true", "disabled"])
def test_flag_bad_value(tmp_path, directive, place, value):
    if place == "server":
        body = valid(server_lines=f"{directive} {value}")
    else:
        body = valid(client=client("app", 'OAuthASClientSecret "s"',
                                   "OAuthASRedirectURI https://a.test/cb", f"{directive} {value}"))
    out = assert_fails(tmp_path, body, directive, "On or Off")
    assert f"'{value}'" in out


@pytest.mark.parametrize("directive,place", FLAG_PLACES)
@pytest.mark.parametrize("value", ["On", "Off", "on", "OFF"])
def test_flag_good_values(tmp_path, directive, place, value):
    if place == "server":
        body = valid(server_lines=f"{directive} {value}")
    else:
        body = valid(client=client("app", 'OAuthASClientSecret "s"',
                                   "OAuthASRedirectURI https://a.test/cb", f"{directive} {value}"))
    assert_ok(tmp_path, body)


@pytest.mark.parametrize("place", ["server", "client"])
def test_dpop_values(tmp_path, place):
    """OAuthASDPoP Off|Allowed|Required (any case), in the server and in a client block."""
    def body(value):
        if place == "server":
            return valid(server_lines=f"OAuthASDPoP {value}")
        return valid(client=client("app", 'OAuthASClientSecret "s"',
                                   "OAuthASRedirectURI https://a.test/cb", f"OAuthASDPoP {value}"))
    for value in ("Off", "Allowed", "Required", "required"):
        assert_ok(tmp_path, body(value))
    for value in ("On", "yes", "optional"):
        out = assert_fails(tmp_path, body(value), "OAuthASDPoP", "Off, Allowed or Required")
        assert f"'{value}'" in out


def test_require_pkce_off_refused_for_public_client(tmp_path):
    c = client("spa", "OAuthASAuthMethod none", "OAuthASRedirectURI https://a.test/cb",
               "OAuthASRequirePKCE Off")
    assert_fails(tmp_path, valid(client=c), "OAuthASRequirePKCE")


# ---- every directive in its scopes ----------------------------------------------------------

def everything(h, key=None):
    """Every directive of INTERFACE.md (and the extras) in every scope it is allowed in."""
    es, rsa, ed = (key_path(h, k) for k in ("es256", "rsa", "ed25519"))
    tmpl = h.path("conf", "consent.html")
    shutil.copyfile(os.path.join(REPO, "conf", "consent.html"), tmpl)
    from oauth_conf import write_htpasswd
    pw = write_htpasswd(h.path("conf", "users.htpasswd"))
    locs = "".join(f"<Location {p}>\n    OAuthASEndpoint {k}\n</Location>\n" for p, k in [
        ("/oauth/par", "par"), ("/oauth/token", "token"),
        ("/.well-known/openid-configuration", "metadata"),
        ("/.well-known/oauth-authorization-server", "metadata"),
        ("/.well-known/jwks.json", "jwks"), ("/userinfo", "userinfo"),
        ("/oauth/revoke", "revoke"), ("/oauth/introspect", "introspect")])
    return f"""
OAuthASIssuer "{h.issuer}"
OAuthASSigningKey "{es}"
OAuthASSigningKey "{rsa}" rsa-2026
OAuthASSigningKey {ed}
OAuthASStore shm shm
OAuthASStoreSize 5000
OAuthASCodeLifetime 30
OAuthASRequestURILifetime 90
OAuthASAccessTokenLifetime 1800
OAuthASRefreshTokenLifetime 86400
OAuthASIDTokenLifetime 600
OAuthASRequirePAR Off
OAuthASConsentTemplate "{tmpl}"
OAuthASClaim email "%{{REMOTE_USER}}@example.test"
OAuthASClaim name "%{{REMOTE_USER}}"
OAuthASScopeDescription read:notes "Read your notes"
OAuthASMaxBody 32768

<OAuthASClient my-app>
    # plaintext secret
    OAuthASClientSecret "s3cret"
    OAuthASClientName "My App"
    OAuthASRedirectURI https://app.example/callback
    OAuthASRedirectURI "https://app.example/callback2?x=1"
    OAuthASScope openid profile email offline_access read:notes
    OAuthASAudience urn:my-notes-api
    OAuthASAuthMethod client_secret_basic client_secret_post
    OAuthASGrantType authorization_code refresh_token client_credentials
    OAuthASRequirePAR On
    OAuthASRequirePKCE On
    OAuthASConsent Off
    OAuthASRefreshTokenRotation On
    OAuthASAccessTokenLifetime 600
    OAuthASRefreshTokenLifetime 7200
</OAuthASClient>
<OAuthASClient hashed-app>
    OAuthASClientSecret "{{SHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g="
    OAuthASRedirectURI http://127.0.0.1:8080/cb
    OAuthASRequirePKCE Off
</OAuthASClient>
<OAuthASClient spa>
    OAuthASClientSecret none
    OAuthASAuthMethod none
    OAuthASRedirectURI https://spa.example/cb
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>

<OAuthASResource urn:my-notes-api>
    OAuthASScope read:notes write:notes
    OAuthASAccessTokenLifetime 86400
</OAuthASResource>

<Location /authorize>
    OAuthASEndpoint authorize
    AuthType Basic
    AuthName "Example"
    AuthUserFile "{pw}"
    Require valid-user
</Location>
{locs}
"""


def test_every_directive_in_its_scopes(tmp_path):
    h = Httpd(str(tmp_path / "srv"), everything)
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out


def test_every_directive_server_starts(httpd_factory):
    """The same configuration also starts and publishes what it configured."""
    h = httpd_factory(everything)
    m = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=5).json()
    assert m["issuer"] == h.issuer
    assert {"read:notes", "write:notes", "offline_access"} <= set(m["scopes_supported"])
    assert "none" in m["token_endpoint_auth_methods_supported"]
    assert m["id_token_signing_alg_values_supported"] == ["RS256"]
    jwks = session(h).get(h.issuer + "/.well-known/jwks.json", timeout=5).json()
    assert len(jwks["keys"]) == 3 and jwks["keys"][1]["kid"] == "rsa-2026"


SERVER_ONLY = [
    'OAuthASIssuer "https://as.test"', "OAuthASSigningKey /nonexistent.pem",
    "OAuthASStore shm", "OAuthASStoreSize 100", "OAuthASCodeLifetime 5",
    "OAuthASRequestURILifetime 5", "OAuthASAccessTokenLifetime 5",
    "OAuthASRefreshTokenLifetime 5", "OAuthASIDTokenLifetime 5", "OAuthASRequirePAR On",
    "OAuthASConsentTemplate /nonexistent.html", 'OAuthASClaim email "x"',
    "OAuthASScopeDescription s t", "OAuthASMaxBody 100", "OAuthASDPoP Required",
    "OAuthASDPoPNonce On", "OAuthASClientMetadataDocuments On", "OAuthASSessionLifetime 5",
    "OAuthASLoginURL /login",
]


@pytest.mark.parametrize("directive", SERVER_ONLY)
def test_server_directive_refused_in_location(tmp_path, directive):
    extra = f"<Location /somewhere>\n    {directive}\n</Location>\n"
    out = assert_fails(tmp_path, valid(extra=extra), directive.split()[0])
    assert "not allowed in <Location> context" in out, out


@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://sso.test/login", "//sso.test/x",
                                 "/login#top", "login.html", "https://", "/a b"])
def test_login_url_bad(tmp_path, url):
    out = assert_fails(tmp_path, valid(server_lines=f'OAuthASLoginURL "{url}"'),
                       "OAuthASLoginURL", "neither a local path")
    assert url in out


def test_login_url_needs_mod_session(tmp_path):
    assert_fails(tmp_path, valid(server_lines="OAuthASLoginURL /login.html"),
                 "OAuthASLoginURL needs mod_session")
    for url in ("/login.html", "https://sso.test/login?app=as"):
        h = Httpd(str(tmp_path / url.replace("/", "_")), "", extra_modules=("session",))
        h.body = valid(server_lines=f'OAuthASLoginURL "{url}"')(h, key_path(h))
        rc, out = h.configtest()
        assert rc == 0 and "Syntax OK" in out, out


@pytest.mark.parametrize("block", ["<OAuthASClient x>\n</OAuthASClient>",
                                   "<OAuthASResource urn:x>\n</OAuthASResource>"])
def test_blocks_refused_in_location(tmp_path, block):
    extra = f"<Location /somewhere>\n{block}\n</Location>\n"
    out = assert_fails(tmp_path, valid(extra=extra), block.split()[0].lstrip("<"))
    assert "not allowed in <Location> context" in out, out


@pytest.mark.parametrize("directive", [
    "OAuthASClientSecret s", "OAuthASRedirectURI https://a.test/cb", "OAuthASScope openid",
    "OAuthASAudience urn:x", "OAuthASAuthMethod none", "OAuthASGrantType authorization_code",
    "OAuthASRequirePKCE On", "OAuthASConsent Off", "OAuthASRefreshTokenRotation On",
    "OAuthASClientName x",
])
def test_client_directive_refused_at_server_level(tmp_path, directive):
    assert_fails(tmp_path, valid(server_lines=directive), directive.split()[0],
                 "only allowed inside")


@pytest.mark.parametrize("directive", ["OAuthASRefreshTokenGrace", "OAuthASClientQuota"])
@pytest.mark.parametrize("value", ["-1", "x", "1.5", "99999999999"])
def test_grace_and_quota_values(tmp_path, directive, value):
    out = assert_fails(tmp_path, valid(server_lines=f"{directive} {value}"), directive)
    assert f"'{value}'" in out, out


@pytest.mark.parametrize("line", ["OAuthASRefreshTokenGrace 0", "OAuthASRefreshTokenGrace 120",
                                  "OAuthASClientQuota 0", "OAuthASClientQuota 5000"])
def test_grace_and_quota_accepted(tmp_path, line):
    assert_ok(tmp_path, valid(server_lines=line))


EXAMPLES = sorted(f for f in os.listdir(os.path.join(REPO, "conf")) if f.endswith(".example"))


def installed_example(h, name):
    """conf/<name> as an admin installs it: a whole server (it has its OAuthASIssuer) alone, a
    layout (mtls-*) after mod_oauth_as.conf.example as it says; the files it names under /etc
    pointed at files of h: keys, CA certificate, JWK Sets, TLS certificate and key."""
    def read(n):
        with open(os.path.join(REPO, "conf", n)) as f:
            return f.read()
    text = read(name)
    if not re.search(r"^\s*OAuthASIssuer ", text, re.M):
        text = read("mod_oauth_as.conf.example") + text
    text = re.sub(r"^LoadModule oauth_as_module .*$", "", text, flags=re.M)
    jwks = write_client_key(h, "client", ec.generate_private_key(ec.SECP256R1()), "client-1")[1]
    text = re.sub(r"/etc/apache2/oauth/\S+-ca\.pem", h.ca, text)
    text = re.sub(r"/etc/apache2/oauth/\S+\.jwks\.json", jwks, text)
    text = re.sub(r"/etc/apache2/oauth/\S+\.pem", key_path(h), text)
    text = re.sub(r"/etc/ssl/certs/\S+\.pem", h.ca, text)
    text = re.sub(r"/etc/ssl/private/\S+\.key", h.tls_key, text)
    for line in text.splitlines():  # every file read at start-up is one of ours
        assert "/etc/" not in line or line.lstrip().startswith(("#", "AuthUserFile")), line
    return text


@pytest.mark.parametrize("name", EXAMPLES)
def test_conf_examples(tmp_path, name):
    """Every conf/*.example passes `apache2 -t`, with no warning (the mTLS alias layout's host
    is one the start-up check recognises: no OAS0045x)."""
    assert {"mod_oauth_as.conf.example", "fapi2.conf.example"} <= set(EXAMPLES)
    h = server(tmp_path, "")
    h.body = installed_example(h, name)
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    assert "OAS0045" not in out and "warn" not in out.lower(), out


def test_conf_example_protected_location(tmp_path):
    """mod_oauth_as.conf.example's commented protected <Location /notes/> (issue 19), uncommented
    as an admin would, passes `apache2 -t` (with mod_proxy, mod_proxy_http and mod_headers)."""
    h = Httpd(str(tmp_path / "srv"), "", extra_modules=("proxy", "proxy_http"))
    text = installed_example(h, "mod_oauth_as.conf.example")
    block = re.search(r"^#<Location /notes/>\n.*?^#</Location>\n", text, re.S | re.M).group(0)
    h.body = text.replace(block, re.sub(r"^#", "", block, flags=re.M))
    assert "\nAuthType oauth-as" not in text and "    AuthType oauth-as" in h.body
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out
