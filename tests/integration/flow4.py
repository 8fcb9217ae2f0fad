"""A small client for the PAR integration tests (test_2x0_par_*.py): PKCE, pushes to
/oauth/par, the browser side of /authorize (alice through Basic auth), the consent form and
the token request.  Private to these tests (issue 4); nothing here changes the server.

    c = Flow(h)
    pkce = Pkce()
    r = c.push("conf1", pkce, state="S1")            # 201 -> c.request_uri(r)
    r = c.authorize("conf1", request_uri)             # 302 or the consent page
    r = c.approve(r)                                  # consent POST -> 302 with a code
    q = c.callback(r)                                 # the redirect's query as a dict
    t = c.token("conf1", q["code"], pkce.verifier)    # token response
"""

import json
import re
import secrets
import urllib.parse

import common
from common import b64url, b64url_decode, pkce_pair, s256  # noqa: F401 (re-exported)
from oauth_conf import CLIENTS, USERS

URN = "urn:ietf:params:oauth:request_uri:"
REQUEST_URI_RE = re.compile(r"^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43,}$")
# RFC 6749 §5.2 / SECURITY.md U3: error_description characters.
DESC_RE = re.compile(r"^[\x20-\x21\x23-\x5B\x5D-\x7E]*$")
JSON_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
               "unsupported_grant_type", "invalid_scope", "unsupported_response_type",
               "invalid_target", "request_not_supported", "invalid_request_uri",
               "temporarily_unavailable", "server_error", "invalid_redirect_uri"}


class Pkce:
    """A fresh S256 pair (RFC 7636): 43-char verifier and its challenge, as an object
    (common.pkce_pair() gives the same as a tuple)."""

    def __init__(self, verifier=None):
        if verifier:
            self.verifier, self.challenge = verifier, s256(verifier)
        else:
            self.verifier, self.challenge = pkce_pair()


def jwt_claims(token):
    """(header, payload) of a compact JWS, not verified (the tests check content only)."""
    parts = token.split(".")
    assert len(parts) == 3, token
    return common.jwt_header_payload(token)


def consent_form(resp):
    """The one form of a consent page: {'action', 'hidden': {txn, csrf}, 'buttons'}."""
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    assert resp.headers["Content-Type"].startswith("text/html")
    p = common.FormParser(scoped=False)  # inputs after the <form>, not only inside it
    p.feed(resp.text)
    assert len(p.forms) == 1, resp.text
    f = p.forms[0]
    assert f["method"] == "post"
    assert set(f["hidden"]) >= {"txn", "csrf"}, f
    assert ("decision", "allow") in f["buttons"] and ("decision", "deny") in f["buttons"], f
    return f


def is_consent_page(resp):
    return resp.status_code == 200 and 'name="txn"' in resp.text


def is_error_page(resp, status=400):
    """SECURITY.md §5.2 EP: the status, HTML, no Location, no Refresh, no meta refresh."""
    return (resp.status_code == status
            and resp.headers.get("Content-Type", "").startswith("text/html")
            and "Location" not in resp.headers and "Refresh" not in resp.headers
            and "http-equiv" not in resp.text.lower())


def assert_error_page(resp, status=400, mentions=None):
    assert is_error_page(resp, status), (resp.status_code, dict(resp.headers), resp.text[:500])
    assert "code=" not in resp.text
    if mentions:
        assert mentions in resp.text, resp.text


def location_query(resp):
    """(base, params) of a redirect's Location; params a dict, repeated names refused."""
    assert resp.status_code in (302, 303), (resp.status_code, resp.text[:300])
    loc = resp.headers["Location"]
    u = urllib.parse.urlsplit(loc)
    assert not u.fragment, loc
    pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    names = [k for k, _ in pairs]
    assert len(names) == len(set(names)), f"repeated parameter in {loc}"
    return f"{u.scheme}://{u.netloc}{u.path}", dict(pairs)


def assert_json_error(resp, status, error=None):
    """SECURITY.md §5.2 JE(status, error) + U3; returns the parsed body."""
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert resp.headers.get("Content-Type", "").split(";")[0] == "application/json", resp.headers
    assert "no-store" in resp.headers.get("Cache-Control", "")
    body = json.loads(resp.text)
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    assert body["error"] in JSON_ERRORS, body
    if error is not None:
        assert body["error"] == error, body
    assert DESC_RE.match(body.get("error_description", "")), body
    if status == 401:
        assert resp.headers.get("WWW-Authenticate", "").startswith("Basic"), resp.headers
    return body


class Flow:
    """The client and the browser of one test, against Httpd h."""

    def __init__(self, h, user="alice"):
        self.h = h
        self.user = user
        self.s = self.session()

    def session(self):
        return common.session(self.h)

    @property
    def url(self):
        return self.h.issuer

    # ---- the client's back channel
    def par_params(self, client, pkce, **params):
        """The usual pushed authorization parameters; a keyword None drops one."""
        c = CLIENTS[client]
        p = {"response_type": "code", "redirect_uri": c["redirect_uris"][0],
             "scope": "openid profile", "state": "st-" + secrets.token_hex(6),
             "code_challenge": pkce.challenge if pkce else None,
             "code_challenge_method": "S256" if pkce else None}
        p.update(params)
        return {k: v for k, v in p.items() if v is not None}

    def client_auth(self, client, data, headers):
        """Adds the client's credentials in its registered way (basic, post or none)."""
        c = CLIENTS[client]
        auth = None
        if c["auth"] == "client_secret_basic":
            auth = (client, c["secret"])
        elif c["auth"] == "client_secret_post":
            data = {"client_id": client, "client_secret": c["secret"], **data}
        else:
            data = {"client_id": client, **data}
        return data, auth

    def push(self, client, pkce=None, raw=False, **params):
        """POST /oauth/par for client with its registered authentication."""
        data = params if raw else self.par_params(client, pkce, **params)
        data, auth = self.client_auth(client, data, {})
        return self.s.post(self.url + "/oauth/par", data=data, auth=auth, timeout=5)

    def push_ok(self, client, pkce=None, **params):
        """A push that must succeed: the request_uri."""
        r = self.push(client, pkce, **params)
        assert r.status_code == 201, (r.status_code, r.text)
        return request_uri(r)

    def token(self, client, code, verifier, redirect_uri="default", **extra):
        c = CLIENTS[client]
        data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
        if redirect_uri == "default":
            redirect_uri = c["redirect_uris"][0]
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        data.update(extra)
        data, auth = self.client_auth(client, data, {})
        return self.s.post(self.url + "/oauth/token", data=data, auth=auth, timeout=5)

    # ---- the browser
    def authorize(self, client_id, request_uri, extra=None, method="GET", auth=True,
                  raw_query=None):
        """GET /authorize?client_id&request_uri (+extra) as the user; no redirects followed."""
        if raw_query is not None:
            q = raw_query
        else:
            params = {}
            if client_id is not None:
                params["client_id"] = client_id
            if request_uri is not None:
                params["request_uri"] = request_uri
            params.update(extra or {})
            q = urllib.parse.urlencode(params)
        kw = {"timeout": 10, "allow_redirects": False}
        if auth:
            kw["auth"] = (self.user, USERS[self.user])
        return self.s.request(method, f"{self.url}/authorize?{q}", **kw)

    def decide(self, page, decision="allow", session=None):
        """POSTs the consent form of page back with decision."""
        f = consent_form(page)
        action = f["action"] or "/authorize"
        data = dict(f["hidden"])
        data["decision"] = decision
        s = session or self.s
        return s.post(urllib.parse.urljoin(self.url + "/authorize", action), data=data,
                      auth=(self.user, USERS[self.user]), timeout=10, allow_redirects=False)

    def approve(self, page):
        return self.decide(page, "allow")

    def authorize_and_approve(self, client_id, request_uri):
        """/authorize, then the consent if one is shown: the final redirect."""
        r = self.authorize(client_id, request_uri)
        if is_consent_page(r):
            r = self.approve(r)
        return r

    def callback(self, resp, base=None):
        """The authorization response's parameters, with U4 checks (iss, no fragment,
        no-store); base: the redirect URI it must go to."""
        got, q = location_query(resp)
        if base is not None:
            assert got == base, resp.headers["Location"]
        assert q.get("iss") == self.h.issuer, q
        assert "no-store" in resp.headers.get("Cache-Control", "")
        return q


def request_uri(resp):
    """Checks a 201 PAR response (RFC 9126 §2.2, P01) and returns its request_uri."""
    assert resp.status_code == 201, (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].split(";")[0] == "application/json"
    assert "no-store" in resp.headers.get("Cache-Control", "")
    body = json.loads(resp.text)
    assert set(body) == {"request_uri", "expires_in"}, body
    assert REQUEST_URI_RE.match(body["request_uri"]), body
    assert isinstance(body["expires_in"], int)
    return body["request_uri"]
