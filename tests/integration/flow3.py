"""A small OAuth client for the Authorization Code flow tests (test_100 .. test_150).

    f = Flow(h)                                     # h: a started Httpd with standard_conf
    r = f.authorize(client_id="conf1", ...)         # GET /authorize as alice (Basic auth)
    form = consent_form(r)                          # {"action", "txn", "csrf"} of the page
    r = f.decide(form, "allow")                     # POST the decision
    q = redirect_params(r)                          # the query of Location, checked for dups
    t = f.token(code=..., auth=("conf1", secret))   # POST /oauth/token
    claims = f.verify_jwt(t.json()["access_token"], typ="at+jwt")

Everything talks to the server with a requests.Session that ignores the environment
(REQUESTS_CA_BUNDLE) and verifies TLS with the server's generated certificate.  Raw requests
(bytes that requests would re-encode) go through raw_request().
"""

import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import common
from common import b64url, pkce_pair, s256, session  # noqa: F401 (re-exported)
from oauth_conf import CLIENTS, RESOURCE, USERS

# RFC 7636 Appendix B
RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

ERROR_DESC_RE = r"^[\x20-\x21\x23-\x5B\x5D-\x7E]*$"


def b64url_decode(s):
    """common.b64url_decode read on the UTF-8 bytes of a str: characters outside the
    alphabet (non-ASCII ones too) are skipped, as this module always read them."""
    return common.b64url_decode(s.encode() if isinstance(s, str) else s)


# ---- HTML ---------------------------------------------------------------------------------

def parse_forms(text):
    """The page's forms; inputs and buttons count only inside their <form>."""
    return common.parse_forms(text, scoped=True)


def consent_form(r):
    """The consent page's single POST form: {"action", "txn", "csrf", "buttons"}; asserts the
    page's shape (INTERFACE.md: 200 HTML, one form method=post with txn and csrf)."""
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:500])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    forms = parse_forms(r.text)
    assert len(forms) == 1, forms
    f = forms[0]
    assert f["method"] == "post", f
    assert f["hidden"].get("txn") and f["hidden"].get("csrf"), f
    assert ("decision", "allow") in f["buttons"] and ("decision", "deny") in f["buttons"], f
    return {"action": f["action"], "txn": f["hidden"]["txn"], "csrf": f["hidden"]["csrf"],
            "hidden": dict(f["hidden"])}


# ---- redirects ----------------------------------------------------------------------------

def redirect_params(r, base=None):
    """The query parameters of a 302/303 Location as a dict; asserts no fragment and no
    repeated names (SECURITY.md ER, U4); base: the expected URI before the added query."""
    assert r.status_code in (302, 303), (r.status_code, r.headers, r.text[:300])
    loc = r.headers["Location"]
    parts = urllib.parse.urlsplit(loc)
    assert parts.fragment == "" and "#" not in loc, loc
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True,
                                   errors="strict")
    names = [k for k, _ in pairs]
    assert len(names) == len(set(names)), f"repeated parameter in {loc}"
    if base is not None:
        assert loc.startswith(base + ("&" if "?" in base else "?")), (loc, base)
    return dict(pairs)


def assert_error_redirect(h, r, error, state=None, base=None):
    """ER(error): 302 to the registered URI with error, iss, state (when given), no code."""
    q = redirect_params(r, base)
    assert q.get("error") == error, (q, r.headers["Location"])
    assert q.get("iss") == h.issuer, q
    assert "code" not in q, q
    if state is None:
        assert "state" not in q, q
    else:
        assert q.get("state") == state, q
    import re
    assert re.match(ERROR_DESC_RE, q.get("error_description", "")), q
    return q


def assert_error_page(r, status=400):
    """EP: an HTML error page, no Location, no refresh, no script redirect."""
    assert r.status_code == status, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers, r.headers
    assert "Refresh" not in r.headers, r.headers
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    low = r.text.lower()
    assert "http-equiv" not in low and "<script" not in low, r.text
    return r


def assert_json_error(r, status, error):
    """JE(status, error): JSON object with error, error_description in the RFC charset,
    Cache-Control no-store."""
    import re
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    body = json.loads(r.text)
    assert isinstance(body, dict), body
    assert body.get("error") == error, body
    assert re.match(ERROR_DESC_RE, body.get("error_description", "")), body
    if status == 401:
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic"), r.headers
    return body


# ---- the client ---------------------------------------------------------------------------

class Flow:
    def __init__(self, h):
        self.h = h
        self.s = session(h)
        self._jwks = None

    def url(self, path):
        return self.h.issuer + path

    # -- /authorize
    def authorize(self, params=None, user="alice", method="GET", raw_query=None, headers=None,
                  data=None, **kw):
        """GET (or POST form) /authorize as `user` (None: no credentials). params may be a
        dict or a list of pairs; raw_query: a query string sent as is."""
        auth = (user, USERS[user]) if user else None
        url = self.url("/authorize")
        if raw_query is not None:
            url += "?" + raw_query
        if method == "GET":
            return self.s.get(url, params=params, auth=auth, headers=headers,
                              allow_redirects=False, timeout=10, **kw)
        return self.s.request(method, url, data=data if data is not None else params, auth=auth,
                              headers=headers, allow_redirects=False, timeout=10, **kw)

    def decide(self, form, decision="allow", user="alice", headers=None, drop=(), **override):
        """POST the consent decision back to the form's action (the page URL when absent)."""
        data = {"txn": form["txn"], "csrf": form["csrf"], "decision": decision}
        data.update(override)
        for k in drop:
            data.pop(k, None)
        action = form.get("action") or "/authorize"
        url = urllib.parse.urljoin(self.url("/authorize"), action)
        auth = (user, USERS[user]) if user else None
        return self.s.post(url, data=data, auth=auth, headers=headers, allow_redirects=False,
                           timeout=10)

    def complete(self, params, user="alice", method="GET"):
        """/authorize with params, then allow on the consent page if one comes: the final
        response (normally the redirect)."""
        r = self.authorize(params, user=user, method=method)
        if r.status_code == 200:
            r = self.decide(consent_form(r), "allow", user=user)
        return r

    def authz_params(self, client_id="conf1", redirect_uri="default", scope="openid api.read",
                     state=None, nonce=None, challenge=None, **extra):
        """Authorization parameters; redirect_uri=None omits it (default: the first
        registered URI), state=None makes a random one."""
        if redirect_uri == "default":
            redirect_uri = CLIENTS[client_id]["redirect_uris"][0]
        p = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
             "scope": scope, "state": state or b64url(os.urandom(9))}
        if nonce:
            p["nonce"] = nonce
        if challenge:
            p["code_challenge"] = challenge
            p["code_challenge_method"] = "S256"
        p.update(extra)
        return {k: v for k, v in p.items() if v is not None}

    def get_code(self, client_id="conf1", user="alice", method="GET", expect_consent=None,
                 **kw):
        """Runs /authorize (+ consent allow when the page comes) and returns a dict with
        code, verifier, challenge, state, nonce, redirect_uri, params, location query."""
        verifier, challenge = pkce_pair()
        kw.setdefault("nonce", b64url(os.urandom(12)))
        params = self.authz_params(client_id=client_id, challenge=challenge, **kw)
        r = self.authorize(params, user=user, method=method)
        consented = False
        if r.status_code == 200:
            form = consent_form(r)
            consented = True
            r = self.decide(form, "allow", user=user)
        if expect_consent is not None:
            assert consented == expect_consent, "consent page shown" if consented else "no page"
        q = redirect_params(r, params.get("redirect_uri"))
        assert "code" in q and "error" not in q, q
        assert q["iss"] == self.h.issuer, q
        assert q.get("state") == params.get("state"), (q, params)
        assert r.headers.get("Cache-Control") == "no-store", r.headers
        return {"code": q["code"], "verifier": verifier, "challenge": challenge,
                "state": params.get("state"), "nonce": params.get("nonce"),
                "redirect_uri": params.get("redirect_uri"), "params": params, "query": q,
                "client_id": client_id, "user": user}

    # -- /oauth/token
    def token(self, data, auth=None, headers=None, raw_body=None):
        """POST /oauth/token; auth: (id, secret) for client_secret_basic, or a raw header
        string for Authorization."""
        hdrs = dict(headers or {})
        kw = {}
        if isinstance(auth, tuple):
            kw["auth"] = auth
        elif isinstance(auth, str):
            hdrs["Authorization"] = auth
        body = raw_body if raw_body is not None else data
        return self.s.post(self.url("/oauth/token"), data=body, headers=hdrs,
                           allow_redirects=False, timeout=10, **kw)

    def redeem(self, g, auth="default", **override):
        """Redeems get_code()'s result the way its client authenticates."""
        cid = g["client_id"]
        info = CLIENTS.get(cid, {})
        data = {"grant_type": "authorization_code", "code": g["code"],
                "redirect_uri": g["redirect_uri"], "code_verifier": g["verifier"]}
        if auth == "default":
            if info.get("auth") == "client_secret_basic":
                auth = (cid, info["secret"])
            elif info.get("auth") == "client_secret_post":
                auth = None
                data["client_id"] = cid
                data["client_secret"] = info["secret"]
            else:
                auth = None
                data["client_id"] = cid
        data.update(override)
        data = {k: v for k, v in data.items() if v is not None}
        return self.token(data, auth=auth)

    # -- JWT
    def jwks(self):
        if self._jwks is None:
            r = self.s.get(self.url("/.well-known/jwks.json"), timeout=10)
            assert r.status_code == 200, r.text
            self._jwks = r.json()
        return self._jwks

    def verify_jwt(self, token, typ=None):
        """Verifies the compact JWS against the JWKS; returns (header, claims)."""
        parts = token.split(".")
        assert len(parts) == 3, token
        header, claims = common.jwt_header_payload(token, b64url_decode)
        sig = b64url_decode(parts[2])
        signed = (parts[0] + "." + parts[1]).encode()
        if typ is not None:
            assert header.get("typ") == typ, header
        keys = [k for k in self.jwks()["keys"] if k.get("kid") == header.get("kid")]
        assert len(keys) == 1, (header, self.jwks())
        verify_signature(keys[0], header["alg"], signed, sig)
        return header, claims


def _int(b64):
    return int.from_bytes(b64url_decode(b64), "big")


def verify_signature(jwk, alg, signed, sig):
    """Raises cryptography's InvalidSignature (or AssertionError) when sig does not verify."""
    kty = jwk["kty"]
    if alg == "ES256":
        assert kty == "EC" and jwk["crv"] == "P-256", jwk
        assert len(sig) == 64, len(sig)
        pub = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]),
                                            ec.SECP256R1()).public_key()
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                   int.from_bytes(sig[32:], "big"))
        pub.verify(der, signed, ec.ECDSA(hashes.SHA256()))
    elif alg == "RS256":
        assert kty == "RSA", jwk
        pub = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
        pub.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "EdDSA":
        assert kty == "OKP" and jwk["crv"] == "Ed25519", jwk
        ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(sig, signed)
    else:
        raise AssertionError(f"unexpected alg {alg}")


def at_hash(access_token, alg):
    """OIDC Core §3.1.3.6: left half of the hash of the ASCII access token."""
    h = {"ES256": hashlib.sha256, "RS256": hashlib.sha256, "EdDSA": hashlib.sha512}[alg]
    d = h(access_token.encode()).digest()
    return b64url(d[:len(d) // 2])


def basic(client_id, secret, encode=True):
    """An Authorization header value for client_secret_basic; RFC 6749 §2.3.1 form-encodes
    id and secret before base64."""
    if encode:
        client_id = urllib.parse.quote_plus(client_id, safe="")
        secret = urllib.parse.quote_plus(secret, safe="")
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# ---- raw HTTP -----------------------------------------------------------------------------

class RawResponse:
    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = headers          # http.client.HTTPMessage (case-insensitive get)
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


def tls_connect(h, timeout=10):
    ctx = ssl.create_default_context(cafile=h.ca)
    sock = socket.create_connection(("127.0.0.1", h.tls_port), timeout=timeout)
    return ctx.wrap_socket(sock, server_hostname="localhost")


def read_response(sock, method="GET"):
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    body = resp.read()
    return RawResponse(resp.status, resp.msg, body)


def raw_request(h, method, target, headers=(), body=b"", auth_user=None, timeout=10):
    """Sends bytes as given (target and header values are not re-encoded) on a fresh TLS
    connection and parses the answer. headers: list of (name, value) str/bytes pairs."""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(target, str):
        target = target.encode("utf-8", "surrogateescape")
    lines = [method.encode() + b" " + target + b" HTTP/1.1",
             b"Host: localhost:" + str(h.tls_port).encode(), b"Connection: close"]
    if auth_user:
        cred = f"{auth_user}:{USERS[auth_user]}".encode()
        lines.append(b"Authorization: Basic " + base64.b64encode(cred))
    names = set()
    for k, v in headers:
        k = k.encode() if isinstance(k, str) else k
        v = v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v
        names.add(k.lower())
        lines.append(k + b": " + v)
    if body or method in ("POST", "PUT", "PATCH"):
        if b"content-length" not in names and b"transfer-encoding" not in names:
            lines.append(b"Content-Length: " + str(len(body)).encode())
    data = b"\r\n".join(lines) + b"\r\n\r\n" + body
    with tls_connect(h, timeout) as s:
        s.sendall(data)
        return read_response(s, method)


def wait_until(pred, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


__all__ = ["Flow", "pkce_pair", "s256", "consent_form", "redirect_params", "assert_error_redirect",
           "assert_error_page", "assert_json_error", "verify_signature", "at_hash", "basic",
           "raw_request", "tls_connect", "read_response", "b64url", "b64url_decode", "session",
           "RFC7636_VERIFIER", "RFC7636_CHALLENGE", "ERROR_DESC_RE", "RESOURCE", "CLIENTS",
           "USERS", "wait_until", "parse_forms"]
