"""Discovery metadata (RFC 8414 / OpenID Discovery) and the JWKS, checked against the real
configuration; the JWKS verifies the tokens the module signs (issue 2: Keys, metadata, JWKS)."""

import pytest

from client import (get_code, jwt_parts, load_private, public_jwk_members, redeem, session,
                    thumbprint, verify_jws)
from oauth_conf import CLIENTS_CONF, standard_conf, signing_key, write_htpasswd

WELL_KNOWN = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")

# metadata member -> endpoint kind, for the endpoints this build serves
PUBLISHED = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/oauth/token",
    "pushed_authorization_request_endpoint": "/oauth/par",
    "jwks_uri": "/.well-known/jwks.json",
}


def metadata(h, path=WELL_KNOWN[0]):
    r = session(h).get(h.issuer + path, timeout=5)
    assert r.status_code == 200, r.text
    return r


@pytest.mark.catalogue("A02")
def test_metadata_standard(oas):
    h = oas
    docs = []
    for path in WELL_KNOWN:
        r = metadata(h, path)
        assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
        cc = r.headers.get("Cache-Control", "")
        assert "max-age=" in cc and int(cc.split("max-age=")[1].split(",")[0]) > 0, cc
        assert "no-store" not in cc
        docs.append(r.json())
    assert docs[0] == docs[1], "both well-known paths serve the same document"
    m = docs[0]
    assert m["issuer"] == h.issuer
    for member, path in PUBLISHED.items():
        assert m[member] == h.issuer + path, (member, m.get(member))
    assert m["response_types_supported"] == ["code"]
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert m["authorization_response_iss_parameter_supported"] is True
    # conf1/pub1 have refresh_token, svc1 client_credentials, all others authorization_code
    assert set(m["grant_types_supported"]) == {"authorization_code", "refresh_token",
                                               "client_credentials"}
    auth = m["token_endpoint_auth_methods_supported"]
    assert set(auth) == {"client_secret_basic", "client_secret_post", "private_key_jwt",
                         "client_secret_jwt", "none"}, auth
    # the JWT methods' algorithms: OAuthASClientSigningAlgs (default PS256 ES256 EdDSA RS256)
    # and HS256 for client_secret_jwt; the same at revocation and introspection (no none)
    algs = {"PS256", "ES256", "EdDSA", "RS256", "HS256"}
    assert set(m["token_endpoint_auth_signing_alg_values_supported"]) == algs, m
    for ep in ("revocation_endpoint", "introspection_endpoint"):
        assert set(m[ep + "_auth_methods_supported"]) == set(auth) - {"none"}, m
        assert set(m[ep + "_auth_signing_alg_values_supported"]) == algs, m
    assert m["require_pushed_authorization_requests"] is False
    # no client has OAuthASClientJWKS: no request objects (JAR); a request_uri only from PAR
    assert m["request_parameter_supported"] is False
    assert m["request_uri_parameter_supported"] is False
    assert "request_object_signing_alg_values_supported" not in m
    assert "require_signed_request_object" not in m
    # es256 only: ID tokens are signed with the first key
    assert m["id_token_signing_alg_values_supported"] == ["ES256"]
    assert m["subject_types_supported"] and set(m["subject_types_supported"]) <= {
        "public", "pairwise"}
    scopes = set(m["scopes_supported"])
    assert {"openid", "profile", "email", "offline_access", "api.read", "api.write"} <= scopes


def test_metadata_client_signing_algs(httpd_factory):
    """OAuthASClientSigningAlgs narrows the published algorithms; HS256 stays (client_secret_jwt),
    none is never published."""
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientSigningAlgs="PS256 ES256"))
    m = metadata(h).json()
    assert set(m["token_endpoint_auth_signing_alg_values_supported"]) == {"PS256", "ES256",
                                                                          "HS256"}, m


def test_metadata_post_is_405(oas):
    s = session(oas)
    for path in WELL_KNOWN + ("/.well-known/jwks.json",):
        r = s.post(oas.issuer + path, data={"a": "b"}, timeout=5)
        assert r.status_code == 405, (path, r.status_code)
        allow = {m.strip() for m in r.headers.get("Allow", "").split(",")}
        assert "GET" in allow and "POST" not in allow, (path, r.headers.get("Allow"))


def custom_conf(h, require_par=None, public=False):
    """Only confidential clients (unless public), endpoints moved to other paths."""
    pw = write_htpasswd(h.path("conf", "users.htpasswd"))
    text = f'OAuthASIssuer "{h.issuer}"\nOAuthASSigningKey "{signing_key(h, "es256")}"\n'
    if require_par is not None:
        text += f"OAuthASRequirePAR {require_par}\n"
    text += """
<OAuthASClient only1>
    OAuthASClientSecret "only1-secret"
    OAuthASRedirectURI https://only1.test/cb
    OAuthASScope openid custom.scope
</OAuthASClient>
"""
    if public:
        text += """
<OAuthASClient spa>
    OAuthASAuthMethod none
    OAuthASRedirectURI https://spa.test/cb
    OAuthASScope openid
</OAuthASClient>
"""
    text += f"""
<Location /x/login>
    OAuthASEndpoint authorize
    AuthType Basic
    AuthName t
    AuthUserFile "{pw}"
    Require valid-user
</Location>
<Location /api/v2/token>
    OAuthASEndpoint token
</Location>
<Location /api/v2/push>
    OAuthASEndpoint par
</Location>
<Location /keys>
    OAuthASEndpoint jwks
</Location>
<Location /.well-known/openid-configuration>
    OAuthASEndpoint metadata
</Location>
<Location /meta/oauth>
    OAuthASEndpoint metadata
</Location>
"""
    return text


def test_metadata_follows_mount_points(httpd_factory):
    h = httpd_factory(custom_conf)
    m = metadata(h).json()
    assert metadata(h, "/meta/oauth").json() == m
    assert m["issuer"] == h.issuer
    assert m["authorization_endpoint"] == h.issuer + "/x/login"
    assert m["token_endpoint"] == h.issuer + "/api/v2/token"
    assert m["pushed_authorization_request_endpoint"] == h.issuer + "/api/v2/push"
    assert m["jwks_uri"] == h.issuer + "/keys"
    # the published URLs are where the endpoints answer
    s = session(h)
    assert s.get(m["jwks_uri"], timeout=5).json()["keys"]
    r = s.post(m["token_endpoint"], data={"grant_type": "authorization_code", "code": "x"},
               auth=("only1", "only1-secret"), timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # the old paths serve nothing
    assert s.get(h.issuer + "/.well-known/jwks.json", timeout=5).status_code == 404
    # no public client: no "none"; only authorization_code is used by the clients
    assert "none" not in m["token_endpoint_auth_methods_supported"]
    assert "client_id_metadata_document_supported" not in m  # OAuthASClientMetadataDocuments Off
    assert m["grant_types_supported"] == ["authorization_code"]
    assert {"openid", "custom.scope"} <= set(m["scopes_supported"])
    assert m["require_pushed_authorization_requests"] is False


@pytest.mark.catalogue("A02")
def test_metadata_public_client_and_require_par(httpd_factory):
    h = httpd_factory(lambda h: custom_conf(h, require_par="On", public=True))
    m = metadata(h).json()
    assert "none" in m["token_endpoint_auth_methods_supported"]
    assert m["require_pushed_authorization_requests"] is True


def test_metadata_client_id_metadata_documents(httpd_factory):
    """OAuthASClientMetadataDocuments On: the draft's flag, and "none" for such public clients
    although no configured client is public."""
    def body(h):
        return custom_conf(h).replace("OAuthASIssuer", "OAuthASClientMetadataDocuments On\n"
                                      "OAuthASIssuer", 1)
    m = metadata(httpd_factory(body)).json()
    assert m["client_id_metadata_document_supported"] is True
    assert {"none", "private_key_jwt"} <= set(m["token_endpoint_auth_methods_supported"])


def test_metadata_openid_always_in_scopes(httpd_factory):
    def body(h):
        return custom_conf(h).replace("OAuthASScope openid custom.scope",
                                      "OAuthASScope custom.scope")
    h = httpd_factory(body)
    assert "openid" in metadata(h).json()["scopes_supported"]


@pytest.mark.parametrize("keys,idt_alg", [
    (("es256", "rsa", "ed25519"), "RS256"),
    (("ed25519",), "EdDSA"),
    (("rsa", "es256"), "RS256"),
    (("es256", "ed25519"), "ES256"),
])
def test_id_token_alg_in_metadata(httpd_factory, keys, idt_alg):
    h = httpd_factory(lambda h: standard_conf(h, keys=keys))
    assert metadata(h).json()["id_token_signing_alg_values_supported"] == [idt_alg]


ALG = {"es256": ("ES256", "EC"), "rsa": ("RS256", "RSA"), "ed25519": ("EdDSA", "OKP")}


def test_jwks_contents(httpd_factory):
    keys = ("es256", "rsa", "ed25519")
    h = httpd_factory(lambda h: standard_conf(h, keys=keys))
    r = session(h).get(h.issuer + "/.well-known/jwks.json", timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"
    assert "max-age=" in r.headers.get("Cache-Control", "")
    jwks = r.json()
    assert len(jwks["keys"]) == 3
    for kind, jwk in zip(keys, jwks["keys"]):
        alg, kty = ALG[kind]
        assert jwk["kty"] == kty and jwk["alg"] == alg and jwk["use"] == "sig", jwk
        members = public_jwk_members(load_private(h.path("conf", f"signing-{kind}.pem"))
                                     .public_key())
        for name, value in members.items():
            assert jwk[name] == value, (kind, name)
        assert jwk["kid"] == thumbprint(members), kind
        # public keys only
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk), jwk
    assert len({k["kid"] for k in jwks["keys"]}) == 3


def test_jwks_explicit_kid(httpd_factory):
    def body(h):
        return standard_conf(h).replace(
            f'OAuthASSigningKey "{h.path("conf", "signing-es256.pem")}"',
            f'OAuthASSigningKey "{h.path("conf", "signing-es256.pem")}" my-key-2026')
    h = httpd_factory(body)
    jwks = session(h).get(h.issuer + "/.well-known/jwks.json", timeout=5).json()
    assert [k["kid"] for k in jwks["keys"]] == ["my-key-2026"]
    r = redeem(h, get_code(h, "fp1", scope="openid", expect_consent=False))
    assert r.status_code == 200, r.text
    header, _, _ = verify_jws(r.json()["access_token"], jwks)
    assert header["kid"] == "my-key-2026"


@pytest.mark.parametrize("keys", [("es256", "rsa", "ed25519"), ("ed25519",), ("rsa", "es256"),
                                  ("es256",)])
def test_jwks_verifies_issued_tokens(httpd_factory, keys):
    h = httpd_factory(lambda h: standard_conf(h, keys=keys))
    jwks = session(h).get(h.issuer + "/.well-known/jwks.json", timeout=5).json()
    kids = [k["kid"] for k in jwks["keys"]]
    g = get_code(h, "fp1", scope="openid profile", expect_consent=False)
    assert g["query"]["iss"] == h.issuer
    r = redeem(h, g)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"].lower() == "bearer"

    at_header, at, at_jwk = verify_jws(tok["access_token"], jwks)
    assert at_header["typ"].lower() in ("at+jwt", "application/at+jwt")
    assert at_header["kid"] == kids[0], "the first key signs access tokens"
    assert at_header["alg"] == ALG[keys[0]][0]
    assert at["iss"] == h.issuer and at["client_id"] == "fp1"

    idt_header, idt, idt_jwk = verify_jws(tok["id_token"], jwks)
    want = "rsa" if "rsa" in keys else keys[0]
    assert idt_header["kid"] == kids[keys.index(want)]
    assert idt_header["alg"] == ALG[want][0]
    assert idt["iss"] == h.issuer and idt["aud"] in ("fp1", ["fp1"])

    # a tampered payload does not verify
    hdr, payload, sig = tok["access_token"].split(".")
    forged = f"{hdr}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{sig}"
    with pytest.raises(Exception):
        verify_jws(forged, jwks)
    assert jwt_parts(tok["access_token"])[0]["alg"] != "none"
