"""Small helpers for the foundation tests (test_010..040): sessions, PKCE, a code flow for
the first-party client fp1 (consent Off), JWS verification against a JWKS, and configtest."""

import hashlib
import json
import os
import secrets
from urllib.parse import parse_qs, urlsplit

from common import b64url as b64u
from common import b64url_decode as b64u_dec
from common import jwt_header_payload, pkce_pair, session  # noqa: F401 (re-exported)
from oauth_conf import CLIENTS, USERS


def get_code(h, client_id="fp1", redirect_uri=None, scope="openid", base=None, user="alice",
             sess=None, extra=None):
    """GET /authorize as `user` for a consent-Off client; returns (code, verifier, query)."""
    base = base or h.issuer
    redirect_uri = redirect_uri or CLIENTS[client_id]["redirect_uris"][0]
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": scope, "state": secrets.token_hex(8), "nonce": secrets.token_hex(8),
              "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(extra or {})
    s = sess or session(h)
    r = s.get(base + "/authorize", params=params, auth=(user, USERS[user]),
              allow_redirects=False, timeout=10)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    loc = r.headers["Location"]
    assert loc.startswith(redirect_uri), loc
    q = {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}
    assert q.get("state") == params["state"], q
    assert "code" in q, q
    return q["code"], verifier, q


def redeem(h, code, verifier, client_id="fp1", secret=None, redirect_uri=None, base=None,
           sess=None, timeout=10):
    """POST the code to /oauth/token with Basic client authentication; the response."""
    base = base or h.issuer
    secret = CLIENTS[client_id]["secret"] if secret is None else secret
    redirect_uri = redirect_uri or CLIENTS[client_id]["redirect_uris"][0]
    s = sess or session(h)
    return s.post(base + "/oauth/token",
                  data={"grant_type": "authorization_code", "code": code,
                        "redirect_uri": redirect_uri, "code_verifier": verifier},
                  auth=(client_id, secret), allow_redirects=False, timeout=timeout)


def jwt_parts(token):
    """(header, payload, signature bytes, signing input) of a compact JWS, not verified."""
    h, p, s = token.split(".")
    return (*jwt_header_payload(token), b64u_dec(s), f"{h}.{p}".encode())


# ---- JWK ----------------------------------------------------------------------------------

def _int_b64u(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(length, "big"))


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
        return {"crv": "Ed25519", "kty": "OKP", "x": b64u(raw)}
    raise TypeError(pub)


def thumbprint(members):
    """RFC 7638: SHA-256 over the required members, sorted, no whitespace."""
    canon = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64u(hashlib.sha256(canon.encode()).digest())


def jwk_to_public(jwk):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if jwk["kty"] == "RSA":
        return rsa.RSAPublicNumbers(int.from_bytes(b64u_dec(jwk["e"]), "big"),
                                    int.from_bytes(b64u_dec(jwk["n"]), "big")).public_key()
    if jwk["kty"] == "EC":
        assert jwk["crv"] == "P-256"
        return ec.EllipticCurvePublicNumbers(int.from_bytes(b64u_dec(jwk["x"]), "big"),
                                             int.from_bytes(b64u_dec(jwk["y"]), "big"),
                                             ec.SECP256R1()).public_key()
    if jwk["kty"] == "OKP":
        assert jwk["crv"] == "Ed25519"
        return ed25519.Ed25519PublicKey.from_public_bytes(b64u_dec(jwk["x"]))
    raise ValueError(jwk)


def verify_jws(token, jwks):
    """Verify a compact JWS with the JWKS key its kid names (raises on a bad signature);
    returns (header, payload, jwk)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    header, payload, sig, signing_input = jwt_parts(token)
    matches = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert len(matches) == 1, (header, jwks)
    jwk = matches[0]
    assert header["alg"] == jwk["alg"], (header, jwk)
    pub = jwk_to_public(jwk)
    if header["alg"] == "ES256":
        assert len(sig) == 64, "ES256 signatures are raw r||s (RFC 7518 §3.4)"
        der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                         int.from_bytes(sig[32:], "big"))
        pub.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    elif header["alg"] == "RS256":
        pub.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif header["alg"] == "EdDSA":
        pub.verify(sig, signing_input)
    else:
        raise AssertionError(f"unexpected alg {header['alg']}")
    return header, payload, jwk


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
