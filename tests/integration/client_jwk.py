"""Client keys for the tests of issue 15 (keys made with Python `cryptography`).

    key = ec.generate_private_key(ec.SECP256R1())
    pem, jwks = write_client_key(h, "pkjwt1", key, kid="pkjwt1-1", alg="ES256")
    # pem: the private key (PKCS#8 PEM) the client signs with; jwks: the JWK Set file of its
    # public half, for OAuthASClientJWKS

public_jwk(key, kid, alg) is the public JWK (RFC 7517/7518) of an EC P-256, RSA or Ed25519
private key, without any private member; rsa_private_jwk(key, kid) the whole private RSA JWK, for
a client that takes its key as a JWK (liboauth2's `jwk=` option).
"""

import base64
import json
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8 or 1, "big"))


def public_jwk(key, kid=None, alg=None):
    pub = key.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        num = pub.public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64u(num.x.to_bytes(32, "big")),
               "y": b64u(num.y.to_bytes(32, "big"))}
    elif isinstance(pub, rsa.RSAPublicKey):
        num = pub.public_numbers()
        jwk = {"kty": "RSA", "n": _uint(num.n), "e": _uint(num.e)}
    elif isinstance(pub, ed25519.Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    else:
        raise TypeError(f"no JWK for {type(key).__name__}")
    if kid is not None:
        jwk["kid"] = kid
    jwk["use"] = "sig"
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def rsa_private_jwk(key, kid=None):
    priv = key.private_numbers()
    jwk = public_jwk(key, kid)
    jwk.update(d=_uint(priv.d), p=_uint(priv.p), q=_uint(priv.q), dp=_uint(priv.dmp1),
               dq=_uint(priv.dmq1), qi=_uint(priv.iqmp))
    return jwk


def write_client_key(h, name, key, kid=None, alg=None):
    """conf/<name>.key.pem (PKCS#8) and conf/<name>.jwks.json of Httpd h: (pem, jwks) paths."""
    pem = h.path("conf", f"{name}.key.pem")
    with open(pem, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    jwks = h.path("conf", f"{name}.jwks.json")
    with open(jwks, "w") as f:
        json.dump({"keys": [public_jwk(key, kid, alg)]}, f)
    for path in (pem, jwks):
        os.chmod(path, 0o644)
    return pem, jwks


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)
