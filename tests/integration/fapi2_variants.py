"""The two variants of the OpenID conformance suite's FAPI 2.0 plans that test_810 and test_815
run every module in: `private_key_jwt-dpop` (client assertions, DPoP-bound tokens, server
nonces for the first client, as the suite's Call...AllowingDpopNonceError steps expect) and
`mtls-mtls` (tls_client_auth, certificate-bound tokens). A Variant drives one fapi2 server of
its kind the way the suite does: two clients (the suite's client 1 and client 2), PAR, the
browser step, the token endpoint and userinfo, with the variant's client authentication and
holder-of-key proof added to each call."""

import json
import os
import re
import secrets
import time

from client import (Client, DPoPKey, callback, is_error_page, jwt_claims, location_query,
                    par_params, public_jwk_members, redirect_params, register, request_uri,
                    session)
from harness import Httpd, module_scoped
from mtls_pki import SUBJECT, VERIFY
from oauth_conf import standard_conf
from test_705_client_assertion import assertion, form, jwks_of, key
from test_720_request_object import sign

VARIANTS = ("private_key_jwt-dpop", "mtls-mtls")
DPOP_ONLY = ["private_key_jwt-dpop"]

REDIRECTS = {"fc1": "https://fc1.test/cb", "fc2": "https://fc2.test/cb",
             "fm1": "https://fm1.test/cb", "fm2": "https://fm2.test/cb"}
for _cid, _uri in REDIRECTS.items():
    register(_cid, redirect_uris=[_uri])

# RFC 9449 §8.1: DPoP-Nonce = 1*NQCHAR; NQCHAR = %x21 / %x23-5B / %x5D-7E
NONCE_RE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")

# Lifetimes short enough for the expiry modules to wait for, long enough for a flow (the suite
# requires PAR's expires_in >= 5; FAPI 2.0 a code lifetime <= 60 s).
CODE_LIFETIME = 6
REQUEST_URI_LIFETIME = 6

# TLS as FAPI 2.0 5.2.1-5.2.2 and BCP 195 (RFC 9325) want it, and as the suite's
# ensure-holder-of-key-required probes it: TLS 1.2 and 1.3 only, and on TLS 1.2 only the four
# recommended suites (mod_ssl's default HIGH:!aNULL also offers CBC suites, which the suite's
# RequireOnlyBCP195RecommendedCiphersForTLS12 fails). A deployment sets the same.
BCP195_TLS12 = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384")
FAPI_TLS = ("SSLProtocol -all +TLSv1.2 +TLSv1.3\n"
            f"SSLCipherSuite {':'.join(BCP195_TLS12)}\n"
            "SSLHonorCipherOrder on\n")

CLIENT = """
<OAuthASClient {cid}>
{auth}
    OAuthASRedirectURI {redirect}
    OAuthASScope openid profile offline_access
    OAuthASGrantType authorization_code refresh_token client_credentials
{more}
</OAuthASClient>
"""

_KEY2 = {}


def key2():
    """Client 2's own signing key (ES256, kid k2): no key of client 1."""
    if "k" not in _KEY2:
        from cryptography.hazmat.primitives.asymmetric import ec
        _KEY2["k"] = ec.generate_private_key(ec.SECP256R1())
    return _KEY2["k"]


# Client 1's keys: test_705's ES256 key (kid k-ES256) and an RS256 one (kid k-RS256), which the
# profile must refuse; client 2's: key2() (kid k2).
JWKS1 = jwks_of(("ES256", "RS256"))


def jwks2():
    return {"keys": [{**public_jwk_members(key2().public_key()), "kid": "k2", "alg": "ES256"}]}


def write_json(h, name, obj):
    path = h.path("conf", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


class Variant:
    """One variant's server and the suite's way of calling it."""

    def logged(self, since, tag):
        """Whether the error_log has a line with tag after offset since (len of the log)."""
        return tag in self.h.error_log()[since:]

    def __init__(self, name, pki, more_server=None, more_client="", jar=False, signed=False):
        self.name = name
        self.dpop = name.endswith("-dpop")
        self.pki = pki
        self.c1, self.c2 = ("fc1", "fc2") if self.dpop else ("fm1", "fm2")
        self.more_server = dict(more_server or {})
        self.more_client = more_client
        self.jar = jar or signed   # the clients have keys for request objects (mtls: a JWKS)
        self.signed = signed       # every push a request object, every response JARM
        self.nonces = {}           # "as" / "rs": the last DPoP-Nonce each side offered
        self.nonce_errors = 0      # use_dpop_nonce answers seen (and retried)
        self.h = None

    # -- configuration
    def conf(self, h):
        if self.dpop:
            pk = "    OAuthASClientJWKS \"{}\"\n    OAuthASAuthMethod private_key_jwt"
            j1 = write_json(h, "fc1.jwks.json", JWKS1)
            j2 = write_json(h, "fc2.jwks.json", jwks2())
            clients = (CLIENT.format(cid="fc1", auth=pk.format(j1), redirect=REDIRECTS["fc1"],
                                     more="    OAuthASDPoPNonce On\n" + self.more_client)
                       + CLIENT.format(cid="fc2", auth=pk.format(j2), redirect=REDIRECTS["fc2"],
                                       more=self.more_client))
            prefix = ""
        else:
            ca = self.pki.ca1["files"][0]
            tls = ("    OAuthASAuthMethod tls_client_auth\n    {}\n"
                   f'    OAuthASClientCertCA "{ca}"')
            more1 = more2 = self.more_client
            if self.jar:  # keys to sign request objects with: client 1's and client 2's
                more1 += f'\n    OAuthASClientJWKS "{write_json(h, "fm1.jwks.json", JWKS1)}"'
                more2 += f'\n    OAuthASClientJWKS "{write_json(h, "fm2.jwks.json", jwks2())}"'
            clients = (CLIENT.format(cid="fm1", redirect=REDIRECTS["fm1"], more=more1,
                                     auth=tls.format(f'OAuthASClientCertSubject "{SUBJECT}"'))
                       + CLIENT.format(cid="fm2", redirect=REDIRECTS["fm2"], more=more2,
                                       auth=tls.format("OAuthASClientCertSAN dns mtls2.example")))
            prefix = VERIFY
        server = {"OAuthASProfile": "fapi2", "OAuthASClientAuthFailureLimit": "0",
                  "OAuthASCodeLifetime": str(CODE_LIFETIME),
                  "OAuthASRequestURILifetime": str(REQUEST_URI_LIFETIME), **self.more_server}
        return FAPI_TLS + prefix + standard_conf(h, clients=False, extra=clients, **server)

    def redirect(self, cid=None):
        return REDIRECTS[cid or self.c1]

    def key(self, cid=None):
        """A holder-of-key of client cid: a fresh DPoP key, or the client's certificate."""
        if self.dpop:
            return DPoPKey()
        return self.pki.leaf if (cid or self.c1) == self.c1 else self.pki.san

    # -- DPoP nonces, as the suite's Call...AllowingDpopNonceError steps handle them
    def pick_nonce(self, r, side):
        """Records a DPoP-Nonce (a single 1*NQCHAR value); True when r asks for a retry."""
        nonce = r.headers.get("DPoP-Nonce")
        if nonce is not None:
            assert NONCE_RE.match(nonce) and "," not in nonce, repr(nonce)
            self.nonces[side] = nonce
        if r.status_code not in (400, 401):
            return False
        try:
            error = r.json().get("error")
        except ValueError:
            return False
        if error != "use_dpop_nonce":
            return False
        assert nonce is not None, ("use_dpop_nonce without a DPoP-Nonce", r.headers)
        if r.status_code == 401:
            www = r.headers.get("WWW-Authenticate", "")
            assert 'DPoP error="use_dpop_nonce"' in www, www
        self.nonce_errors += 1
        return True

    # -- the authorization server
    def auth_form(self, cid, auth):
        """Client authentication fields of the dpop variant: auth True (a good assertion), a
        dict (claims of the assertion to change, "kid"/"alg"/"k" too), a str (the assertion
        itself) or False (none)."""
        if auth is False:
            return {}
        if isinstance(auth, str):
            return form(auth)
        kw = dict(auth) if isinstance(auth, dict) else {}
        alg = kw.pop("alg", "ES256")
        if cid == "fc2":
            kw.setdefault("k", key2())
            kw.setdefault("kid", "k2")
        return form(assertion(self.h, cid, alg, **kw))

    def send(self, path, data, key, cid=None, auth=True, proof=None, headers=None,
             method="POST"):
        """A call of client cid to path (as a form) with its authentication (auth: see
        auth_form; mtls: the certificate `key` authenticates) and its holder-of-key: a DPoP
        proof of `key` (proof: a function nonce -> DPoP header value instead) or the
        certificate; key None: none. A use_dpop_nonce answer is retried once with the nonce."""
        cid = cid or self.c1
        url = self.h.issuer + path
        for _ in range(2):
            hd, data2, s = dict(headers or {}), dict(data), session(self.h)
            if self.dpop:
                data2.update(self.auth_form(cid, auth))
                if proof is not None:
                    hd["DPoP"] = proof(self.nonces.get("as"))
                elif key is not None:
                    hd["DPoP"] = key.proof(method, url, nonce=self.nonces.get("as"))
            else:
                data2["client_id"] = cid
                if key is not None:
                    s.cert = key["files"]
            with s:
                r = s.request(method, url, data=data2, headers=hd, allow_redirects=False,
                              timeout=10)
            if not self.pick_nonce(r, "as"):
                break
        return r

    def push(self, p, key, cid=None, auth=True, proof=None, form=None, **params):
        """PAR of client cid: par_params(p, **params) as the form, or, when the variant signs,
        inside a request object (`request`); form: fields beside them either way."""
        cid = cid or self.c1
        data = par_params(cid, p, **params)
        if self.signed:
            data = {"request": self.request_object(p, cid, **{**data, **params}),
                    "client_id": cid}
        return self.send("/oauth/par", {**data, **(form or {})}, key, cid, auth, proof)

    # -- signed requests and responses (the message-signing plan's signed + JARM variant)
    def request_object(self, p, cid=None, alg="ES256", signer=None, kid=None,
                       typ="oauth-authz-req+jwt", **claims):
        """A request object of client cid as the suite builds it (iss, aud, client_id, the
        authorization parameters of par_params, response_mode jwt, nbf now, exp in 5 minutes,
        a jti), signed with the client's key for alg (signer/kid: another key); claims change
        members (None drops one)."""
        cid = cid or self.c1
        now = int(time.time())
        c = {"iss": cid, "aud": self.h.issuer, "client_id": cid, **par_params(cid, p),
             "nonce": "n-" + secrets.token_hex(6), "response_mode": "jwt", "nbf": now,
             "exp": now + 300, "jti": secrets.token_urlsafe(12)}
        c.update(claims)
        c = {n: x for n, x in c.items() if x is not None}
        if alg == "none":
            return sign(None, "none", c, typ=typ)
        if signer is None:
            signer, kid = ((key2(), kid or "k2") if cid in ("fc2", "fm2")
                           else (key(alg), kid or f"k-{alg}"))
        return sign(signer, alg, c, kid=kid, typ=typ)

    def jarm(self, r, cid=None):
        """The claims of a JARM response: only `response` in the query, signed by the server,
        for the client, short-lived, with iss (only inside)."""
        assert r.status_code in (302, 303), (r.status_code, r.headers)
        got, q = location_query(r)
        assert got == self.redirect(cid) and set(q) == {"response"}, r.headers["Location"]
        _, claims = Client(self.h).verify_jwt(q["response"])
        assert claims["iss"] == self.h.issuer and claims["aud"] == (cid or self.c1), claims
        assert 0 < claims["exp"] - time.time() <= 600, claims
        return claims

    def callback(self, r, cid=None):
        """The authorization response's parameters (a JARM response's claims when the variant
        signs), with iss; a code comes with a 303 (FAPI2 5.3.2.2-10/11)."""
        if self.signed:
            q = self.jarm(r, cid)
        else:
            q = callback(self.h, r, base=self.redirect(cid))   # iss: FAPI2 5.3.2.2-7
        if "code" in q:
            assert r.status_code == 303, (r.status_code, r.headers)
        return q

    def request_uri(self, p, key, cid=None, **params):
        r = self.push(p, key, cid, **params)
        uri = request_uri(r)
        assert 5 <= r.json()["expires_in"] < 600, r.json()  # the suite; FAPI2 5.3.2.2-12
        return uri

    def browser(self, uri, cid=None, client=None):
        """/authorize with client_id and request_uri only, approved: the final response."""
        return (client or Client(self.h)).authorize_uri_and_approve(cid or self.c1, uri)

    def response(self, p, key, cid=None, **params):
        """The authorization response's parameters (a 303 with iss, to the client's URI)."""
        cid = cid or self.c1
        q = self.callback(self.browser(self.request_uri(p, key, cid, **params), cid), cid)
        assert q.get("code"), q
        return q

    def code(self, p, key, cid=None, **params):
        return self.response(p, key, cid, **params)["code"]

    def grant(self, code, p, cid=None):
        return {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect(cid), "code_verifier": p.verifier}

    def token(self, data, key, cid=None, **kw):
        return self.send("/oauth/token", data, key, cid, **kw)

    def assert_bound(self, r, key):
        """A 200 token answer (no-store) whose access token is bound to key."""
        assert r.status_code == 200, (r.status_code, r.text)
        assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
        t = r.json()
        cnf = jwt_claims(t["access_token"])["cnf"]
        if self.dpop:
            assert t["token_type"] == "DPoP" and cnf == {"jkt": key.jkt}, t
        else:
            assert t["token_type"] == "Bearer" and cnf == {"x5t#S256": key["x5t"]}, t
        assert isinstance(t.get("expires_in"), int), t
        return t

    def tokens(self, p, key, cid=None, **params):
        """A whole flow: the token answer (bound to key)."""
        r = self.token(self.grant(self.code(p, key, cid, **params), p, cid), key, cid)
        return self.assert_bound(r, key)

    # -- userinfo (the suite's protected resource in the OpenID variant)
    def userinfo(self, at, key, scheme=None, proof=None, headers=None):
        url = self.h.issuer + "/userinfo"
        for _ in range(2):
            s = session(self.h)
            hd = {"Authorization": f"{scheme or ('DPoP' if self.dpop else 'Bearer')} {at}",
                  **(headers or {})}
            if self.dpop and proof is not None:
                value = proof(self.nonces.get("rs"))
                if value is not None:
                    hd["DPoP"] = value
            elif self.dpop and key is not None:
                hd["DPoP"] = key.proof("GET", url, at, nonce=self.nonces.get("rs"))
            elif key is not None:
                s.cert = key["files"]
            with s:
                r = s.get(url, headers=hd, timeout=10)
            if not self.pick_nonce(r, "rs"):
                break
        return r


def handshake(h, low, high, ciphers=None):
    """A TLS handshake with h offering versions low..high (ssl.TLSVersion) and ciphers (an
    OpenSSL cipher string for TLS 1.2): (version, cipher name), or None when refused."""
    import socket
    import ssl
    import warnings
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version, ctx.maximum_version = low, high
    if ciphers:
        ctx.set_ciphers(ciphers)
    try:
        with socket.create_connection(("127.0.0.1", h.tls_port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                return t.version(), t.cipher()[0]
    except (ssl.SSLError, ConnectionError):
        return None


def assert_authorization_error(v, r, errors, cid=None):
    """What the suite's ...ExpectingAuthorizationEndpointPlaceholderOrCallback modules accept:
    an error page, or an error redirect (303 or 302) to the client with one of errors and
    iss. Returns the error ("page" for a page)."""
    if is_error_page(r, r.status_code) and 400 <= r.status_code < 500:
        return "page"
    if v.signed:
        q = v.jarm(r, cid)
        assert q.get("error") in errors and "code" not in q, (q, errors)
        return q["error"]
    q = redirect_params(r, base=v.redirect(cid))
    assert_error_response(v, q, errors)
    return q["error"]


# What an authorization error response may carry (the suite's
# CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint).
ERROR_RESPONSE_PARAMS = {"error", "error_description", "error_uri", "state", "session_state",
                         "iss"}


def assert_error_response(v, q, errors):
    """An authorization error response's parameters: one of errors, iss, nothing else but
    what the suite allows, error_description in its charset."""
    assert q.get("error") in errors, (q, errors)
    assert q.get("iss") == v.h.issuer and set(q) <= ERROR_RESPONSE_PARAMS, q
    desc = q.get("error_description", "")
    assert re.match(r"^[\x09\x0a\x0d\x20-\x21\x23-\x5b\x5d-\x7e]*$", desc), desc


def assert_par_error(r, errors=("invalid_request",)):
    """A PAR error: 400 (401 only for invalid_client) with a JSON error of errors."""
    assert r.status_code in (400, 401), (r.status_code, r.text)
    body = r.json()
    assert body.get("error") in errors, (body, errors)
    assert r.status_code == 400 or body["error"] == "invalid_client", (r.status_code, body)
    return body["error"]


def assert_token_error(r, errors, statuses=(400,)):
    """A token endpoint error: a status of statuses (401 also for invalid_client), JSON, one
    of errors, no-store, an error_description in the RFC 6749 charset."""
    body = r.json()
    ok = statuses + ((401,) if body.get("error") == "invalid_client" else ())
    assert r.status_code in ok, (r.status_code, r.text)
    assert body.get("error") in errors, (body, errors)
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    desc = body.get("error_description", "")
    assert re.match(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]*$", desc), desc
    return body["error"]


def variant_server(request, workdir_base, pki, tag, allowed, **variant_kw):
    """Starts the module-scoped server of variant request.param; yields the Variant; stops it
    and fails on error_log lines other than allowed (tags) at the end. Its workdir is kept
    on failure."""
    v = Variant(request.param, pki, **variant_kw)
    h = Httpd(os.path.join(workdir_base, f"{tag}-{request.param}"), v.conf)
    h.allow_log(*allowed)
    v.h = h
    for _ in module_scoped(request, h):
        yield v
