"""Issue 3: the token endpoint for the authorization_code grant (SECURITY.md T01-T08),
PKCE (K01-K06) and client authentication (C01-C04, C06)."""

import base64
import os
import subprocess
import time

import pytest

from client import (RFC7636_CHALLENGE, RFC7636_VERIFIER, Client, Pkce, assert_error_page,
                    assert_error_redirect, assert_json_error, b64url, basic, raw_request,
                    redirect_params, s256)
from oauth_conf import CLIENTS, standard_conf

CONF1 = ("conf1", CLIENTS["conf1"]["secret"])
CONF2_SECRET = CLIENTS["conf2"]["secret"]
RP1 = "https://rp1.test/cb"


def code_data(g, **kw):
    d = {"grant_type": "authorization_code", "code": g["code"],
         "redirect_uri": g["redirect_uri"], "code_verifier": g["verifier"]}
    d.update(kw)
    return {k: v for k, v in d.items() if v is not None}


def ok(r):
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


# ---- T ---------------------------------------------------------------------------------------

@pytest.mark.catalogue("T01")
def test_both_content_types(oas):
    f = Client(oas)
    for ct in ["application/x-www-form-urlencoded",
               "application/x-www-form-urlencoded; charset=UTF-8",
               "Application/X-WWW-Form-Urlencoded;charset=utf-8"]:
        g = f.get_code("conf1", scope="openid api.read")
        body = "&".join(f"{k}={v}" for k, v in code_data(g).items()).replace(":", "%3A") \
            .replace("/", "%2F")
        r = f.token(None, auth=CONF1, headers={"Content-Type": ct}, raw_body=body)
        t = ok(r)
        assert r.headers["Pragma"] == "no-cache"
        assert t["token_type"] == "Bearer" and t["expires_in"] > 0 and t["id_token"]


@pytest.mark.catalogue("T02")
@pytest.mark.expect_log("OAS00131")
def test_replay_is_refused_and_logged(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid api.read")
    t = ok(f.redeem(g))
    jti = f.verify_jwt(t["access_token"])[1]["jti"]
    oas.mark_log()
    r = f.redeem(g)
    assert_json_error(r, 400, "invalid_grant")
    m = oas.wait_log(r"\[oauth_as:warn\].*OAS00131.*conf1.*jti (\S+)")
    assert m.group(1) == jti
    # a third try is refused as well
    time.sleep(1)
    assert_json_error(f.redeem(g), 400, "invalid_grant")
    # the code does not appear in the error log (U5)
    assert g["code"] not in oas.error_log()
    assert CONF1[1] not in oas.error_log()


@pytest.mark.catalogue("T03")
def test_invalid_attempts_do_not_burn_the_code(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="api.read")
    # (a) wrong verifier, (b) wrong secret: refused, code intact
    assert_json_error(f.redeem(g, code_verifier=Pkce()[0]), 400, "invalid_grant")
    assert_json_error(f.redeem(g, auth=("conf1", "wrong")), 401, "invalid_client")
    oas.mark_log()
    ok(f.redeem(g))
    # (c) after success: invalid replays revoke nothing (no OAS00131)
    assert_json_error(f.redeem(g, code_verifier=Pkce()[0]), 400, "invalid_grant")
    assert_json_error(f.redeem(g, auth=("conf1", "wrong")), 401, "invalid_client")
    assert "OAS00131" not in oas.error_log()[oas._log_offset:]


@pytest.mark.catalogue("T04")
def test_code_bound_to_client(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid")
    # (a) conf2's valid credentials
    r = f.token(code_data(g, client_id="conf2", client_secret=CONF2_SECRET))
    assert_json_error(r, 400, "invalid_grant")
    # (b) as the public client
    assert_json_error(f.token(code_data(g, client_id="pub1")), 400, "invalid_grant")
    # (c) a pub1 code redeemed by conf1
    gp = f.get_code("pub1", scope="openid")
    assert_json_error(f.token(code_data(gp), auth=CONF1), 400, "invalid_grant")
    # the rightful clients still succeed (pin T03)
    ok(f.redeem(g))
    ok(f.redeem(gp))


@pytest.mark.catalogue("T05")
def test_code_bound_to_redirect_uri(oas):
    f = Client(oas)
    g = f.get_code("conf2", redirect_uri="https://rp2.test/cb", scope="openid")
    for ru in ["https://rp2.test/cb?tenant=a", "https://rp2.test/cb/"]:
        assert_json_error(f.redeem(g, redirect_uri=ru), 400, "invalid_grant")
    r = f.redeem(g, redirect_uri=None)
    assert r.status_code == 400 and r.json()["error"] in ("invalid_request", "invalid_grant")
    ok(f.redeem(g))


@pytest.mark.catalogue("T06")
def test_code_expiry(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASCodeLifetime=2))
    f = Client(h)
    g1 = f.get_code("fp1", scope="openid")
    g2 = f.get_code("fp1", scope="openid")
    ok(f.redeem(g1))  # within the lifetime
    time.sleep(3)
    assert_json_error(f.redeem(g2), 400, "invalid_grant")


@pytest.mark.catalogue("T07")
def test_garbage_codes(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid")
    par = f.s.post(f.url("/oauth/par"), auth=CONF1, timeout=10,
                   data=f.authz_params("conf1", challenge=RFC7636_CHALLENGE)).json()
    fp = ok(f.redeem(f.get_code("fp1", scope="openid")))
    bad = [b64url(os.urandom(32)), " ", "A" * 4096, "' OR '1'='1", "../../etc/passwd",
           par["request_uri"], par["request_uri"].rsplit(":", 1)[1], fp["access_token"],
           g["code"].upper() if g["code"].upper() != g["code"] else g["code"] + "A",
           g["code"] + " ", g["code"][:-1]]
    for c in bad:
        t0 = time.monotonic()
        r = f.redeem(g, code=c)
        assert_json_error(r, 400, "invalid_grant")
        assert time.monotonic() - t0 < 1
        assert "sql" not in r.text.lower()
    # empty = missing; NUL and LF inside are malformed
    assert_json_error(f.redeem(g, code=""), 400, "invalid_request")
    for c in ["\x00", g["code"] + "\n", g["code"] + "\x00"]:
        assert_json_error(f.redeem(g, code=c), 400, "invalid_request")
    ok(f.redeem(g))


@pytest.mark.catalogue("T08")
def test_grant_type_errors(oas):
    f = Client(oas)
    assert_json_error(f.token({"code": "x"}, auth=CONF1), 400, "invalid_request")
    for gt, extra in [("foo", {}),
                      ("password", {"username": "alice", "password": "alice-password"}),
                      ("implicit", {}), ("AUTHORIZATION_CODE", {"code": "x"})]:
        r = f.token({"grant_type": gt, **extra}, auth=CONF1)
        assert_json_error(r, 400, "unsupported_grant_type")
    r = f.token({"grant_type": "refresh_token", "refresh_token": "x", "client_id": "conf2",
                 "client_secret": CONF2_SECRET})
    assert_json_error(r, 400, "unauthorized_client")
    r = f.token({"grant_type": "client_credentials", "client_id": "pub1"})
    assert_json_error(r, 400, "unauthorized_client")
    # svc1 may not use the authorization_code grant at all
    r = f.token({"grant_type": "authorization_code", "code": "x"},
                auth=("svc1", CLIENTS["svc1"]["secret"]))
    assert_json_error(r, 400, "unauthorized_client")


# ---- K ---------------------------------------------------------------------------------------

@pytest.mark.catalogue("K01")
def test_pkce_required(oas):
    f = Client(oas)
    for cid in ["pub1", "conf1", "conf2", "fp1"]:
        r = f.authorize(f.authz_params(cid, scope="openid", state="k1"))
        q = assert_error_redirect(oas, r, "invalid_request", state="k1")
        assert "challenge" in q["error_description"]
    r = f.s.post(f.url("/oauth/par"), auth=CONF1, data=f.authz_params("conf1"), timeout=10)
    assert_json_error(r, 400, "invalid_request")


@pytest.mark.catalogue("K02")
def test_wrong_verifiers(oas):
    f = Client(oas)
    g = f.get_code("pub1", scope="openid")
    v = g["verifier"]
    for wrong in [Pkce()[0], g["challenge"], v[:-1] + ("A" if v[-1] != "A" else "B"),
                  v.upper() if v.upper() != v else v.lower(), v + "x", RFC7636_VERIFIER]:
        assert_json_error(f.redeem(g, code_verifier=wrong), 400, "invalid_grant")
    ok(f.redeem(g))


@pytest.mark.catalogue("K03")
def test_verifier_missing(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid")
    assert_json_error(f.redeem(g, code_verifier=None), 400, "invalid_grant")
    assert_json_error(f.redeem(g, code_verifier=""), 400, "invalid_grant")
    ok(f.redeem(g))


PKCE_OFF = """
<OAuthASClient nopkce>
    OAuthASClientSecret "nopkce-secret"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://np.test/cb
    OAuthASScope openid
    OAuthASGrantType authorization_code
    OAuthASRequirePKCE Off
    OAuthASConsent Off
</OAuthASClient>
"""


@pytest.mark.catalogue("K04")
def test_pkce_downgrade(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, extra=PKCE_OFF))
    f = Client(h)
    p = f.authz_params("nopkce", redirect_uri="https://np.test/cb", scope="openid", nonce="n")
    q = redirect_params(f.authorize(p), "https://np.test/cb")
    data = {"grant_type": "authorization_code", "code": q["code"],
            "redirect_uri": "https://np.test/cb"}
    auth = ("nopkce", "nopkce-secret")
    # a verifier for a code without challenge: downgrade, refused, the code survives
    r = f.token({**data, "code_verifier": RFC7636_VERIFIER}, auth=auth)
    assert_json_error(r, 400, "invalid_request")
    ok(f.token(data, auth=auth))
    # a client exempt from PKCE may still use it, and then it is enforced
    g = f.get_code("nopkce", redirect_uri="https://np.test/cb", scope="openid")
    assert_json_error(f.token(code_data(g, code_verifier=None), auth=auth), 400, "invalid_grant")
    ok(f.token(code_data(g), auth=auth))


@pytest.mark.catalogue("K04")
def test_public_client_cannot_drop_pkce(httpd_factory):
    conf = PKCE_OFF.replace('OAuthASClientSecret "nopkce-secret"', "") \
        .replace("client_secret_basic", "none")
    h = httpd_factory(lambda h: standard_conf(h, extra=conf), start=False)
    rc, out = h.configtest()
    assert rc != 0 and "OAuthASRequirePKCE" in out, out


@pytest.mark.catalogue("K05")
def test_challenge_methods(oas):
    f = Client(oas)
    v = RFC7636_VERIFIER
    cases = [
        {"code_challenge_method": "plain", "code_challenge": v},
        {"code_challenge_method": "S512", "code_challenge": RFC7636_CHALLENGE},
        {"code_challenge_method": "s256", "code_challenge": RFC7636_CHALLENGE},
        {"code_challenge": RFC7636_CHALLENGE},
        {"code_challenge_method": "S256"},
    ]
    for c in cases:
        p = f.authz_params("pub1", scope="openid", state="k5")
        p.update(c)
        q = assert_error_redirect(oas, f.authorize(p), "invalid_request", state="k5",
                                  base="https://spa.test/cb")
    p = f.authz_params("pub1", scope="openid", state="k5", code_challenge_method="S512",
                       code_challenge=RFC7636_CHALLENGE)
    q = redirect_params(f.authorize(p))
    assert "not supported" in q["error_description"]


@pytest.mark.catalogue("K06")
def test_abnf(oas):
    f = Client(oas)
    good = RFC7636_CHALLENGE
    for cc in ["A" * 42, "A" * 129, good[:-1] + "+", good[:-1] + "/", good[:-1] + "=",
               good[:-1] + " ", good[:-1] + "é", good[:-2] + "=="]:
        p = f.authz_params("pub1", scope="openid", state="k6", code_challenge=cc,
                           code_challenge_method="S256")
        assert_error_redirect(oas, f.authorize(p), "invalid_request", state="k6",
                              base="https://spa.test/cb")
    p = f.authz_params("pub1", scope="openid", state="k6", code_challenge=good[:-1] + "\x00",
                       code_challenge_method="S256")
    r = f.authorize(p)
    if r.status_code == 302:
        assert_error_redirect(oas, r, "invalid_request", state="k6")
    else:
        assert_error_page(r, 400)
    # 128 chars of unreserved is fine
    ok_cc = ("A-._~" * 30)[:128]
    p = f.authz_params("pub1", scope="openid", code_challenge=ok_cc, code_challenge_method="S256")
    assert f.authorize(p).status_code == 200
    # verifiers outside 43*128 unreserved fail even when their S256 matches
    for bad_v in ["abc", "A" * 42, "A" * 129, "A" * 40 + "+/="]:
        p = f.authz_params("pub1", scope="openid", state="v", code_challenge=s256(bad_v),
                           code_challenge_method="S256")
        q = redirect_params(f.authorize_and_approve(p), "https://spa.test/cb")
        g = {"code": q["code"], "client_id": "pub1", "redirect_uri": "https://spa.test/cb",
             "verifier": bad_v}
        r = f.redeem(g)
        assert r.status_code == 400 and r.json()["error"] in ("invalid_grant", "invalid_request")


# ---- C ---------------------------------------------------------------------------------------

@pytest.mark.catalogue("C01")
def test_wrong_basic_secret(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid")
    r = f.redeem(g, auth=("conf1", "wrong"))
    assert_json_error(r, 401, "invalid_client")
    assert 'realm="' in r.headers["WWW-Authenticate"]
    ok(f.redeem(g))


@pytest.mark.catalogue("C02")
def test_missing_unknown_wrong_method(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid")
    # (a) no authentication at all, or client_id only for a confidential client
    assert_json_error(f.token(code_data(g)), 401, "invalid_client")
    assert_json_error(f.token(code_data(g, client_id="conf1")), 401, "invalid_client")
    # (b) unknown client
    assert_json_error(f.token(code_data(g), auth=("nosuch", "x")), 401, "invalid_client")
    # (c) enforced methods: conf1 via post, conf2 via Basic
    r = f.token(code_data(g, client_id="conf1", client_secret=CONF1[1]))
    assert_json_error(r, 401, "invalid_client")
    g2 = f.get_code("conf2", scope="openid")
    assert_json_error(f.token(code_data(g2), auth=("conf2", CONF2_SECRET)), 401, "invalid_client")
    # (d) pub1 without client_id; (e) pub1 with a secret
    gp = f.get_code("pub1", scope="openid")
    assert_json_error(f.token(code_data(gp)), 401, "invalid_client")
    assert_json_error(f.token(code_data(gp, client_id="pub1", client_secret="x")), 401,
                      "invalid_client")
    assert_json_error(f.token(code_data(gp), auth=("pub1", "x")), 401, "invalid_client")
    # nothing was burnt
    ok(f.redeem(g))
    ok(f.redeem(g2))
    ok(f.redeem(gp))


@pytest.mark.catalogue("C03")
def test_multiple_credentials(oas):
    f = Client(oas)
    g = f.get_code("conf1", scope="openid")
    assert_json_error(f.token(code_data(g, client_secret=CONF1[1]), auth=CONF1), 400,
                      "invalid_request")
    r = f.token(code_data(g, client_id="conf2"), auth=CONF1)
    assert r.status_code in (400, 401) and r.json()["error"] in ("invalid_request",
                                                                  "invalid_client")
    # (d) two Authorization headers (httpd joins them): refused
    body = "&".join(f"{k}={v}" for k, v in code_data(g).items())
    r = raw_request(oas, "POST", "/oauth/token",
                    headers=[("Content-Type", "application/x-www-form-urlencoded"),
                             ("Authorization", basic(*CONF1)), ("Authorization", basic(*CONF1))],
                    body=body.replace(":", "%3A").replace("/", "%2F"))
    assert r.status_code in (400, 401) and r.json()["error"] in ("invalid_request",
                                                                  "invalid_client")
    # (c) Basic + the same client_id in the body is fine
    ok(f.token(code_data(g, client_id="conf1"), auth=CONF1))


@pytest.mark.catalogue("C04")
def test_credentials_in_uri(oas):
    f = Client(oas)
    g = f.get_code("conf2", scope="openid")
    r = f.s.post(f.url(f"/oauth/token?client_id=conf2&client_secret={CONF2_SECRET}"),
                 data=code_data(g), timeout=10)
    assert_json_error(r, 400, "invalid_request")
    r = f.s.get(f.url(f"/oauth/token?client_id=conf2&client_secret={CONF2_SECRET}"), timeout=10)
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    # even a harmless query is refused
    r = f.s.post(f.url("/oauth/token?x=1"), data=code_data(g, client_id="conf2",
                                                             client_secret=CONF2_SECRET))
    assert_json_error(r, 400, "invalid_request")
    ok(f.redeem(g))


C06_CLIENT = """
<OAuthASClient "conf:x">
    OAuthASClientSecret "p%w+d: \u00fc"
    OAuthASAuthMethod client_secret_basic client_secret_post
    OAuthASRedirectURI https://c6.test/cb
    OAuthASScope openid
    OAuthASGrantType authorization_code
    OAuthASConsent Off
</OAuthASClient>
<OAuthASClient hashed>
    OAuthASClientSecret "{hash}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://hs.test/cb
    OAuthASScope openid
    OAuthASGrantType authorization_code
    OAuthASConsent Off
</OAuthASClient>
"""


def bcrypt_hash(secret):
    out = subprocess.run(["htpasswd", "-nbB", "-C", "5", "u", secret], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    return out.split(":", 1)[1]


@pytest.mark.catalogue("C06")
def test_form_encoded_basic_and_hashed_secret(httpd_factory):
    hashed = bcrypt_hash("hashed-secret")
    h = httpd_factory(lambda h: standard_conf(h, extra=C06_CLIENT.replace("{hash}", hashed)))
    f = Client(h)
    cid, secret = "conf:x", "p%w+d: \u00fc"

    def code():
        p = f.authz_params(cid, redirect_uri="https://c6.test/cb", scope="openid",
                           challenge=RFC7636_CHALLENGE)
        q = redirect_params(f.authorize(p), "https://c6.test/cb")
        return {"grant_type": "authorization_code", "code": q["code"],
                "redirect_uri": "https://c6.test/cb", "code_verifier": RFC7636_VERIFIER}

    # RFC 6749 §2.3.1: id and secret form-urlencoded, then base64
    ok(f.token(code(), auth=basic(cid, secret)))
    # the same values via client_secret_post
    ok(f.token({**code(), "client_id": cid, "client_secret": secret}))
    # un-encoded: the first ':' splits "conf" from "x:p%w+d: ü": refused, not 5xx
    d = code()
    raw = "Basic " + base64.b64encode(f"{cid}:{secret}".encode()).decode()
    assert_json_error(f.token(d, auth=raw), 401, "invalid_client")
    ok(f.token(d, auth=basic(cid, secret)))
    # a bcrypt-hashed secret: verified, also twice (per-process cache), wrong one refused
    for _ in range(2):
        p = f.authz_params("hashed", redirect_uri="https://hs.test/cb", scope="openid",
                           challenge=RFC7636_CHALLENGE)
        q = redirect_params(f.authorize(p), "https://hs.test/cb")
        d = {"grant_type": "authorization_code", "code": q["code"],
             "redirect_uri": "https://hs.test/cb", "code_verifier": RFC7636_VERIFIER}
        assert_json_error(f.token(d, auth=("hashed", "wrong")), 401, "invalid_client")
        assert_json_error(f.token(d, auth=("hashed", hashed)), 401, "invalid_client")
        ok(f.token(d, auth=("hashed", "hashed-secret")))
