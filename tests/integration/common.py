"""Primitives the integration tests' helper modules (flow2/3/4/6) and tests share, so that
each is written once."""

import base64
import hashlib
import html.parser
import json
import secrets
import threading

import requests


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


# ---- base64url, PKCE, JWT -----------------------------------------------------------------

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


def pkce_pair():
    """(verifier, challenge): a 43-char verifier from 32 random bytes and its S256 challenge."""
    verifier = b64url(secrets.token_bytes(32))
    return verifier, s256(verifier)


def jwt_header_payload(token, decode=b64url_decode):
    """(header, payload) of a compact JWS as JSON, not verified; a token of other than three
    parts raises ValueError."""
    h, p, _ = token.split(".")
    return json.loads(decode(h)), json.loads(decode(p))


# ---- HTTP ---------------------------------------------------------------------------------

def session(h=None):
    """A requests.Session that ignores the environment (REQUESTS_CA_BUNDLE, proxies) and
    verifies TLS with h's generated certificate (h=None: requests' default trust)."""
    s = requests.Session()
    s.trust_env = False
    if h is not None:
        s.verify = h.ca
    return s


# ---- HTML forms ---------------------------------------------------------------------------

class FormParser(html.parser.HTMLParser):
    """The forms of a page: [{"method", "action", "hidden": {name: value},
    "buttons": [(name, value)]}], in two readings, as the helper modules wrote them:
    scoped=True (flow3): hidden inputs and buttons count only inside an open <form>, the type
        must be "hidden" as written, a missing method reads "" and a missing value None;
    scoped=False (flow4): they count after the last <form> opened, wherever, the type in any
        case, a missing method reads "get" and a missing value "".
    """

    def __init__(self, scoped=True):
        super().__init__()
        self.scoped = scoped
        self.forms = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            default = "" if self.scoped else "get"
            self._cur = {"method": (a.get("method") or default).lower(),
                         "action": a.get("action"), "hidden": {}, "buttons": []}
            self.forms.append(self._cur)
            return
        cur = self._cur if self.scoped else (self.forms[-1] if self.forms else None)
        if cur is None:
            return
        kind = a.get("type") or ""
        if tag == "input" and (kind if self.scoped else kind.lower()) == "hidden":
            value = a.get("value")
            cur["hidden"][a.get("name")] = value if self.scoped else (value or "")
        elif tag == "button":
            cur["buttons"].append((a.get("name"), a.get("value")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None


def parse_forms(text, scoped=True):
    """The forms of an HTML page (see FormParser)."""
    p = FormParser(scoped)
    p.feed(text)
    p.close()
    return p.forms
