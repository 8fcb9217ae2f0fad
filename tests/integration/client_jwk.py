"""Client key files for the interop tests of issue 15 (keys made with Python `cryptography`).

    key = ec.generate_private_key(ec.SECP256R1())
    pem, jwks = write_client_key(h, "pkjwt1", key, kid="pkjwt1-1", alg="ES256")
    # pem: the private key (PKCS#8 PEM) the client signs with; jwks: the JWK Set file of its
    # public half, for OAuthASClientJWKS

rsa_private_jwk(key, kid) is the whole private RSA JWK, for a client that takes its key as a
JWK (liboauth2's `jwk=` option).
"""

import json
import os

from cryptography.hazmat.primitives import serialization

from client import _int_b64u, public_jwk_members


def public_jwk(key, kid=None, alg=None):
    jwk = dict(public_jwk_members(key.public_key()), use="sig")
    if kid is not None:
        jwk["kid"] = kid
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def rsa_private_jwk(key, kid=None):
    priv = key.private_numbers()
    return dict(public_jwk(key, kid), d=_int_b64u(priv.d), p=_int_b64u(priv.p),
                q=_int_b64u(priv.q), dp=_int_b64u(priv.dmp1), dq=_int_b64u(priv.dmq1),
                qi=_int_b64u(priv.iqmp))


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
