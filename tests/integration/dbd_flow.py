"""Flow helpers for the dbd tests (test_400, test_410): a browser at /authorize with consent,
PAR, and token requests, against one server or several nodes of a cluster."""

import base64
import hashlib
import re
import secrets
import urllib.parse

import requests

from oauth_conf import USERS

PUB = {"client_id": "pub1", "redirect_uri": "https://spa.test/cb"}
SCOPE = "openid offline_access"


def session():
    s = requests.Session()
    s.trust_env = False
    return s


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _code_from(r):
    assert r.status_code == 302, (r.status_code, r.text[:300])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
    assert "code" in q, r.headers["Location"]
    return q["code"][0]


def authorize(h, params, user="alice"):
    """GET /authorize on h with params (consent given when asked); returns the code."""
    with session() as s:   # closed: no idle keep-alive holds a prefork child
        return _authorize(s, h, params, user)


def _authorize(s, h, params, user):
    auth = (user, USERS[user])
    r = s.get(h.issuer + "/authorize", params=params, auth=auth, verify=h.ca,
              allow_redirects=False, timeout=10)
    if r.status_code == 200:   # the consent page
        fields = dict(re.findall(r'name="(txn|csrf)" value="([^"]*)"', r.text))
        assert set(fields) == {"txn", "csrf"}, r.text[:500]
        r = s.post(h.issuer + "/authorize", data=dict(fields, decision="allow"), auth=auth,
                   verify=h.ca, allow_redirects=False, timeout=10)
    return _code_from(r)


def code_for_pub1(h, user="alice", scope=SCOPE):
    verifier, challenge = pkce()
    code = authorize(h, dict(PUB, response_type="code", scope=scope, state="st",
                             code_challenge=challenge, code_challenge_method="S256"), user)
    return code, verifier


def token(h, data, auth=None, timeout=10):
    with session() as s:
        return s.post(h.issuer + "/oauth/token", data=data, auth=auth, verify=h.ca,
                      allow_redirects=False, timeout=timeout)


def redeem(h, code, verifier):
    return token(h, dict(grant_type="authorization_code", code=code, code_verifier=verifier,
                         **PUB))


def refresh(h, rt):
    return token(h, {"grant_type": "refresh_token", "refresh_token": rt, "client_id": "pub1"})


def par(h, params):
    with session() as s:
        return s.post(h.issuer + "/oauth/par", data=params, verify=h.ca, timeout=10)
