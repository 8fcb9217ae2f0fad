"""Catalogue entries of SECURITY.md §6 that no older test covered (tests/CATALOGUE.md maps every
ID to its tests): H06 (TLS only), A02 (metadata exactly as implemented), A03's loopback part,
R06 (c) (refresh token of a client that is no longer configured)."""

import socket
import ssl
import warnings

import pytest

from client import (RFC7636_CHALLENGE, Client, assert_error_page, assert_json_error, code_tokens,
                    codes_issued, introspect, refresh, session, userinfo)
from oauth_conf import (CLIENTS_CONF, CONF1_SECRET, CONF2_SECRET, FP1_SECRET, PARREQ_SECRET,
                        SVC1_SECRET, USERS, standard_conf)

CH = RFC7636_CHALLENGE


# ---- H06 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("H06")
def test_plain_http_processes_nothing(oas):
    """H06: the harness's plain-HTTP virtual host inherits the endpoints' <Location> blocks (as
    a port-80 vhost of a careless deployment would): token, PAR, revoke, introspect, userinfo
    and /authorize answer 403 there and process nothing (no token for valid credentials, no
    code for a valid authorization request, the consent page is not shown); public metadata
    and JWKS are still served. The same requests over https succeed."""
    h = oas
    f = Client(h)
    plain = session()
    http = h.base_url
    svc1 = ("svc1", SVC1_SECRET)
    cc = {"grant_type": "client_credentials", "scope": "api.read"}
    r = plain.post(http + "/oauth/token", data=cc, auth=svc1, timeout=10)
    body = assert_json_error(r, 403, "invalid_request")
    assert "access_token" not in body
    r = plain.post(http + "/oauth/par", data=f.authz_params("conf1", challenge=CH),
                   auth=("conf1", CONF1_SECRET), timeout=10)
    body = assert_json_error(r, 403, "invalid_request")
    assert "request_uri" not in body
    for path in ("/oauth/revoke", "/oauth/introspect"):
        r = plain.post(http + path, data={"token": "x"}, auth=svc1, timeout=10)
        assert_json_error(r, 403, "invalid_request")
    r = plain.get(http + "/userinfo", headers={"Authorization": "Bearer x"}, timeout=10)
    assert r.status_code == 403
    for client, user in (("fp1", "alice"), ("conf1", "bob")):     # code at once / consent page
        p = f.authz_params(client, scope="openid", challenge=CH)
        r = plain.get(http + "/authorize", params=p, auth=(user, USERS[user]),
                      allow_redirects=False, timeout=10)
        assert_error_page(r, 403)
        assert 'name="csrf"' not in r.text
    assert codes_issued(h) == 0
    assert "OAS00101" in h.error_log()
    # public documents stay available over http
    assert plain.get(http + "/.well-known/jwks.json", timeout=10).json()["keys"]
    assert plain.get(http + "/.well-known/openid-configuration",
                     timeout=10).json()["issuer"] == h.issuer
    # over https the same requests work
    r = f.s.post(h.issuer + "/oauth/token", data=cc, auth=svc1, timeout=10)
    assert r.status_code == 200 and r.json()["access_token"], r.text
    assert f.redeem(f.get_code("fp1", scope="openid")).status_code == 200
    assert codes_issued(h) == 1


def _handshake(h, version):
    """Version negotiated with the client limited to `version` (None if refused)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")      # the client offers old versions; the server decides
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version
    try:
        with socket.create_connection(("127.0.0.1", h.tls_port), 10) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                return t.version()
    except (ssl.SSLError, ConnectionError):
        return None


@pytest.mark.catalogue("H06")
def test_tls_versions(oas):
    """H06: TLS 1.0 and 1.1 handshakes are refused, TLS 1.2 and 1.3 accepted (mod_ssl with
    OpenSSL 3 defaults; the module itself adds no TLS settings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    for v in old:
        assert _handshake(oas, v) is None, v
    assert _handshake(oas, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert _handshake(oas, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"


# ---- A02 -------------------------------------------------------------------------------------

@pytest.mark.catalogue("A02")
def test_metadata_exactly_what_is_implemented(oas):
    """A02: beyond test_020's checks, the lists are exact: the client authentication methods
    are the three implemented ones (the fixture has public clients), response types only
    code, grants without password/implicit, issuer byte-for-byte, every endpoint https under
    the issuer; both well-known documents are identical."""
    s = Client(oas).s
    docs = [s.get(oas.issuer + p, timeout=10).json()
            for p in ("/.well-known/oauth-authorization-server",
                      "/.well-known/openid-configuration")]
    assert docs[0] == docs[1]
    m = docs[0]
    assert m["issuer"] == oas.issuer and oas.issuer.startswith("https://")
    assert sorted(m["token_endpoint_auth_methods_supported"]) == [
        "client_secret_basic", "client_secret_jwt", "client_secret_post", "none",
        "private_key_jwt"]
    assert m["response_types_supported"] == ["code"]
    assert m["code_challenge_methods_supported"] == ["S256"]
    assert m["authorization_response_iss_parameter_supported"] is True
    assert not {"password", "implicit"} & set(m["grant_types_supported"])
    assert m["require_pushed_authorization_requests"] is False
    for k, v in m.items():
        if k.endswith("_endpoint") or k == "jwks_uri":
            assert v.startswith(oas.issuer + "/"), (k, v)


# ---- A03 loopback ----------------------------------------------------------------------------

LOOPBACK_CLIENT = """
<OAuthASClient native1>
    OAuthASAuthMethod none
    OAuthASRedirectURI http://127.0.0.1/cb
    OAuthASRedirectURI http://127.0.0.1:53412/cb
    OAuthASScope openid
    OAuthASGrantType authorization_code
    OAuthASConsent Off
</OAuthASClient>
"""


@pytest.mark.catalogue("A03")
def test_loopback_redirects_exact(httpd_factory):
    """A03, loopback: a native client with http://127.0.0.1 redirect URIs. INTERFACE.md
    (Precise rules, Part two) takes RFC 8252 §7.3's variable port for a loopback IP literal:
    any port of a registered URI works; localhost, another path, another host ([::1] for a
    127.0.0.1 URI) or https get the error page."""
    h = httpd_factory(lambda h: standard_conf(h, extra=LOOPBACK_CLIENT))
    f = Client(h)
    for ok in ("http://127.0.0.1/cb", "http://127.0.0.1:53412/cb", "http://127.0.0.1:53413/cb",
               "http://127.0.0.1:80/cb"):
        g = f.get_code("native1", redirect_uri=ok, scope="openid")
        r = f.token({"grant_type": "authorization_code", "code": g["code"],
                     "redirect_uri": ok, "code_verifier": g["verifier"],
                     "client_id": "native1"})
        assert r.status_code == 200, r.text
    for bad in ("http://localhost:53412/cb", "http://127.0.0.1:53412/cb2",
                "http://[::1]:53412/cb", "https://127.0.0.1/cb", "http://127.0.0.2:53412/cb"):
        r = f.authorize(f.authz_params("native1", redirect_uri=bad, scope="openid",
                                       challenge=CH))
        assert_error_page(r, 400)
    assert codes_issued(h) == 4


# ---- R06 (c) ---------------------------------------------------------------------------------

@pytest.mark.catalogue("R06")
def test_refresh_token_of_a_removed_client(httpd_factory):
    """R06 (c): the fixture has no 'disabled' flag (INTERFACE.md has none); the equivalent is a
    client removed from the configuration. After a graceful restart (the store survives it),
    its refresh token gets 401 invalid_client and the token's code can no longer be redeemed;
    another client's refresh token still works."""
    h = httpd_factory(standard_conf)
    rt_pub = code_tokens(h, "pub1", "openid offline_access")["refresh_token"]
    rt_conf = code_tokens(h, "conf1", "openid offline_access")["refresh_token"]
    clients = CLIENTS_CONF.format(conf1=CONF1_SECRET, conf2=CONF2_SECRET,
                                  parreq=PARREQ_SECRET, fp1=FP1_SECRET, svc1=SVC1_SECRET)
    start = clients.index("<OAuthASClient pub1>")
    end = clients.index("</OAuthASClient>", start) + len("</OAuthASClient>")
    clients = clients[:start] + clients[end:]
    h.body = lambda h: standard_conf(h, clients=False, extra=clients)
    h.graceful()
    # fresh connections: an old child keeps its keep-alive connection with the old config
    r = refresh(h, "pub1", rt_pub, sess=session(h, keep_alive=False))
    assert_json_error(r, 401, "invalid_client")
    r = refresh(h, "conf1", rt_conf, sess=session(h, keep_alive=False))
    assert r.status_code == 200, r.text


# ---- R04: the access tokens go with the family -----------------------------------------------

@pytest.mark.catalogue("R04")
@pytest.mark.expect_log("OAS00134")
def test_reuse_revokes_the_access_tokens_too(oas):
    """R04: pub1 rotates RT1 -> RT2 (+ AT2); presenting RT1 again revokes the whole grant: RT2
    is refused and AT2 (and AT1 of the code exchange) are inactive at introspection and refused
    at userinfo; a client's unrelated grant is untouched."""
    h = oas
    t1 = code_tokens(h, "pub1", "openid offline_access")
    other = code_tokens(h, "pub1", "openid offline_access")
    r = refresh(h, "pub1", t1["refresh_token"])
    assert r.status_code == 200, r.text
    rt2, at2 = r.json()["refresh_token"], r.json()["access_token"]
    assert introspect(h, at2).json()["active"] is True
    assert userinfo(h, at2).status_code == 200
    r = refresh(h, "pub1", t1["refresh_token"])
    assert_json_error(r, 400, "invalid_grant")
    assert_json_error(refresh(h, "pub1", rt2), 400, "invalid_grant")
    for at in (at2, t1["access_token"]):
        assert introspect(h, at).json() == {"active": False}
        u = userinfo(h, at)
        assert u.status_code == 401 and 'error="invalid_token"' in u.headers["WWW-Authenticate"]
    assert introspect(h, other["access_token"]).json()["active"] is True
    assert refresh(h, "pub1", other["refresh_token"]).status_code == 200
