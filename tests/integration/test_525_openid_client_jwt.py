"""openid-client (npm, v6) with JWT client authentication and signed request objects (issue 15).

The node:test script tests/interop/openid-client-jwt.test.mjs runs against the standard server
with three more clients, whose keys this wrapper makes (Python `cryptography`) and whose public
halves it writes as OAuthASClientJWKS files:

- pkjwt1: `private_key_jwt`, an EC P-256 key (the library signs ES256 assertions),
- sjwt1: `client_secret_jwt` (HS256 with a 48-byte secret),
- jar1: `private_key_jwt` with an RSA key the library uses as PS256, and
  `OAuthASRequestObject Required`: every authorization request is a signed request object.

The script: discovery lists the methods and algorithms; `client.PrivateKeyJwt(key)` and
`client.ClientSecretJwt(secret)` each run PAR + PKCE + the code flow (ID token checked by the
library), a refresh, introspection and revocation, all authenticated by assertions; jar1 pushes
a request object (`buildAuthorizationUrlWithJAR` then `buildAuthorizationUrlWithPAR`) after its
unsigned push was refused, and sends one by value to /authorize; an assertion signed with a key
the server does not know, or an HS256 one with the wrong secret, gets 401 invalid_client.
openid-client puts the issuer in `aud`, as our strict default wants (no Legacy needed).
"""

import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from client_jwk import load_key, write_client_key
from harness import session_key
from interop_node import ensure_node_modules, run_node
from oauth_conf import USERS, standard_conf

SJWT_SECRET = "sjwt1-secret-5f0c7a19e2d84b36a1c0e9f7d2b5a843"   # client_secret_jwt: >= 32 bytes
PKJWT_REDIRECT = "https://pkjwt.test/cb"
SJWT_REDIRECT = "https://sjwt.test/cb"
JAR_REDIRECT = "https://jar.test/cb"


def jwt_clients(h, keys):
    """The three clients' blocks; their key files written into h's conf/ (every time the
    harness writes the configuration: the keys themselves are made once per test)."""
    h.pkjwt_pem, pkjwt_jwks = write_client_key(h, "pkjwt1", keys["pkjwt1"], kid="pkjwt1-es256",
                                               alg="ES256")
    h.jar_pem, jar_jwks = write_client_key(h, "jar1", keys["jar1"], kid="jar1-rsa")
    return f"""
<OAuthASClient pkjwt1>
    OAuthASClientJWKS "{pkjwt_jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASRedirectURI {PKJWT_REDIRECT}
    OAuthASScope openid offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
<OAuthASClient sjwt1>
    OAuthASClientSecret "{SJWT_SECRET}"
    OAuthASAuthMethod client_secret_jwt
    OAuthASRedirectURI {SJWT_REDIRECT}
    OAuthASScope openid offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
<OAuthASClient jar1>
    OAuthASClientJWKS "{jar_jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASRequestObject Required
    OAuthASRedirectURI {JAR_REDIRECT}
    OAuthASScope openid offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
"""


# OAS00134: each revocation of a refresh token family is logged at warning level; OAS06320 a
# verified request object, OAS06216 / OAS06212 the refused assertions (signature, HMAC).
@pytest.mark.expect_log("OAS00134", "OAS06320", "OAS06216", "OAS06212")
def test_openid_client_jwt(httpd_factory):
    ensure_node_modules()
    keys = {"pkjwt1": ec.generate_private_key(ec.SECP256R1()),
            "jar1": load_key(session_key("rsa"))}
    h = httpd_factory(lambda h: standard_conf(h, extra=jwt_clients(h, keys)))
    env = {
        "ISSUER": h.issuer,
        "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"],
        "PKJWT_CLIENT_ID": "pkjwt1", "PKJWT_KEY_FILE": h.pkjwt_pem, "PKJWT_KID": "pkjwt1-es256",
        "PKJWT_REDIRECT_URI": PKJWT_REDIRECT,
        "SJWT_CLIENT_ID": "sjwt1", "SJWT_SECRET": SJWT_SECRET, "SJWT_REDIRECT_URI": SJWT_REDIRECT,
        "JAR_CLIENT_ID": "jar1", "JAR_KEY_FILE": h.jar_pem, "JAR_KID": "jar1-rsa",
        "JAR_REDIRECT_URI": JAR_REDIRECT,
    }
    rc, out = run_node(["--test", "--test-reporter=spec", "openid-client-jwt.test.mjs"], env,
                       h.ca)
    print(out)
    assert rc == 0, f"node --test failed ({rc}):\n{out}"
    # Every test of the script ran and passed (a script that silently ran nothing fails here).
    assert re.search(r"^. pass 6$", out, re.M) and re.search(r"^. fail 0$", out, re.M), out
    log = h.error_log()
    # jar1's request objects were verified as PS256 with its key, at PAR and at /authorize
    assert len(re.findall(r"OAS06320: request object of client jar1 verified \(alg PS256, "
                          r"kid jar1-rsa\)", log)) >= 2, log[-3000:]
    # the refusals name the check, the client and the kid; the secret never reaches the log
    assert re.search(r"OAS06216: client pkjwt1: assertion signature \(ES256, kid pkjwt1-es256\)",
                     log)
    assert re.search(r"OAS06212: client sjwt1: assertion HMAC does not verify", log)
    assert SJWT_SECRET not in log
