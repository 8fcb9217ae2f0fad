"""Issue 15, client keys and signing algorithms in the configuration: OAuthASClientJWKS (a JWK
Set file read at start-up, or an https jwks_uri), OAuthASClientSigningAlgs and
OAuthASSigningKey's ALG. Every fault fails `apache2 -t` naming the directive and the reason;
a PS256 signing key issues tokens that verify with RSASSA-PSS."""

import json

import pytest

from client import Client, at_hash, load_private, public_jwk_members
from harness import Httpd, session_key
from oauth_conf import signing_key, standard_conf

CLIENT = """
<OAuthASClient partner>
    OAuthASClientSecret "partner-secret"
    OAuthASRedirectURI https://partner.test/cb
    OAuthASScope openid
    {jwks}
</OAuthASClient>
"""

_keys = {}


def key(kind):
    """A private key (cryptography), made once per session."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
    if kind not in _keys:
        _keys[kind] = {
            "ec": lambda: load_private(session_key("es256")),
            "rsa": lambda: load_private(session_key("rsa")),
            "ed": lambda: load_private(session_key("ed25519")),
            "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
            "rsa1024": lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
            "x25519": x25519.X25519PrivateKey.generate,
            "ec2": lambda: ec.generate_private_key(ec.SECP256R1()),
        }[kind]()
    return _keys[kind]


def jwk(kind, kid=None, **extra):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, x25519
    from client import _int_b64u, b64url
    pub = key(kind).public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp384r1":
        n = pub.public_numbers()
        members = {"kty": "EC", "crv": "P-384", "x": _int_b64u(n.x, 48),
                   "y": _int_b64u(n.y, 48)}
    elif isinstance(pub, x25519.X25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"kty": "OKP", "crv": "X25519", "x": b64url(raw)}
    else:
        members = public_jwk_members(pub)
    if kid is not None:
        members["kid"] = kid
    members.update(extra)
    return members


def configtest(tmp_path, client_lines="", server_lines="", files=None, signing=None):
    """apache2 -t of a server with one client holding client_lines; files: {name: text}
    written into conf/ (client_lines may name them as {conf}/name)."""
    h = Httpd(str(tmp_path / "srv"), "")
    for name, text in (files or {}).items():
        with open(h.path("conf", name), "w") as f:
            f.write(text)
    sk = signing or f'OAuthASSigningKey "{signing_key(h, "es256")}"'
    h.body = (f'OAuthASIssuer "https://as.test"\n{sk.format(conf=h.path("conf"))}\n'
              f"{server_lines}\n" + CLIENT.format(jwks=client_lines.format(conf=h.path("conf"))))
    return h.configtest()


def jwks_text(*keys):
    return json.dumps({"keys": list(keys)})


def assert_fails(rc_out, *fragments):
    rc, out = rc_out
    assert rc != 0, out
    assert "Syntax OK" not in out
    for f in fragments:
        assert f in out, f"{f!r} not in:\n{out}"
    return out


def assert_ok(rc_out):
    rc, out = rc_out
    assert rc == 0 and "Syntax OK" in out, out


def with_file(tmp_path, text, **kw):
    return configtest(tmp_path, 'OAuthASClientJWKS "{conf}/client.jwks"',
                      files={"client.jwks": text}, **kw)


# ---- OAuthASClientJWKS FILE -------------------------------------------------------------------

def test_jwks_file_accepted(tmp_path):
    text = jwks_text(jwk("ec", "e"), jwk("rsa", "r", alg="PS256", use="sig"), jwk("ed", "d"),
                     jwk("rsa", "x", use="enc"))
    assert_ok(with_file(tmp_path, text))


def test_jwks_file_single_key_needs_no_kid(tmp_path):
    assert_ok(with_file(tmp_path, jwks_text(jwk("ed"))))


@pytest.mark.parametrize("name,text,reason", [
    ("not_json", "{\"keys\":[", "not a JSON object"),
    ("not_a_set", json.dumps(jwk("ec", "e")), "no \"keys\" array"),
    ("empty", "", "not a JSON object"),
    ("private_ec", jwks_text(dict(jwk("ec", "e"), d="AAAA")), "a private key"),
    ("private_rsa", jwks_text(dict(jwk("rsa", "r"), p="AAAA", q="AAAA")), "a private key"),
    ("oct", jwks_text({"kty": "oct", "kid": "s", "k": "c2VjcmV0"}), "a private key"),
    ("oct_no_k", jwks_text({"kty": "oct", "kid": "s"}), "oct"),
    ("missing_kid", jwks_text(jwk("ec", "e"), jwk("ed")), "has no kid"),
    ("duplicate_kid", jwks_text(jwk("ec", "same"), jwk("ed", "same")), "used twice"),
    ("p384", jwks_text(jwk("p384", "p")), "not on curve P-256"),
    ("x25519", jwks_text(jwk("x25519", "x")), "not on curve Ed25519"),
    ("rsa1024", jwks_text(jwk("rsa1024", "small")), "RSA modulus of 1024 bits"),
    ("kty", jwks_text({"kty": "DSA", "kid": "d"}), "kty not RSA, EC or OKP"),
    ("alg_mismatch", jwks_text(jwk("ec", "e", alg="RS256")), "does not fit"),
    ("alg_none", jwks_text(jwk("ed", "d", alg="none")), "does not fit"),
    ("only_enc", jwks_text(jwk("rsa", "r", use="enc")), "no usable signing key"),
    ("too_many", jwks_text(*[jwk("ed", f"k{i}") for i in range(65)]), "more than 64 keys"),
])
def test_jwks_file_refused(tmp_path, name, text, reason):
    out = assert_fails(with_file(tmp_path, text), "OAuthASClientJWKS", "client.jwks", reason)
    # no key material in the message
    assert jwk("ec")["x"] not in out and jwk("rsa")["n"][:40] not in out


def test_jwks_file_missing(tmp_path):
    assert_fails(configtest(tmp_path, 'OAuthASClientJWKS "{conf}/nowhere.jwks"'),
                 "OAuthASClientJWKS", "cannot open", "nowhere.jwks")


def test_jwks_file_over_64k(tmp_path):
    text = jwks_text(jwk("ec", "e")) + " " * 65536
    assert_fails(with_file(tmp_path, text), "OAuthASClientJWKS", "over 64 KiB")


def test_jwks_given_twice(tmp_path):
    files = {"a.jwks": jwks_text(jwk("ec", "e"))}
    assert_fails(configtest(tmp_path, 'OAuthASClientJWKS "{conf}/a.jwks"\n'
                            '    OAuthASClientJWKS https://partner.test/jwks', files=files),
                 "OAuthASClientJWKS", "given twice")


def test_jwks_outside_client_block(tmp_path):
    files = {"a.jwks": jwks_text(jwk("ec", "e"))}
    assert_fails(configtest(tmp_path, server_lines='OAuthASClientJWKS "{conf}/a.jwks"',
                            files=files),
                 "OAuthASClientJWKS")


# ---- OAuthASClientJWKS URL --------------------------------------------------------------------

def test_jwks_uri_https_accepted(tmp_path):
    assert_ok(configtest(tmp_path, "OAuthASClientJWKS https://partner.test:8443/keys.json"))


@pytest.mark.parametrize("url,reason", [
    ("http://partner.test/jwks", "must use https"),
    ("HTTP://partner.test/jwks", "must use https"),
    ("ftp://partner.test/jwks", "must use https"),
    ("https://", "not a valid https URL"),
    ("https://user:pw@partner.test/jwks", "not a valid https URL"),
    ("https://partner.test/jwks#frag", "not a valid https URL"),
])
def test_jwks_uri_refused(tmp_path, url, reason):
    assert_fails(configtest(tmp_path, f'OAuthASClientJWKS "{url}"'), "OAuthASClientJWKS", reason)


# ---- OAuthASClientSigningAlgs ---------------------------------------------------------------

@pytest.mark.parametrize("algs", ["PS256", "ES256 EdDSA", "PS256 ES256 EdDSA RS256"])
def test_signing_algs_accepted(tmp_path, algs):
    assert_ok(configtest(tmp_path, server_lines=f"OAuthASClientSigningAlgs {algs}"))


@pytest.mark.parametrize("alg,reason", [
    ("none", "unsigned JWTs are never accepted"),
    ("HS256", "a MAC is not a signature"),
    ("HS512", "a MAC is not a signature"),
    ("RS512", "unknown algorithm"),
    ("es256", "unknown algorithm"),
])
def test_signing_algs_refused(tmp_path, alg, reason):
    assert_fails(configtest(tmp_path, server_lines=f"OAuthASClientSigningAlgs PS256 {alg}"),
                 "OAuthASClientSigningAlgs", alg, reason)


def test_signing_algs_second_line_replaces_the_first(tmp_path):
    """Written twice, the directive's second line replaces the first (as httpd's own list
    directives do), it does not add to it: with only an ES256 key, ES256 then PS256 leaves
    PS256 alone, which no key of the client can verify."""
    text = jwks_text(jwk("ec", "e"))
    assert_ok(with_file(tmp_path, text, server_lines="OAuthASClientSigningAlgs PS256\n"
                                                      "OAuthASClientSigningAlgs ES256"))
    assert_fails(with_file(tmp_path, text, server_lines="OAuthASClientSigningAlgs ES256\n"
                                                         "OAuthASClientSigningAlgs PS256"),
                 "OAuthASClientJWKS in <OAuthASClient partner>",
                 "no key for an algorithm of OAuthASClientSigningAlgs")


def test_jwks_needs_a_key_for_an_accepted_alg(tmp_path):
    text = jwks_text(jwk("ec", "e"), jwk("rsa", "r", alg="RS256"))
    assert_fails(with_file(tmp_path, text, server_lines="OAuthASClientSigningAlgs PS256 EdDSA"),
                 "OAuthASClientJWKS in <OAuthASClient partner>",
                 "no key for an algorithm of OAuthASClientSigningAlgs")
    assert_ok(with_file(tmp_path, text, server_lines="OAuthASClientSigningAlgs PS256 ES256"))


def test_signing_algs_server_only(tmp_path):
    assert_fails(configtest(tmp_path, "OAuthASClientSigningAlgs PS256"),
                 "OAuthASClientSigningAlgs")


# ---- OAuthASSigningKey FILE [KID] [ALG] -----------------------------------------------------

@pytest.mark.parametrize("kind,args,ok,reason", [
    ("rsa", '"" PS256', True, None),
    ("rsa", "rsa-ps PS256", True, None),
    ("rsa", "rsa-rs RS256", True, None),
    ("es256", "ec ES256", True, None),
    ("ed25519", "ed EdDSA", True, None),
    ("es256", "ec PS256", False, "cannot sign PS256"),
    ("rsa", "r ES256", False, "cannot sign ES256"),
    ("ed25519", "d RS256", False, "cannot sign RS256"),
    ("rsa", "r HS256", False, "unknown algorithm 'HS256'"),
    ("rsa", "r PS512", False, "unknown algorithm 'PS512'"),
])
def test_signing_key_alg(tmp_path, kind, args, ok, reason):
    h = Httpd(str(tmp_path / "keys"), "")
    path = signing_key(h, kind)
    rc_out = configtest(tmp_path, signing=f'OAuthASSigningKey "{path}" {args}')
    if ok:
        assert_ok(rc_out)
    else:
        assert_fails(rc_out, "OAuthASSigningKey", reason)


# ---- a PS256 signing key at work ------------------------------------------------------------

def test_ps256_tokens(httpd_factory):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from client import jwt_parts

    def conf(h):
        return standard_conf(h, keys=()) + \
            f'OAuthASSigningKey "{signing_key(h, "rsa")}" rsa-pss PS256\n'

    oas = httpd_factory(conf)
    f = Client(oas)
    jwks = f.jwks()
    assert [(k["kid"], k["alg"], k["kty"]) for k in jwks["keys"]] == [("rsa-pss", "PS256", "RSA")]
    meta = f.s.get(f.url("/.well-known/openid-configuration"), timeout=10).json()
    assert meta["id_token_signing_alg_values_supported"] == ["PS256"]
    g = f.get_code("conf1", scope="openid api.read")
    r = f.redeem(g)
    assert r.status_code == 200, r.text
    t = r.json()
    for tok, typ in ((t["access_token"], "at+jwt"), (t["id_token"], "JWT")):
        header, claims = f.verify_jwt(tok, typ)  # PSS, MGF1-SHA-256, salt 32
        assert header["alg"] == "PS256" and header["kid"] == "rsa-pss"
        # a PKCS#1 v1.5 verifier does not accept it: it really is PSS
        _, _, sig, signing_input = jwt_parts(tok)
        pub = load_private(session_key("rsa")).public_key()
        with pytest.raises(Exception):
            pub.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
    assert f.verify_jwt(t["id_token"])[1]["at_hash"] == at_hash(t["access_token"], "PS256")
    # the access token it issued is accepted back (userinfo verifies it)
    ui = f.s.get(f.url("/userinfo"),
                         headers={"Authorization": f"Bearer {t['access_token']}"}, timeout=10)
    assert ui.status_code == 200, ui.text
