"""Helpers of the token-lifecycle tests (issue 6): a full code flow as alice (Basic auth at
/authorize, consent page, decision=allow), code redemption, refresh, userinfo, revocation,
introspection, and JWT decoding.  Private to test_3xx_*; the shared harness is untouched.

    t = code_tokens(h, "conf1", "openid offline_access")   # token response JSON (asserted 200)
    r = refresh(h, "conf1", t["refresh_token"])              # requests.Response
"""

import html
import re
import secrets
import urllib.parse

from common import b64url, b64url_decode, session  # noqa: F401 (re-exported)
from common import jwt_header_payload as jwt_parts
from common import pkce_pair as pkce
from oauth_conf import CLIENTS, USERS

# Clients of the tests' own configs (standard_conf(h, extra=...)) are added with register().
_CLIENTS = {cid: dict(v) for cid, v in CLIENTS.items()}

B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def register(client_id, secret=None, auth="client_secret_basic", redirect_uris=()):
    """Make a client of an `extra` config known to these helpers."""
    _CLIENTS[client_id] = {"secret": secret, "auth": auth if secret else "none",
                           "redirect_uris": list(redirect_uris)}


def client_redirect(client_id):
    return _CLIENTS[client_id]["redirect_uris"][0]


def jwt_claims(token):
    return jwt_parts(token)[1]


def auth_kwargs(client_id, data, secret=None, method=None):
    """requests kwargs authenticating client_id as configured (Basic, post or none).
    secret/method override the configured ones (wrong secrets, other methods)."""
    info = _CLIENTS.get(client_id, {"secret": None, "auth": "none"})
    secret = info["secret"] if secret is None else secret
    method = method or info["auth"]
    data = dict(data)
    kw = {}
    if method == "client_secret_basic":
        kw["auth"] = (client_id, secret)
    elif method == "client_secret_post":
        data.update(client_id=client_id, client_secret=secret)
    elif method == "none":
        data["client_id"] = client_id
    # method "anonymous": no client authentication at all
    kw["data"] = data
    return kw


def post(h, path, client_id, data, s=None, secret=None, method=None, **kw):
    """POST a form to path as client_id."""
    s = s or session(h)
    kw.setdefault("timeout", 10)
    kw.setdefault("allow_redirects", False)
    kw.update(auth_kwargs(client_id, data, secret, method))
    return s.post(h.issuer + path, **kw)


def token(h, client_id, data, **kw):
    return post(h, "/oauth/token", client_id, data, **kw)


def refresh(h, client_id, rt, scope=None, **kw):
    data = {"grant_type": "refresh_token", "refresh_token": rt}
    if scope is not None:
        data["scope"] = scope
    return token(h, client_id, data, **kw)


def revoke(h, client_id, tok, **kw):
    return post(h, "/oauth/revoke", client_id, {"token": tok}, **kw)


def introspect(h, tok, client_id="svc1", **kw):
    return post(h, "/oauth/introspect", client_id, {"token": tok}, **kw)


def userinfo(h, at, s=None, **kw):
    s = s or session(h)
    kw.setdefault("timeout", 10)
    return s.get(h.issuer + "/userinfo", headers={"Authorization": f"Bearer {at}"}, **kw)


def hidden_inputs(page):
    """name -> value of the hidden inputs of the consent page."""
    out = {}
    for tag in re.findall(r"<input\b[^>]*>", page, re.I):
        if not re.search(r'type="hidden"', tag, re.I):
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            out[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return out


def location_params(resp):
    """Query parameters of a 302's Location (single values)."""
    assert resp.status_code == 302, (resp.status_code, resp.text[:500])
    q = urllib.parse.urlsplit(resp.headers["Location"]).query
    return dict(urllib.parse.parse_qsl(q, keep_blank_values=True))


def authorize(h, client_id, scope, user="alice", resource=None, extra=None, s=None):
    """Runs /authorize as `user` and approves the consent page when shown.
    Returns {code, verifier, redirect_uri, state}."""
    s = s or session(h)
    auth = (user, USERS[user])
    verifier, challenge = pkce()
    ru = client_redirect(client_id)
    state = secrets.token_urlsafe(8)
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": ru,
              "scope": scope, "state": state, "nonce": secrets.token_urlsafe(8),
              "code_challenge": challenge, "code_challenge_method": "S256"}
    if resource:
        params["resource"] = resource
    params.update(extra or {})
    r = s.get(h.issuer + "/authorize", params=params, auth=auth, timeout=10,
              allow_redirects=False)
    if r.status_code == 200:
        fields = hidden_inputs(r.text)
        assert "txn" in fields and "csrf" in fields, r.text[:1000]
        fields["decision"] = "allow"
        r = s.post(r.url, data=fields, auth=auth, timeout=10, allow_redirects=False)
    p = location_params(r)
    assert r.headers["Location"].startswith(ru + "?"), r.headers["Location"]
    assert "code" in p, p
    assert p["state"] == state
    return {"code": p["code"], "verifier": verifier, "redirect_uri": ru, "state": state}


def redeem(h, client_id, a, **kw):
    """Redeems authorize()'s result a; the response."""
    return token(h, client_id, {"grant_type": "authorization_code", "code": a["code"],
                                "code_verifier": a["verifier"],
                                "redirect_uri": a["redirect_uri"]}, **kw)


def code_tokens(h, client_id, scope, user="alice", resource=None, s=None):
    """A whole code flow; the token response's JSON (status 200 asserted)."""
    a = authorize(h, client_id, scope, user=user, resource=resource, s=s)
    r = redeem(h, client_id, a, s=s)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def client_credentials(h, client_id="svc1", **data):
    data = {"grant_type": "client_credentials", **data}
    return token(h, client_id, data)


def json_error(r, status, error):
    """Asserts a JSON error response (RFC 6749 §5.2) with this status and error code."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert r.json()["error"] == error, r.text
    return r.json()


def assert_healthy(h):
    """The server still answers the metadata and a token endpoint error normally."""
    r = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200 and r.json()["issuer"] == h.issuer
    json_error(token(h, "conf1", {"grant_type": "refresh_token", "refresh_token": "x" * 43}),
               400, "invalid_grant")
