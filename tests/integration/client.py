"""The integration tests' client: what a test does as an OAuth client, as the user's browser
or as a resource server against one of its servers (harness.Httpd), each written once.

    g = get_code(h, "conf1")                 # /authorize as alice, consent approved: a Code
    r = redeem(h, g)                          # POST /oauth/token, the client's own authentication
    t = code_tokens(h, "conf1", "openid offline_access")   # both; the token JSON (200 asserted)
    r = refresh(h, "conf1", t["refresh_token"])
    ru = push_ok(h, "conf1", Pkce(), state="S1")           # POST /oauth/par: the request_uri
    r = approve(h, authorize(h, {"client_id": "conf1", "request_uri": ru}))

    c = Client(h)                             # the same bound to one server and one session:
    g = c.get_code("conf1")                   # c.authorize(params), c.decide(consent_form(r)),
    t = c.redeem(g)                           # c.push_ok(...), c.verify_jwt(token), ...

Clients are oauth_conf.CLIENTS plus those a test's own configuration adds (register()); each
authenticates its registered way (Basic, post or none) unless a call says otherwise: secret= or
method= (another secret or way), auth= (Basic pair or a whole Authorization header value) or
auth=None (no client authentication).  Sessions ignore the environment and verify TLS with the
server's certificate; a helper given no session opens its own and closes it (no idle
keep-alive connection holds one of a prefork server's few children).  Raw requests (bytes that
requests would re-encode) go through raw_request().
"""

import base64
import collections
import hashlib
import html.parser
import http.client
import json
import os
import re
import secrets
import socket
import ssl
import threading
import time
import urllib.parse

import requests

from oauth_conf import CLIENTS, USERS

# RFC 7636 Appendix B
RFC7636_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC7636_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

# RFC 6749 §5.2 / SECURITY.md U3: the characters of error_description
ERROR_DESC_RE = r"^[\x20-\x21\x23-\x5B\x5D-\x7E]*$"
DESC_RE = re.compile(ERROR_DESC_RE)
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
URN = "urn:ietf:params:oauth:request_uri:"
REQUEST_URI_RE = re.compile(r"^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43,}$")
JSON_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
               "unsupported_grant_type", "invalid_scope", "unsupported_response_type",
               "invalid_target", "request_not_supported", "invalid_request_uri",
               "temporarily_unavailable", "server_error", "invalid_redirect_uri",
               "invalid_request_object", "invalid_client_metadata", "invalid_token",
               "invalid_dpop_proof", "use_dpop_nonce",
               "access_denied",  # 403 of a registration over max-clients (oas_reg_policy.c)
               # RFC 8628 §3.5
               "authorization_pending", "slow_down", "expired_token"}

# pub1 (public, auth none) as the dbd and cluster tests use it, and their usual scope
PUB1 = {"client_id": "pub1", "redirect_uri": "https://spa.test/cb"}
OFFLINE = "openid offline_access"


def run_parallel(n, fn):
    """Runs fn(i) in n threads released together; returns the results (or exceptions)."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def work(i):
        try:
            barrier.wait(10)
            out[i] = fn(i)
        except Exception as e:  # reported by the caller's assertions
            out[i] = e

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [r for r in out if isinstance(r, Exception)]
    assert not errors, errors[:3]
    return out


# ---- base64url, PKCE, JWT, JWK ------------------------------------------------------------

def b64url(data):
    """base64url without padding (RFC 7515 §2) of bytes, as str."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    """Bytes of an unpadded base64url str (bytes are read the same way). A str with other
    than ASCII characters raises ValueError."""
    pad = "=" if isinstance(s, str) else b"="
    return base64.urlsafe_b64decode(s + pad * (-len(s) % 4))


def s256(verifier):
    """The S256 code_challenge of a verifier (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(verifier.encode()).digest())


class Pkce(collections.namedtuple("Pkce", "verifier challenge")):
    """A PKCE pair (RFC 7636): the given verifier or a 43-char one from 32 random bytes, and
    its S256 challenge; .verifier and .challenge, or unpacked as (verifier, challenge)."""

    def __new__(cls, verifier=None):
        verifier = verifier or b64url(secrets.token_bytes(32))
        return super().__new__(cls, verifier, s256(verifier))


def jwt_header_payload(token):
    """(header, payload) of a compact JWS as JSON, not verified."""
    parts = token.split(".")
    assert len(parts) == 3, token
    return json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))


def jwt_claims(token):
    """The payload of a compact JWS, not verified."""
    return jwt_header_payload(token)[1]


def jwt_parts(token):
    """(header, payload, signature bytes, signing input) of a compact JWS, not verified."""
    h, p, s = token.split(".")
    return (*jwt_header_payload(token), b64url_decode(s), f"{h}.{p}".encode())


def _int_b64u(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64url(n.to_bytes(length, "big"))


def _b64u_int(s):
    return int.from_bytes(b64url_decode(s), "big")


def public_jwk_members(pub):
    """The RFC 7638 required members of a public key (cryptography object)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if isinstance(pub, rsa.RSAPublicKey):
        n = pub.public_numbers()
        return {"e": _int_b64u(n.e), "kty": "RSA", "n": _int_b64u(n.n)}
    if isinstance(pub, ec.EllipticCurvePublicKey):
        n = pub.public_numbers()
        return {"crv": "P-256", "kty": "EC", "x": _int_b64u(n.x, 32), "y": _int_b64u(n.y, 32)}
    if isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    raise TypeError(pub)


def thumbprint(members):
    """RFC 7638: SHA-256 over the required members, sorted, no whitespace."""
    canon = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canon.encode()).digest())


def jwk_to_public(jwk):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if jwk["kty"] == "RSA":
        return rsa.RSAPublicNumbers(_b64u_int(jwk["e"]), _b64u_int(jwk["n"])).public_key()
    if jwk["kty"] == "EC":
        assert jwk["crv"] == "P-256", jwk
        return ec.EllipticCurvePublicNumbers(_b64u_int(jwk["x"]), _b64u_int(jwk["y"]),
                                             ec.SECP256R1()).public_key()
    if jwk["kty"] == "OKP":
        assert jwk["crv"] == "Ed25519", jwk
        return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    raise ValueError(jwk)


def verify_jws(token, jwks, typ=None):
    """Verifies a compact JWS with the JWKS key its kid names (raises cryptography's
    InvalidSignature, or AssertionError, when it does not verify); typ: the header's expected
    typ. Returns (header, payload, jwk)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    header, payload, sig, signing_input = jwt_parts(token)
    if typ is not None:
        assert header.get("typ") == typ, header
    matches = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    assert len(matches) == 1, (header, jwks)
    jwk = matches[0]
    assert header["alg"] == jwk["alg"], (header, jwk)
    pub = jwk_to_public(jwk)
    if header["alg"] == "ES256":
        assert jwk["kty"] == "EC", jwk
        assert len(sig) == 64, "ES256 signatures are raw r||s (RFC 7518 §3.4)"
        der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                         int.from_bytes(sig[32:], "big"))
        pub.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    elif header["alg"] == "RS256":
        assert jwk["kty"] == "RSA", jwk
        pub.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif header["alg"] == "PS256":
        assert jwk["kty"] == "RSA", jwk
        # RFC 7518 §3.5: MGF1-SHA-256 and a salt as long as the hash, nothing else
        pub.verify(sig, signing_input,
                   padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                   hashes.SHA256())
    elif header["alg"] == "EdDSA":
        assert jwk["kty"] == "OKP", jwk
        pub.verify(sig, signing_input)
    else:
        raise AssertionError(f"unexpected alg {header['alg']}")
    return header, payload, jwk


def at_hash(access_token, alg):
    """OIDC Core §3.1.3.6: left half of the hash of the ASCII access token."""
    h = {"ES256": hashlib.sha256, "RS256": hashlib.sha256, "PS256": hashlib.sha256,
         "EdDSA": hashlib.sha512}[alg]
    d = h(access_token.encode()).digest()
    return b64url(d[:len(d) // 2])


def load_private(path):
    from cryptography.hazmat.primitives import serialization
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def write_key(path, key):
    from cryptography.hazmat.primitives import serialization
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return path


# ---- DPoP proofs (RFC 9449) --------------------------------------------------------------

class DPoPKey:
    """A client's DPoP key (es256, rsa or ed25519) that makes proofs, right or wrong."""

    def __init__(self, kind="es256"):
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        self.kind = kind
        if kind == "es256":
            self.key, self.alg = ec.generate_private_key(ec.SECP256R1()), "ES256"
        elif kind == "rsa":
            self.key, self.alg = rsa.generate_private_key(65537, 2048), "PS256"
        else:
            self.key, self.alg = ed25519.Ed25519PrivateKey.generate(), "EdDSA"
        self.jwk = public_jwk_members(self.key.public_key())
        self.jkt = thumbprint(self.jwk)

    def sign(self, data, alg):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
        if alg == "ES256":
            r, s = utils.decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if alg == "PS256":
            return self.key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                   salt_length=32), hashes.SHA256())
        if alg == "RS256":
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if alg == "EdDSA":
            return self.key.sign(data)
        return b""

    def proof(self, htm, htu, at=None, nonce=None, drop=(), header=None, claims=None,
              alg=None, signer=None, sig=None):
        """A proof for htm htu (ath of at, nonce when given); drop: members to leave out
        ("typ", "jti", ...); header/claims: members to add or replace; signer: another key
        signs it (the jwk stays ours); sig: these signature bytes instead."""
        h = {"typ": "dpop+jwt", "alg": alg or self.alg, "jwk": self.jwk}
        c = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": int(time.time())}
        if at is not None:
            c["ath"] = b64url(hashlib.sha256(at.encode()).digest())
        if nonce is not None:
            c["nonce"] = nonce
        h.update(header or {})
        c.update(claims or {})
        for k in drop:
            h.pop(k, None)
            c.pop(k, None)
        si = (b64url(json.dumps(h, separators=(",", ":")).encode()) + "." +
              b64url(json.dumps(c, separators=(",", ":")).encode()))
        if sig is None:
            sig = (signer or self).sign(si.encode(), h.get("alg"))
        return si + "." + b64url(sig)


def private_jwk(key):
    """The jwk of an EC key with its private scalar d (what a proof must never carry)."""
    jwk = dict(key.jwk)
    jwk["d"] = b64url(key.key.private_numbers().private_value.to_bytes(32, "big"))
    return jwk


# ---- HTTP ---------------------------------------------------------------------------------

def session(h=None, keep_alive=True):
    """A requests.Session that ignores the environment (REQUESTS_CA_BUNDLE, proxies) and
    verifies TLS with h's generated certificate (h=None: requests' default trust);
    keep_alive=False: Connection: close on every request (an idle connection is what a
    graceful restart may close under a client, and under prefork it holds a child)."""
    s = requests.Session()
    s.trust_env = False
    if h is not None:
        s.verify = h.ca
    if not keep_alive:
        s.headers["Connection"] = "close"
    return s


def _send(h, sess, fn):
    """fn(session): with sess, or with a session of h's opened and closed around it."""
    if sess is not None:
        return fn(sess)
    with session(h) as s:
        return fn(s)


def basic(client_id, secret, encode=True):
    """An Authorization header value for client_secret_basic; RFC 6749 §2.3.1 form-encodes
    id and secret before base64."""
    if encode:
        client_id = urllib.parse.quote_plus(client_id, safe="")
        secret = urllib.parse.quote_plus(secret, safe="")
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# ---- clients and their authentication -----------------------------------------------------

_CLIENTS = {cid: dict(v) for cid, v in CLIENTS.items()}


def register(client_id, secret=None, auth="client_secret_basic", redirect_uris=()):
    """Make a client of a test's own configuration (standard_conf(h, extra=...)) known."""
    _CLIENTS[client_id] = {"secret": secret, "auth": auth if secret else "none",
                           "redirect_uris": list(redirect_uris)}


def client_redirect(client_id):
    """The first registered redirect URI of a known client."""
    return _CLIENTS[client_id]["redirect_uris"][0]


def client_auth(client_id, data, secret=None, method=None):
    """(form data, requests keywords) authenticating client_id its registered way (an unknown
    client: none). secret/method override the registered ones (wrong secrets, other ways);
    method "anonymous": no client authentication at all."""
    info = _CLIENTS.get(client_id, {"secret": None, "auth": "none"})
    secret = info["secret"] if secret is None else secret
    method = method or info["auth"]
    kw = {}
    if method == "client_secret_basic":
        kw["auth"] = (client_id, secret)
    elif method == "client_secret_post":
        data = {"client_id": client_id, "client_secret": secret, **data}
    elif method == "none":
        data = {"client_id": client_id, **data}
    return data, kw


def post(h, path, data, client_id=None, secret=None, method=None, auth=None, headers=None,
         sess=None, base=None, **kw):
    """POST a form to path (on base, default h.issuer). client_id authenticates its registered
    way (see client_auth); auth instead: an (id, secret) pair for Basic or a whole
    Authorization header value; neither: no client authentication. kw: requests' (timeout 10
    unless given; redirects are never followed)."""
    headers = dict(headers or {})
    if client_id is not None:
        data, akw = client_auth(client_id, data, secret, method)
        kw.update(akw)
    if isinstance(auth, tuple):
        kw["auth"] = auth
    elif isinstance(auth, str):
        headers["Authorization"] = auth
    kw.setdefault("timeout", 10)
    url = (base or h.issuer) + path
    return _send(h, sess, lambda s: s.post(url, data=data, headers=headers,
                                           allow_redirects=False, **kw))


def token(h, client_id, data, **kw):
    """POST /oauth/token (see post)."""
    return post(h, "/oauth/token", data, client_id, **kw)


def refresh(h, client_id, rt, scope=None, **kw):
    data = {"grant_type": "refresh_token", "refresh_token": rt}
    if scope is not None:
        data["scope"] = scope
    return token(h, client_id, data, **kw)


def revoke(h, client_id, tok, **kw):
    return post(h, "/oauth/revoke", {"token": tok}, client_id, **kw)


def introspect(h, tok, client_id="svc1", **kw):
    return post(h, "/oauth/introspect", {"token": tok}, client_id, **kw)


def client_credentials(h, client_id="svc1", **data):
    return token(h, client_id, {"grant_type": "client_credentials", **data})


def userinfo(h, at, sess=None, **kw):
    kw.setdefault("timeout", 10)
    return _send(h, sess, lambda s: s.get(h.issuer + "/userinfo",
                                          headers={"Authorization": f"Bearer {at}"}, **kw))


# ---- responses ----------------------------------------------------------------------------

def assert_json_error(r, status, error=None):
    """SECURITY.md §5.2 JE(status, error) + U3: a JSON object with a known error (this one
    when given) and error_description in the RFC charset, Cache-Control no-store, and Basic
    in WWW-Authenticate on a 401. Returns the body."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").split(";")[0] == "application/json", r.headers
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    body = json.loads(r.text)
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    assert body["error"] in JSON_ERRORS, body
    if error is not None:
        assert body["error"] == error, body
    assert DESC_RE.match(body.get("error_description", "")), body
    if status == 401:
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic"), r.headers
    return body


def is_error_page(r, status=400):
    """SECURITY.md §5.2 EP: the status, HTML, no Location, no Refresh, no meta refresh."""
    return (r.status_code == status
            and r.headers.get("Content-Type", "").startswith("text/html")
            and "Location" not in r.headers and "Refresh" not in r.headers
            and "http-equiv" not in r.text.lower())


def assert_error_page(r, status=400, mentions=None):
    """EP: an HTML error page, no Location, no refresh, no script redirect, no code; mentions:
    a text it must contain."""
    assert is_error_page(r, status), (r.status_code, dict(r.headers), r.text[:500])
    assert "<script" not in r.text.lower(), r.text
    assert "code=" not in r.text, r.text
    if mentions:
        assert mentions in r.text, r.text
    return r


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


def location_query(r):
    """(the URI without its query, redirect_params) of a redirect."""
    u = urllib.parse.urlsplit(r.headers.get("Location", ""))
    q = redirect_params(r)
    return f"{u.scheme}://{u.netloc}{u.path}", q


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
    assert re.match(ERROR_DESC_RE, q.get("error_description", "")), q
    return q


def callback(h, r, base=None):
    """The authorization response's parameters, with U4 checks (iss, no fragment, no-store);
    base: the redirect URI it must go to."""
    got, q = location_query(r)
    if base is not None:
        assert got == base, r.headers["Location"]
    assert q.get("iss") == h.issuer, q
    assert "no-store" in r.headers.get("Cache-Control", "")
    return q


def request_uri(r):
    """Checks a 201 PAR response (RFC 9126 §2.2, P01) and returns its request_uri."""
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert "no-store" in r.headers.get("Cache-Control", "")
    body = json.loads(r.text)
    assert set(body) == {"request_uri", "expires_in"}, body
    assert REQUEST_URI_RE.match(body["request_uri"]), body
    assert isinstance(body["expires_in"], int)
    return body["request_uri"]


# ---- HTML forms ---------------------------------------------------------------------------

class FormParser(html.parser.HTMLParser):
    """The forms of a page: [{"method", "action", "hidden": {name: value},
    "buttons": [(name, value)]}]; hidden inputs and buttons count only inside their <form>."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._cur = {"method": (a.get("method") or "").lower(),
                         "action": a.get("action"), "hidden": {}, "buttons": []}
            self.forms.append(self._cur)
            return
        if self._cur is None:
            return
        if tag == "input" and a.get("type") == "hidden":
            self._cur["hidden"][a.get("name")] = a.get("value")
        elif tag == "button":
            self._cur["buttons"].append((a.get("name"), a.get("value")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None


def parse_forms(text):
    """The forms of an HTML page (see FormParser)."""
    p = FormParser()
    p.feed(text)
    p.close()
    return p.forms


def consent_form(r):
    """The consent page's single POST form: {"action", "txn", "csrf", "hidden", "buttons"};
    asserts the page's shape (INTERFACE.md: 200 HTML, one form method=post with txn, csrf and
    the allow and deny buttons)."""
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:500])
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    forms = parse_forms(r.text)
    assert len(forms) == 1, forms
    f = forms[0]
    assert f["method"] == "post", f
    assert f["hidden"].get("txn") and f["hidden"].get("csrf"), f
    assert ("decision", "allow") in f["buttons"] and ("decision", "deny") in f["buttons"], f
    return {"action": f["action"], "txn": f["hidden"]["txn"], "csrf": f["hidden"]["csrf"],
            "hidden": dict(f["hidden"]), "buttons": f["buttons"]}


def is_consent_page(r):
    return r.status_code == 200 and 'name="txn"' in r.text


# ---- the browser: /authorize and the consent page -----------------------------------------

def _user_auth(user):
    return (user, USERS[user]) if user else None


def authz_params(client_id="conf1", redirect_uri="default", scope="openid api.read",
                     state=None, nonce=None, challenge=None, **extra):
    """Authorization parameters; redirect_uri=None omits it (default: the first registered
    URI), state=None makes a random one; extra: more parameters (None omits one)."""
    if redirect_uri == "default":
        redirect_uri = client_redirect(client_id)
    p = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
         "scope": scope, "state": state or b64url(os.urandom(9))}
    if nonce:
        p["nonce"] = nonce
    if challenge:
        p["code_challenge"] = challenge
        p["code_challenge_method"] = "S256"
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}


def authorize(h, params=None, user="alice", method="GET", raw_query=None, headers=None,
              data=None, sess=None, base=None, **kw):
    """GET (or another method with the parameters as a form) /authorize as `user` (None: no
    credentials). params may be a dict or a list of pairs; raw_query: a query string sent as
    is."""
    url = (base or h.issuer) + "/authorize"
    if raw_query is not None:
        url += "?" + raw_query
    kw.update(auth=_user_auth(user), headers=headers, allow_redirects=False)
    kw.setdefault("timeout", 10)
    if method == "GET":
        return _send(h, sess, lambda s: s.get(url, params=params, **kw))
    body = data if data is not None else params
    return _send(h, sess, lambda s: s.request(method, url, data=body, **kw))


def decide(h, form, decision="allow", user="alice", headers=None, drop=(), sess=None,
           base=None, **override):
    """POST a consent decision (consent_form()'s txn and csrf) to the form's action (the page
    URL when absent); override: fields to add or replace, drop: fields to leave out."""
    data = {"txn": form["txn"], "csrf": form["csrf"], "decision": decision}
    data.update(override)
    for k in drop:
        data.pop(k, None)
    url = urllib.parse.urljoin((base or h.issuer) + "/authorize", form.get("action") or "")
    return _send(h, sess, lambda s: s.post(url, data=data, auth=_user_auth(user),
                                           headers=headers, allow_redirects=False,
                                           timeout=10))


def approve(h, page, user="alice", sess=None, base=None):
    """Allow on a consent page: the redirect."""
    return decide(h, consent_form(page), "allow", user=user, sess=sess, base=base)


def authorize_and_approve(h, params=None, user="alice", method="GET", sess=None, base=None,
                          expect_consent=None):
    """/authorize with params, then allow on the consent page when one comes: the final
    response (normally the redirect); expect_consent: whether the page must (not) come."""
    def run(s):
        r = authorize(h, params, user=user, method=method, sess=s, base=base)
        consented = r.status_code == 200
        if expect_consent is not None:
            assert consented == expect_consent, ("consent page shown" if consented else
                                                 (r.status_code, r.text[:300]))
        return approve(h, r, user=user, sess=s, base=base) if consented else r
    return _send(h, sess, run)


def get_code(h, client_id="conf1", user="alice", method="GET", expect_consent=None, sess=None,
             base=None, issuer=None, **kw):
    """A code of client_id for `user`: /authorize with authz_params(client_id, **kw) and a
    fresh PKCE pair (and a nonce unless kw says), the consent approved when asked; the
    redirect checked (its URI, iss = issuer or base or h.issuer, state, no error, no-store;
    issuer: a node of a cluster answers with the cluster's issuer). Returns a Code, the dict
    {code, verifier, challenge, state, nonce, redirect_uri, params, query, client_id, user}."""
    p = Pkce()
    kw.setdefault("nonce", b64url(os.urandom(12)))
    params = authz_params(client_id=client_id, challenge=p.challenge, **kw)
    r = authorize_and_approve(h, params, user=user, method=method, sess=sess, base=base,
                              expect_consent=expect_consent)
    q = redirect_params(r, params.get("redirect_uri"))
    assert "code" in q and "error" not in q, q
    assert q["iss"] == (issuer or base or h.issuer), q
    assert q.get("state") == params.get("state"), (q, params)
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    return {"code": q["code"], "verifier": p.verifier, "challenge": p.challenge,
            "state": params.get("state"), "nonce": params.get("nonce"),
            "redirect_uri": params.get("redirect_uri"), "params": params, "query": q,
            "client_id": client_id, "user": user}


def code_of(h, params, user="alice", sess=None):
    """The code of /authorize with params as they are (consent approved when asked)."""
    q = redirect_params(authorize_and_approve(h, params, user=user, sess=sess))
    assert "code" in q, q
    return q["code"]


# ---- the client: PAR and the token endpoint -----------------------------------------------

def par_params(client, p=None, **params):
    """The usual pushed authorization parameters of client with PKCE pair p; a keyword None
    drops one."""
    out = {"response_type": "code", "redirect_uri": client_redirect(client),
           "scope": "openid profile", "state": "st-" + secrets.token_hex(6),
           "code_challenge": p.challenge if p else None,
           "code_challenge_method": "S256" if p else None}
    out.update(params)
    return {k: v for k, v in out.items() if v is not None}


def push(h, client, p=None, raw=False, sess=None, timeout=5, **params):
    """POST /oauth/par as client (its registered authentication) with par_params(p,
    **params), or with params alone when raw."""
    data = params if raw else par_params(client, p, **params)
    return post(h, "/oauth/par", data, client, sess=sess, timeout=timeout)


def push_ok(h, client, p=None, sess=None, timeout=5, **params):
    """A push that must succeed: the request_uri."""
    return request_uri(push(h, client, p, sess=sess, timeout=timeout, **params))


def codes_issued(h):
    """Authorization codes the server issued so far (its OAS00141 info lines)."""
    return h.error_log().count("OAS00141")


def redeem(h, g, verifier=None, client_id=None, auth="registered", secret=None, method=None,
           sess=None, base=None, timeout=10, headers=None, **fields):
    """POST an authorization code to /oauth/token. g: get_code()'s Code (its verifier, client
    and redirect_uri are the defaults) or a code string (then client_id's first redirect URI).
    The client authenticates its registered way (secret=, method= change it; see
    client_auth); auth= a Basic pair or Authorization header value instead, auth=None: none.
    fields: form fields to add or replace (code=, redirect_uri=, ...; None drops one)."""
    if isinstance(g, dict):
        code, verifier = g["code"], verifier or g["verifier"]
        client_id = client_id or g["client_id"]
        redirect_uri = g["redirect_uri"]
    else:
        code = g
        redirect_uri = client_redirect(client_id) if client_id in _CLIENTS else None
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    if auth == "registered":
        return token(h, client_id, data, secret=secret, method=method, sess=sess, base=base,
                     timeout=timeout, headers=headers)
    return token(h, None, data, auth=auth, sess=sess, base=base, timeout=timeout,
                 headers=headers)


def code_tokens(h, client_id, scope, user="alice", resource=None, sess=None):
    """A whole code flow; the token response's JSON (status 200 asserted)."""
    g = get_code(h, client_id, user=user, scope=scope, resource=resource, sess=sess)
    r = redeem(h, g, sess=sess)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def assert_healthy(h):
    """The server still answers the metadata and a token endpoint error normally."""
    r = session(h).get(h.issuer + "/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200 and r.json()["issuer"] == h.issuer
    assert_json_error(refresh(h, "conf1", "x" * 43), 400, "invalid_grant")


# ---- one client bound to a server and a session -------------------------------------------

class Client:
    """The helpers above bound to one server h, one session (its own unless given) and a
    default user; caches the server's JWKS."""

    def __init__(self, h, user="alice", sess=None):
        self.h = h
        self.user = user
        self.s = sess or session(h)
        self._jwks = None

    def url(self, path):
        return self.h.issuer + path

    def session(self):
        """Another session for the same server."""
        return session(self.h)

    def authorize(self, params=None, user="", **kw):
        return authorize(self.h, params, user=self.user if user == "" else user, sess=self.s,
                         **kw)

    def decide(self, form, decision="allow", user="", **kw):
        return decide(self.h, form, decision, user=self.user if user == "" else user,
                      sess=self.s, **kw)

    def authorize_uri(self, client_id, request_uri, extra=None, method="GET", user=""):
        """/authorize with a pushed request: client_id and request_uri (None leaves one out),
        then extra, all in the query (whatever the method)."""
        params = {"client_id": client_id, "request_uri": request_uri}
        params = {k: v for k, v in params.items() if v is not None}
        params.update(extra or {})
        return self.authorize(raw_query=urllib.parse.urlencode(params), method=method,
                              user=user)

    def authorize_uri_and_approve(self, client_id, request_uri):
        """authorize_uri, then allow on the consent page when one comes: the final response."""
        return self.authorize_and_approve({"client_id": client_id, "request_uri": request_uri})

    def approve(self, page):
        return approve(self.h, page, user=self.user, sess=self.s)

    def authorize_and_approve(self, params, user="", **kw):
        return authorize_and_approve(self.h, params, user=self.user if user == "" else user,
                                     sess=self.s, **kw)

    def authz_params(self, client_id="conf1", **kw):
        return authz_params(client_id, **kw)

    def get_code(self, client_id="conf1", user="", **kw):
        return get_code(self.h, client_id, user=self.user if user == "" else user,
                        sess=self.s, **kw)

    def callback(self, r, base=None):
        return callback(self.h, r, base)

    def par_params(self, client, p=None, **params):
        return par_params(client, p, **params)

    def push(self, client, p=None, raw=False, **params):
        return push(self.h, client, p, raw=raw, sess=self.s, **params)

    def push_ok(self, client, p=None, **params):
        return push_ok(self.h, client, p, sess=self.s, **params)

    def token(self, data, auth=None, headers=None, raw_body=None):
        """POST /oauth/token with no client authentication but auth (see post)."""
        return token(self.h, None, raw_body if raw_body is not None else data, auth=auth,
                     headers=headers, sess=self.s)

    def redeem(self, g, verifier=None, client_id=None, **kw):
        return redeem(self.h, g, verifier, client_id, sess=self.s, **kw)

    def jwks(self):
        if self._jwks is None:
            r = self.s.get(self.url("/.well-known/jwks.json"), timeout=10)
            assert r.status_code == 200, r.text
            self._jwks = r.json()
        return self._jwks

    def verify_jwt(self, token, typ=None):
        """Verifies a compact JWS against the server's JWKS; returns (header, claims)."""
        header, claims, _ = verify_jws(token, self.jwks(), typ)
        return header, claims


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


# ---- timed flows for the hardening tests --------------------------------------------------

def timed_flow(h, s, stats):
    """One fp1 flow and a replay, each request timed: records (kind, status or "conn:<error>",
    seconds) into stats; returns the redeem and replay outcomes (None when /authorize gave
    no code)."""
    def timed(kind, fn):
        t0 = time.monotonic()
        try:
            r = fn()
            stats.append((kind, r.status_code, time.monotonic() - t0))
            return r
        except requests.RequestException as e:
            stats.append((kind, "conn:" + type(e).__name__, time.monotonic() - t0))
            return None

    p = Pkce()
    params = {"response_type": "code", "client_id": "fp1", "redirect_uri": client_redirect("fp1"),
              "scope": "openid", "state": "s", "code_challenge": p.challenge,
              "code_challenge_method": "S256"}
    r = timed("authorize", lambda: authorize(h, params, sess=s))
    if r is None or r.status_code != 302:
        return None
    code = redirect_params(r)["code"]
    outcomes = []
    for kind in ("redeem", "replay"):
        r = timed(kind, lambda: redeem(h, code, p.verifier, "fp1", sess=s))
        outcomes.append(r.status_code if r is not None else "conn")
        if r is not None and r.status_code == 400:
            assert r.json()["error"] == "invalid_grant", r.text
    return outcomes
