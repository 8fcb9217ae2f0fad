"""Token exchange (issue 22, RFC 8693; INTERFACE.md "More grants"): a confidential client with
`OAuthASGrantType urn:ietf:params:oauth:grant-type:token-exchange` trades a live token of this
issuer for an access token for an audience its `OAuthASTokenExchange` lines allow. Every error
and success of the grant on one module-scoped server; the issued token at our own resource
server (`AuthType oauth-as`); the configtest faults."""

import os
import time

import pytest

from client import (DPoPKey, assert_json_error, b64url, client_credentials, code_tokens,
                    jwt_claims, register, revoke, session, token)
from harness import Httpd
from interop_node import ensure_node_modules, run_node_tests
from oauth_conf import SVC1_SECRET, standard_conf
from test_010_config import assert_fails, assert_ok, valid

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
TT = "urn:ietf:params:oauth:token-type:"
AT, IDT = TT + "access_token", TT + "id_token"
SECRET = "xchg-secret-5f6a7b"

register("xrs", SECRET)
register("xany", SECRET)
register("xweb", SECRET, redirect_uris=["https://xweb.test/cb"])


def aud2(h):
    return h.issuer + "/api2"


def conf(h):
    a2 = aud2(h)
    for d in ("api1", "api2"):
        h.write_file(f"htdocs/{d}/hello.txt", "hello\n")
    extra = f"""
<OAuthASResource {a2}>
    OAuthASScope api.read
</OAuthASResource>
<OAuthASResource urn:short>
    OAuthASScope api.read
    OAuthASAccessTokenLifetime 3
</OAuthASResource>
<OAuthASClient xrs>
    OAuthASClientSecret "{SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASScope api.read
    OAuthASGrantType {GRANT} client_credentials
    OAuthASTokenExchange conf1 {a2}
    OAuthASTokenExchange xweb {a2} urn:test:api
</OAuthASClient>
<OAuthASClient xany>
    OAuthASClientSecret "{SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASScope api.read
    OAuthASGrantType {GRANT} client_credentials
    OAuthASTokenExchange * {a2}
</OAuthASClient>
<OAuthASClient xweb>
    OAuthASClientSecret "{SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://xweb.test/cb
    OAuthASScope openid api.read api.write
    OAuthASGrantType authorization_code
    OAuthASAudience urn:test:api urn:short
</OAuthASClient>
<Location /api1/>
    AuthType oauth-as
    OAuthASResourceIssuer "{h.issuer}"
    OAuthASResourceAudience urn:test:api
    Require oauth-as-scope api.read
</Location>
<Location /api2/>
    AuthType oauth-as
    OAuthASResourceIssuer "{h.issuer}"
    OAuthASResourceAudience "{a2}"
    Require oauth-as-scope api.read
</Location>
"""
    return standard_conf(h, extra=extra)


@pytest.fixture(scope="module")
def h(workdir_base):
    srv = Httpd(os.path.join(workdir_base, "950"), conf)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
    bad = srv.check_error_log()
    assert not bad, bad


def user_at(h, client="conf1", scope="openid api.read", resource="urn:test:api"):
    return code_tokens(h, client, scope, resource=resource)


def exchange(h, subject, client="xrs", stt=AT, audience=None, headers=None, **more):
    data = {"grant_type": GRANT, "subject_token": subject, "subject_token_type": stt,
            "audience": aud2(h) if audience is None else audience, **more}
    return token(h, client, {k: v for k, v in data.items() if v is not None}, headers=headers)


def api(h, d, at, scheme="Bearer"):
    return session(h).get(f"{h.issuer}/{d}/hello.txt",
                          headers={"Authorization": f"{scheme} {at}"}, timeout=10)


def refused(h, r, error, why=None):
    assert_json_error(r, 401 if error == "invalid_client" else 400, error)
    if why:
        assert why in h.error_log(), why


# ---- success ------------------------------------------------------------------------------

def test_exchange_for_another_audience(h):
    """The answer (RFC 8693 §2.2.1): issued_token_type, Bearer, the subject's scope less
    openid, no refresh or ID token; the token is for the new audience only, for the same user,
    issued to the caller, and our resource server says so."""
    t = user_at(h)
    assert api(h, "api1", t["access_token"]).status_code == 200
    r = exchange(h, t["access_token"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["issued_token_type"] == AT, body
    assert body["token_type"] == "Bearer", body
    assert body["scope"] == "api.read", body
    assert body["expires_in"] > 0
    assert "refresh_token" not in body and "id_token" not in body, body
    assert "no-store" in r.headers.get("Cache-Control", "")
    c, s = jwt_claims(body["access_token"]), jwt_claims(t["access_token"])
    assert c["aud"] == aud2(h) and c["sub"] == s["sub"] == "alice", c
    assert c["client_id"] == "xrs" and "act" not in c, c
    assert "OAS07151" in h.error_log()
    assert api(h, "api2", body["access_token"]).status_code == 200
    r = api(h, "api1", body["access_token"])
    assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]
    # the subject token is for its own audience only
    assert api(h, "api2", t["access_token"]).status_code == 401


def test_resource_parameter_and_narrower_scope(h):
    t = user_at(h, "xweb", "openid api.read api.write")
    r = exchange(h, t["access_token"], audience="", resource=aud2(h), scope="api.read")
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "api.read"
    # none asked: the subject's, narrowed to what the audience declares (api.read)
    r = exchange(h, t["access_token"])
    assert r.status_code == 200 and r.json()["scope"] == "api.read", r.text
    # audience and resource naming the same target
    r = exchange(h, t["access_token"], resource=aud2(h))
    assert r.status_code == 200, r.text


def test_star_takes_any_client(h):
    """xany's `*` line takes tokens of any client; xrs's lines name conf1 and xweb only."""
    cc = client_credentials(h, "svc1", scope="api.read").json()["access_token"]
    r = exchange(h, cc, client="xany")
    assert r.status_code == 200, r.text
    assert jwt_claims(r.json()["access_token"])["sub"] == "svc1"
    refused(h, exchange(h, cc), "invalid_request", "no OAuthASTokenExchange line names client svc1")


def test_id_token_subject(h):
    t = user_at(h)
    r = exchange(h, t["id_token"], stt=IDT)
    assert r.status_code == 200, r.text
    c = jwt_claims(r.json()["access_token"])
    assert c["sub"] == "alice" and c["aud"] == aud2(h), c
    assert r.json().get("scope", "") == ""  # an ID token grants no scope to carry on
    # jwt: either kind, told apart by typ
    assert exchange(h, t["id_token"], stt=TT + "jwt").status_code == 200
    assert exchange(h, t["access_token"], stt=TT + "jwt").status_code == 200


def test_delegation_with_act(h):
    """An actor token of the caller: act {sub: the actor}; the delegated token exchanged again
    nests the chain (RFC 8693 §4.1); an actor token of another client is refused."""
    t = user_at(h)
    actor = client_credentials(h, "xrs", scope="api.read").json()["access_token"]
    r = exchange(h, t["access_token"], actor_token=actor, actor_token_type=AT)
    assert r.status_code == 200, r.text
    d = r.json()["access_token"]
    assert jwt_claims(d)["act"] == {"sub": "xrs"}
    r = exchange(h, d, client="xany", actor_token=actor, actor_token_type=AT)
    refused(h, r, "invalid_request", "actor token of another client, xrs")
    # impersonation from a delegated token keeps its chain
    r = exchange(h, d, client="xany")
    assert r.status_code == 200, r.text
    assert jwt_claims(r.json()["access_token"])["act"] == {"sub": "xrs"}
    # a second actor: the chain nests, the current actor outermost
    a2 = client_credentials(h, "xrs", scope="api.read").json()["access_token"]
    r = exchange(h, d, client="xrs", actor_token=a2, actor_token_type=AT)
    refused(h, r, "invalid_request", "no OAuthASTokenExchange line names client xrs")
    r = exchange(h, d, client="xany", actor_token=client_credentials(h, "xany", scope="api.read").json()["access_token"],
                 actor_token_type=AT)
    assert r.status_code == 200, r.text
    assert jwt_claims(r.json()["access_token"])["act"] == {"sub": "xany", "act": {"sub": "xrs"}}
    assert api(h, "api2", d).status_code == 200


def test_dpop_caller_and_bound_subject(h):
    """A proof at the token endpoint binds the new token (token_type DPoP); a DPoP-bound
    subject token is exchanged only with a proof of its own key."""
    k = DPoPKey()
    url = h.issuer + "/oauth/token"
    t = user_at(h)
    r = exchange(h, t["access_token"], headers={"DPoP": k.proof("POST", url)})
    assert r.status_code == 200, r.text
    bound = r.json()
    assert bound["token_type"] == "DPoP" and jwt_claims(bound["access_token"])["cnf"] == {
        "jkt": k.jkt}
    refused(h, exchange(h, bound["access_token"], client="xany"), "invalid_request",
            "DPoP-bound and the request's proof is not of its key")
    r = exchange(h, bound["access_token"], client="xany",
                 headers={"DPoP": DPoPKey().proof("POST", url)})
    assert_json_error(r, 400, "invalid_request")
    r = exchange(h, bound["access_token"], client="xany", headers={"DPoP": k.proof("POST", url)})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"


def test_exchanged_token_outlives_no_subject(h):
    t = user_at(h, "xweb", "api.read", resource="urn:short")
    r = exchange(h, t["access_token"])
    assert r.status_code == 200, r.text
    assert jwt_claims(r.json()["access_token"])["exp"] <= jwt_claims(t["access_token"])["exp"]


def test_metadata_lists_the_grant(h):
    md = session(h).get(h.issuer + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert GRANT in md["grant_types_supported"], md


def test_openid_client_generic_grant(h):
    """openid-client 6.x's genericGrantRequest (tests/interop/openid-client-exchange.test.mjs):
    discovery, an exchange whose token our resource server takes, delegation, invalid_scope."""
    ensure_node_modules()
    env = {"ISSUER": h.issuer, "CC_CLIENT_ID": "svc1", "CC_CLIENT_SECRET": SVC1_SECRET,
           "XANY_CLIENT_ID": "xany", "XANY_CLIENT_SECRET": SECRET, "AUDIENCE": aud2(h),
           "API_URL": h.issuer + "/api2/hello.txt"}
    run_node_tests("openid-client-exchange.test.mjs", env, h.ca, passed=3)


# ---- errors --------------------------------------------------------------------------------

def test_missing_and_unpaired_parameters(h):
    at = user_at(h)["access_token"]
    refused(h, exchange(h, None), "invalid_request", "no subject_token or subject_token_type")
    refused(h, exchange(h, at, stt=None), "invalid_request")
    refused(h, exchange(h, at, actor_token=at), "invalid_request",
            "actor_token without actor_token_type")
    refused(h, exchange(h, at, actor_token_type=AT), "invalid_request")
    refused(h, exchange(h, at, audience=""), "invalid_request", "no resource or audience")
    refused(h, exchange(h, at, requested_token_type=TT + "refresh_token"), "invalid_request",
            "requested_token_type is not access_token")
    r = token(h, "xrs", {"grant_type": GRANT, "subject_token": at, "subject_token_type": AT,
                         "audience": aud2(h), "resource": "urn:test:api"})
    refused(h, r, "invalid_target", "audience and resource differ")


def test_wrong_token_types(h):
    t = user_at(h, "conf1", "openid offline_access api.read")
    refused(h, exchange(h, t["access_token"], stt=IDT), "invalid_request", "not an ID token (typ)")
    refused(h, exchange(h, t["id_token"], stt=AT), "invalid_request")
    refused(h, exchange(h, t["refresh_token"], stt=TT + "refresh_token"), "invalid_request",
            "a token type not exchanged here")
    refused(h, exchange(h, t["access_token"], stt="urn:example:saml"), "invalid_request",
            "an unknown token type")
    refused(h, exchange(h, "not.a.token"), "invalid_request")
    refused(h, exchange(h, "x" * 9000), "invalid_request")


def test_revoked_subject(h):
    at = user_at(h)["access_token"]
    assert revoke(h, "conf1", at).status_code == 200
    refused(h, exchange(h, at), "invalid_request", "subject token: revoked")


def test_expired_subject(h):
    at = user_at(h, "xweb", "api.read", resource="urn:short")["access_token"]
    exp = jwt_claims(at)["exp"]
    while time.time() < exp + 1:  # the token's own exp: nothing to poll for
        time.sleep(exp + 1.05 - time.time())
    refused(h, exchange(h, at), "invalid_request", "not a valid access token of this issuer")


def test_audience_not_allowed(h):
    at = user_at(h)["access_token"]
    # conf1's tokens: xrs may exchange them for api2 only
    refused(h, exchange(h, at, audience="urn:test:api"), "invalid_target",
            "audience not allowed for tokens of client conf1")
    refused(h, exchange(h, at, audience="urn:unknown"), "invalid_target")


def test_scope_never_widens(h):
    at = user_at(h, "xweb", "api.read")["access_token"]
    refused(h, exchange(h, at, scope="api.read api.write"), "invalid_scope", "scope api.write")
    refused(h, exchange(h, at, scope="openid"), "invalid_scope", "scope openid")
    wide = user_at(h, "xweb", "api.read api.write")["access_token"]
    # in the subject's scope but not one the audience declares
    refused(h, exchange(h, wide, scope="api.write"), "invalid_scope")


def test_client_without_the_grant(h):
    at = user_at(h)["access_token"]
    refused(h, exchange(h, at, client="conf1"), "unauthorized_client")
    r = token(h, "xrs", {"grant_type": GRANT, "subject_token": at, "subject_token_type": AT,
                         "audience": aud2(h)}, secret="wrong")
    refused(h, r, "invalid_client")


# ---- configuration -------------------------------------------------------------------------

XC = """
<OAuthASClient ex>
    OAuthASClientSecret "s"
    OAuthASGrantType {grant}
    {lines}
</OAuthASClient>
<OAuthASResource urn:r>
</OAuthASResource>
"""


def xc(lines, grant=GRANT):
    return XC.format(grant=grant, lines=lines)


@pytest.mark.parametrize("client,fragments", [
    (xc("OAuthASTokenExchange * urn:missing"), ("OAuthASTokenExchange", "urn:missing",
                                                "OAuthASResource")),
    (xc("OAuthASTokenExchange nobody urn:r"), ("OAuthASTokenExchange", "nobody")),
    (xc("OAuthASTokenExchange *"), ("OAuthASTokenExchange", "at least one audience")),
    (xc(""), ("OAuthASGrantType", GRANT, "OAuthASTokenExchange")),
    (xc("OAuthASTokenExchange * urn:r", grant="client_credentials"),
     ("OAuthASTokenExchange needs OAuthASGrantType",)),
    (xc("OAuthASTokenExchange * urn:r\n    OAuthASAuthMethod none").replace(
        'OAuthASClientSecret "s"', ""), ("confidential",)),
])
def test_configtest_refuses(tmp_path, client, fragments):
    assert_fails(tmp_path, valid(extra=client), *fragments)


def test_configtest_accepts(tmp_path):
    assert_ok(tmp_path, valid(extra=xc("OAuthASTokenExchange app urn:r\n"
                                       "    OAuthASTokenExchange * urn:r")))
