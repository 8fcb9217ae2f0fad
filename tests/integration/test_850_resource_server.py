"""The resource server inside httpd (issue 19; INTERFACE.md "The resource server inside httpd"
and its "Precise rules"): `AuthType oauth-as` on a <Location> accepts only live access tokens
of an issuer of this httpd for its audience, with the challenges of RFC 6750 / RFC 9449 /
RFC 9728, the Require providers, and what the backend receives (here through mod_headers,
which reads the same request the backend would)."""

import http.client
import json
import os
import ssl
import time

import pytest

from client import (DPoPKey, assert_json_error, b64url, b64url_decode, client_credentials,
                    code_tokens, get_code, jwt_claims, jwt_header_payload, redeem, register,
                    revoke, session, token)
from harness import session_key
from mtls_pki import SUBJECT, VERIFY, Pki
from oauth_conf import standard_conf

SECRET = "rsc-secret-0c1d2e"


def audience(h):
    return h.issuer + "/api"


def rs_conf(h, more=""):
    aud = audience(h)
    register("rsc", SECRET, redirect_uris=["https://rsc.test/cb"])
    register("rsvc", SECRET)
    h.write_file("htdocs/api/hello.txt", "hello\n")
    for d in ("admin", "user", "any", "cors"):
        h.write_file(f"htdocs/api/{d}/hello.txt", "hello\n")
    extra = f"""
<OAuthASResource {aud}>
    OAuthASScope api.read api.write
</OAuthASResource>
<OAuthASClient rsc>
    OAuthASClientSecret "{SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://rsc.test/cb
    OAuthASScope openid api.read api.write offline_access
    OAuthASGrantType authorization_code refresh_token
    OAuthASAudience {aud}
</OAuthASClient>
<OAuthASClient rsvc>
    OAuthASClientSecret "{SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASScope api.read
    OAuthASGrantType client_credentials
    OAuthASAudience {aud}
</OAuthASClient>
<Location /api/>
    AuthType oauth-as
    OAuthASResourceIssuer "{h.issuer}"
    OAuthASResourceAudience "{aud}"
    Require oauth-as-scope api.read
    Header set X-User "expr=%{{REMOTE_USER}}"
    Header set X-Client "%{{OAUTH_AS_CLIENT_ID}}e"
    Header set X-Scope "%{{OAUTH_AS_SCOPE}}e"
    Header set X-Subject-Type "%{{OAUTH_AS_SUBJECT_TYPE}}e"
    Header set X-Claim-Aud "%{{OAUTH_AS_CLAIM_aud}}e"
</Location>
<Location /api/admin/>
    Require oauth-as-claim sub bob
</Location>
<Location /api/user/>
    Require oauth-as-user
</Location>
<Location /api/any/>
    <RequireAny>
        Require oauth-as-scope api.write
        Require oauth-as-claim sub bob
    </RequireAny>
</Location>
<Location /api/cors/>
    <RequireAny>
        Require method OPTIONS
        Require oauth-as-scope api.read
    </RequireAny>
</Location>
<Location /.well-known/oauth-protected-resource/api>
    OAuthASEndpoint resource-metadata
    OAuthASResourceIssuer "{h.issuer}"
    OAuthASResourceAudience "{aud}"
</Location>
{more}
"""
    return standard_conf(h, extra=extra)


@pytest.fixture
def rs(httpd_factory):
    return httpd_factory(rs_conf)


def user_token(h, scope="openid api.read", user="alice"):
    return code_tokens(h, "rsc", scope, user=user, resource=audience(h))


def api(h, path="/api/hello.txt", token=None, scheme="Bearer", headers=None):
    hd = dict(headers or {})
    if token is not None:
        hd["Authorization"] = f"{scheme} {token}"
    return session(h).get(h.issuer + path, headers=hd, timeout=10)


def challenges(r):
    """The WWW-Authenticate lines (requests joins repeated headers with ', ')."""
    raw = r.raw.headers.get_all("WWW-Authenticate") if hasattr(r.raw.headers, "get_all") \
        else None
    return raw or [r.headers.get("WWW-Authenticate", "")]


def metadata_url(h):
    return h.issuer + "/.well-known/oauth-protected-resource/api"


# ---- forged tokens: the issuer's own key, so only the claim under test is wrong -----------

def sign_es256(key, header, claims):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    si = (b64url(json.dumps(header).encode()) + "." +
          b64url(json.dumps(claims).encode())).encode()
    r, s = utils.decode_dss_signature(key.sign(si, ec.ECDSA(hashes.SHA256())))
    return si.decode() + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def issuer_key():
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    with open(session_key("es256"), "rb") as f:
        return load_pem_private_key(f.read(), None)


def forged(h, key=None, typ="at+jwt", header=None, **over):
    """An access token like ours (the kid of a real one), signed with key (default: the
    issuer's own), claims replaced by over (None drops one)."""
    real = user_token(h)["access_token"]
    hdr, claims = jwt_header_payload(real)
    hdr = {**hdr, "typ": typ, **(header or {})}
    if typ is None:
        hdr.pop("typ")
    claims = {**claims, "jti": b64url(os.urandom(12)), **over}
    claims = {k: v for k, v in claims.items() if v is not None}
    return sign_es256(key or issuer_key(), hdr, claims)


# ---- acceptance ------------------------------------------------------------------------------

def test_bearer_accepted_and_backend_told(rs):
    t = user_token(rs)
    r = api(rs, token=t["access_token"])
    assert r.status_code == 200 and r.text == "hello\n", (r.status_code, r.text)
    assert r.headers["X-User"] == "alice"
    assert r.headers["X-Client"] == "rsc"
    assert r.headers["X-Scope"] == "openid api.read"
    assert r.headers["X-Subject-Type"] == "user"
    assert r.headers["X-Claim-Aud"] == audience(rs)


def test_scheme_is_case_insensitive(rs):
    r = api(rs, token=user_token(rs)["access_token"], scheme="bEARER")
    assert r.status_code == 200, r.status_code


@pytest.mark.allow_log("AH01631")
def test_client_credentials_token_has_no_user(rs):
    r = client_credentials(rs, "rsvc", scope="api.read", resource=audience(rs))
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    r = api(rs, token=at)
    assert r.status_code == 200 and r.headers["X-Subject-Type"] == "client", r.headers
    assert r.headers["X-User"] == "rsvc"
    r = api(rs, "/api/user/hello.txt", token=at)
    assert r.status_code == 403, r.status_code
    assert 'error="insufficient_scope"' in challenges(r)[0]
    r = api(rs, "/api/user/hello.txt", token=user_token(rs)["access_token"])
    assert r.status_code == 200, r.status_code


def test_dpop_bound_token(rs):
    k = DPoPKey()
    g = get_code(rs, "rsc", scope="openid api.read",
                                      resource=audience(rs))
    r = redeem(
        rs, g, headers={"DPoP": k.proof("POST", rs.issuer + "/oauth/token")})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    at = r.json()["access_token"]
    url = rs.issuer + "/api/hello.txt"
    r = api(rs, token=at, scheme="DPoP", headers={"DPoP": k.proof("GET", url, at=at)})
    assert r.status_code == 200 and r.headers["X-User"] == "alice", (r.status_code, r.headers)
    # a bound token is no bearer token
    r = api(rs, token=at)
    assert r.status_code == 401 and 'error="invalid_token"' in challenges(r)[0], challenges(r)
    # a proof for another token (wrong ath), for another URL, or none
    other = user_token(rs)["access_token"]
    for proof in (k.proof("GET", url, at=other), k.proof("GET", rs.issuer + "/api/x", at=at),
                  None):
        r = api(rs, token=at, scheme="DPoP", headers={"DPoP": proof} if proof else None)
        assert r.status_code == 401, r.status_code
        dpop_line = [c for c in challenges(r) if c.startswith("DPoP")][0]
        assert 'error="invalid_dpop_proof"' in dpop_line, challenges(r)
    # an unbound token with the DPoP scheme
    r = api(rs, token=other, scheme="DPoP", headers={"DPoP": k.proof("GET", url, at=other)})
    assert r.status_code == 401, r.status_code


def test_resource_metadata(rs):
    r = session(rs).get(metadata_url(rs), timeout=10)
    assert r.status_code == 200, r.text
    md = r.json()
    assert md["resource"] == audience(rs)
    assert md["authorization_servers"] == [rs.issuer]
    assert md["scopes_supported"] == ["api.read", "api.write"]
    assert md["bearer_methods_supported"] == ["header"]
    assert "ES256" in md["dpop_signing_alg_values_supported"]


# ---- refusals --------------------------------------------------------------------------------

def test_no_token_challenges(rs):
    """RFC 6750 §3.1: no error code; Bearer first, then DPoP; both name the metadata."""
    r = api(rs)
    assert r.status_code == 401, r.status_code
    lines = challenges(r)
    assert len(lines) == 2, lines
    assert lines[0] == f'Bearer resource_metadata="{metadata_url(rs)}"', lines
    assert lines[1].startswith(f'DPoP resource_metadata="{metadata_url(rs)}", algs="'), lines
    assert "error" not in " ".join(lines)


def test_preflight_let_through_by_require_method(rs):
    """README "An MCP server behind Apache": a browser's CORS preflight carries no token;
    `Require method OPTIONS` in a RequireAny lets it reach whatever answers it, and every
    other method still needs the token."""
    pre = {"Origin": "https://app.test", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, content-type"}
    r = session(rs).options(rs.issuer + "/api/cors/hello.txt", headers=pre, timeout=10)
    assert r.status_code == 200 and "WWW-Authenticate" not in r.headers, (r.status_code,
                                                                          r.headers)
    r = api(rs, "/api/cors/hello.txt")
    assert r.status_code == 401 and challenges(r)[0].startswith("Bearer "), r.status_code
    r = session(rs).options(rs.issuer + "/api/hello.txt", headers=pre, timeout=10)
    assert r.status_code == 401, r.status_code          # without the line: refused
    at = user_token(rs)["access_token"]
    r = api(rs, "/api/cors/hello.txt", token=at)
    assert r.status_code == 200 and r.text == "hello\n", r.status_code


def test_token_in_query_or_body_is_not_read(rs):
    at = user_token(rs)["access_token"]
    r = session(rs).get(rs.issuer + "/api/hello.txt", params={"access_token": at}, timeout=10)
    assert r.status_code == 401 and "error" not in challenges(r)[0], challenges(r)


def test_other_scheme_is_no_credential(rs):
    r = api(rs, token="YWxpY2U6YWxpY2UtcGFzc3dvcmQ=", scheme="Basic")
    assert r.status_code == 401 and "error" not in challenges(r)[0], challenges(r)


@pytest.mark.parametrize("case", [
    "garbage", "id_token", "issuer audience", "other audience", "expired", "not yet valid",
    "other key", "alg none", "tampered", "no typ", "typ JWT", "huge",
])
def test_invalid_token(rs, case):
    from cryptography.hazmat.primitives.asymmetric import ec
    now = int(time.time())
    if case == "garbage":
        tok = "not-a-token"
    elif case == "id_token":
        tok = user_token(rs)["id_token"]
    elif case == "issuer audience":
        tok = code_tokens(rs, "rsc", "openid api.read")["access_token"]
    elif case == "other audience":
        tok = forged(rs, aud="urn:test:api")
    elif case == "expired":
        tok = forged(rs, iat=now - 600, exp=now - 60)
    elif case == "not yet valid":
        tok = forged(rs, nbf=now + 600)
    elif case == "other key":
        tok = forged(rs, key=ec.generate_private_key(ec.SECP256R1()))
    elif case == "alg none":
        t = forged(rs)
        tok = b64url(json.dumps({"alg": "none", "typ": "at+jwt"}).encode()) + "." + \
            t.split(".")[1] + "."
    elif case == "tampered":
        h, p, s = forged(rs).split(".")
        claims = json.loads(b64url_decode(p))
        claims["scope"] = "openid api.read api.write"
        tok = h + "." + b64url(json.dumps(claims).encode()) + "." + s
    elif case == "no typ":
        tok = forged(rs, typ=None)
    elif case == "typ JWT":
        tok = forged(rs, typ="JWT")
    else:
        tok = "a" * 8000
    r = api(rs, token=tok)
    assert r.status_code == 401, (case, r.status_code)
    assert 'error="invalid_token"' in challenges(r)[0], challenges(r)
    assert f'resource_metadata="{metadata_url(rs)}"' in challenges(r)[0]
    assert "OAS06701" in rs.error_log()


def test_revoked_refused_at_once(rs):
    at = user_token(rs)["access_token"]
    assert api(rs, token=at).status_code == 200
    r = revoke(rs, "rsc", at)
    assert r.status_code == 200, r.text
    r = api(rs, token=at)
    assert r.status_code == 401 and 'error="invalid_token"' in challenges(r)[0]
    jti = jwt_claims(at)["jti"]
    assert f"OAS06701: resource: access token jti {jti} of client rsc refused: " in rs.error_log()


@pytest.mark.allow_log("AH01631")
def test_missing_scope_403_names_it(rs):
    at = user_token(rs, "openid api.read")["access_token"]
    r = api(rs, "/api/any/hello.txt", token=at)  # api.write, or the user bob
    assert r.status_code == 403, r.status_code
    line = challenges(r)[0]
    assert line.startswith("Bearer ") and 'error="insufficient_scope"' in line, line
    assert 'scope="api.write"' in line, line
    assert "does not allow this request" in r.text and "401" not in r.text, r.text
    # the other branch of the RequireAny grants, and no challenge is left on the answer
    r = api(rs, "/api/any/hello.txt", token=user_token(rs, user="bob")["access_token"])
    assert r.status_code == 200 and "WWW-Authenticate" not in r.headers, r.headers
    r = api(rs, "/api/any/hello.txt", token=user_token(rs, "openid api.read api.write")
            ["access_token"])
    assert r.status_code == 200, r.status_code


@pytest.mark.allow_log("AH01631")
def test_claim_403_without_scope(rs):
    r = api(rs, "/api/admin/hello.txt", token=user_token(rs)["access_token"])
    assert r.status_code == 403, r.status_code
    line = challenges(r)[0]
    assert 'error="insufficient_scope"' in line and "scope=" not in line, line
    r = api(rs, "/api/admin/hello.txt", token=user_token(rs, user="bob")["access_token"])
    assert r.status_code == 200, r.status_code


def test_two_authorization_headers(rs):
    at = user_token(rs)["access_token"]
    ctx = ssl.create_default_context(cafile=rs.ca)
    c = http.client.HTTPSConnection("localhost", rs.tls_port, context=ctx, timeout=10)
    c.putrequest("GET", "/api/hello.txt")
    c.putheader("Authorization", f"Bearer {at}")
    c.putheader("Authorization", f"Bearer {at}")
    c.endheaders()
    r = c.getresponse()
    assert r.status == 400, r.status
    assert 'error="invalid_request"' in r.getheader("WWW-Authenticate"), r.getheaders()
    c.close()


# ---- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("more,message", [
    ('<Location /x/>\n    AuthType oauth-as\n    OAuthASResourceIssuer "https://other.test"\n'
     "</Location>", "OAuthASResourceIssuer https://other.test: no server of this httpd"),
    ('<Location /y/>\n    AuthType oauth-as\n    OAuthASResourceIssuer "{iss}"\n'
     "    OAuthASResourceAudience urn:nope\n</Location>",
     "OAuthASResourceAudience urn:nope: not a <OAuthASResource>"),
    ('<Location /.well-known/oauth-protected-resource/z>\n'
     "    OAuthASEndpoint resource-metadata\n    OAuthASResourceIssuer \"{iss}\"\n"
     "    OAuthASResourceAudience urn:test:api\n</Location>",
     "OAuthASResourceAudience urn:test:api: a resource with a metadata document"),
    ('<Location /.well-known/oauth-protected-resource/w>\n'
     "    OAuthASEndpoint resource-metadata\n</Location>",
     "resource-metadata needs OAuthASResourceIssuer and OAuthASResourceAudience"),
    ("<Location /v/>\n    Require oauth-as-claim sub\n</Location>",
     "Require oauth-as-claim needs a claim name and a value"),
    ("<Location /v/>\n    Require oauth-as-scope\n</Location>",
     "Require oauth-as-scope needs at least one scope"),
    ("<Location /u/>\n    AuthType oauth-as\n    Require oauth-as-user\n</Location>",
     "AuthType oauth-as needs OAuthASResourceIssuer and OAuthASResourceAudience where it "
     "applies"),
    ('<Location /t/>\n    AuthType oauth-as\n    OAuthASResourceIssuer "{iss}"\n'
     "    Require oauth-as-user\n</Location>",
     "AuthType oauth-as needs OAuthASResourceIssuer and OAuthASResourceAudience"),
], ids=["issuer", "audience", "metadata urn", "metadata incomplete", "claim args", "scope args",
        "AuthType alone", "no audience"])
def test_configtest(httpd_factory, more, message):
    h = httpd_factory(lambda h: rs_conf(h, more.replace("{iss}", h.issuer)), start=False)
    rc, out = h.configtest()
    assert rc != 0 and message in out, out


# ---- RFC 8707 §2.2: resource at the token endpoint ---------------------------------------

@pytest.mark.expect_log("OAS02041")
def test_resource_at_token_endpoint(rs):
    """The resource a code or refresh token was granted for may be named again; another one,
    or one for a grant without resource, is invalid_target and spends nothing."""
    aud = audience(rs)
    g = get_code(rs, "rsc", scope="openid api.read offline_access", resource=aud)
    assert_json_error(redeem(rs, g, resource="urn:test:api"), 400, "invalid_target")
    r = redeem(rs, g, resource=aud)
    assert r.status_code == 200, r.text
    t = r.json()
    assert jwt_claims(t["access_token"])["aud"] == aud
    rt = t["refresh_token"]
    assert_json_error(token(rs, "rsc", {"grant_type": "refresh_token", "refresh_token": rt,
                                        "resource": "https://elsewhere.test/"}),
                      400, "invalid_target")
    r = token(rs, "rsc", {"grant_type": "refresh_token", "refresh_token": rt, "resource": aud})
    assert r.status_code == 200 and jwt_claims(r.json()["access_token"])["aud"] == aud, r.text
    # granted for the issuer: no resource may be asked for at the token endpoint
    g = get_code(rs, "rsc", scope="openid api.read")
    assert_json_error(redeem(rs, g, resource=aud), 400, "invalid_target")
    assert redeem(rs, g).status_code == 200


# ---- certificate-bound tokens (RFC 8705 §3) and DPoP nonces (RFC 9449 §9) --------------------

def test_certificate_bound_token(httpd_factory, tmp_path):
    """A token bound to a client certificate is taken only on a connection that presents
    that certificate: not without one, not with another of the same CA."""
    pki = Pki(str(tmp_path / "pki"))
    register("rsm", None, redirect_uris=[])

    def conf(h):
        block = f"""
<OAuthASClient rsm>
    OAuthASAuthMethod tls_client_auth
    OAuthASClientCertSubject "{SUBJECT}"
    OAuthASClientCertCA "{pki.ca1['files'][0]}"
    OAuthASScope api.read
    OAuthASGrantType client_credentials
    OAuthASAudience {audience(h)}
</OAuthASClient>
"""
        return VERIFY + rs_conf(h, block)
    h = httpd_factory(conf)
    s = session(h)
    s.cert = pki.leaf["files"]
    r = s.post(h.issuer + "/oauth/token", data={"grant_type": "client_credentials",
                                                "client_id": "rsm", "scope": "api.read",
                                                "resource": audience(h)}, timeout=10)
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    assert jwt_claims(at)["cnf"] == {"x5t#S256": pki.leaf["x5t"]}
    url = h.issuer + "/api/hello.txt"
    r = s.get(url, headers={"Authorization": f"Bearer {at}"}, timeout=10)
    assert r.status_code == 200 and r.headers["X-Client"] == "rsm", r.status_code
    other = session(h)
    other.cert = pki.san["files"]
    for sess in (session(h), other):
        r = sess.get(url, headers={"Authorization": f"Bearer {at}"}, timeout=10)
        assert r.status_code == 401, r.status_code
        assert 'error="invalid_token"' in challenges(r)[0], challenges(r)
    assert "OAS06507" in h.error_log()


def test_dpop_nonce_at_resource(httpd_factory):
    """The nonce rule of the token's client applies at the resource: a proof without a
    nonce gets 401 use_dpop_nonce with a DPoP-Nonce header, the retry with it passes."""
    register("rsn", SECRET, redirect_uris=["https://rsn.test/cb"])

    def conf(h):
        return rs_conf(h, f"""
<OAuthASClient rsn>
    OAuthASClientSecret "{SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://rsn.test/cb
    OAuthASScope openid api.read
    OAuthASGrantType authorization_code
    OAuthASAudience {audience(h)}
    OAuthASDPoPNonce On
</OAuthASClient>
""")
    h = httpd_factory(conf)
    k = DPoPKey()
    g = get_code(h, "rsn", scope="openid api.read", resource=audience(h))
    tu = h.issuer + "/oauth/token"
    r = redeem(h, g, headers={"DPoP": k.proof("POST", tu)})
    assert_json_error(r, 400, "use_dpop_nonce")
    r = redeem(h, g, headers={"DPoP": k.proof("POST", tu, nonce=r.headers["DPoP-Nonce"])})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    at = r.json()["access_token"]
    url = h.issuer + "/api/hello.txt"
    r = api(h, token=at, scheme="DPoP", headers={"DPoP": k.proof("GET", url, at=at)})
    assert r.status_code == 401, r.status_code
    line = [c for c in challenges(r) if c.startswith("DPoP")][0]
    assert 'error="use_dpop_nonce"' in line, challenges(r)
    nonce = r.headers["DPoP-Nonce"]
    assert nonce and "," not in nonce
    r = api(h, token=at, scheme="DPoP", headers={"DPoP": k.proof("GET", url, at=at, nonce=nonce)})
    assert r.status_code == 200 and r.headers["X-User"] == "alice", r.status_code


def test_configtest_inherited_settings(httpd_factory):
    """AuthType oauth-as in a section nested in, or under the path of, one that names the
    issuer and the audience is complete."""
    more = ("<Location /api/deeper/>\n    AuthType oauth-as\n    Require oauth-as-user\n"
            "</Location>\n")
    h = httpd_factory(lambda h: rs_conf(h, more), start=False)
    rc, out = h.configtest()
    assert rc == 0, out
