"""openid-client v6 in its FAPI 2.0 configuration (issue 18) against a server with
`OAuthASProfile fapi2` and DPoP nonces: tests/interop/openid-client-fapi2.test.mjs runs
discovery, then private_key_jwt (ES256) + PAR with a DPoP proof + JARM (response_mode=jwt,
verified by the library) + the user's login and consent (a 303) + the token request (ID token
signature, nonce, at_hash) + userinfo and a refresh with the DPoP handle + a signed
introspection response (RFC 9701, verified by the library); and a token request with another
DPoP key than the push's, refused with invalid_grant without spending the code. The same
server asks for client certificates (optional_no_ca), and the mTLS variant runs too: a
tls_client_auth client (openid-client's TlsClientAuth, the certificate presented by a fetch over
node:https) with certificate-bound tokens, PAR + JARM + token + userinfo + refresh +
introspection, and a token request with a certificate of another CA refused (invalid_client)
without spending the code. And a client with `OAuthASProfile fapi2-message-signing`: its plain
push refused (invalid_request), then a request object pushed (buildAuthorizationUrlWithJAR, then
buildAuthorizationUrlWithPAR with a DPoP proof) and the signed response verified."""

import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from client_jwk import write_client_key
from interop_node import ensure_node_modules, run_node_tests
from mtls_pki import SUBJECT, VERIFY, Pki
from oauth_conf import USERS, standard_conf

REDIRECT = "https://fapi-rp.test/cb"
MTLS_REDIRECT = "https://fapi-mtls.test/cb"
MS_REDIRECT = "https://fapi-ms.test/cb"


def fapi2_conf(h, key, pki):
    pem, jwks = write_client_key(h, "fapi-rp", key, kid="fapi-rp-es256", alg="ES256")
    h.fapi_key = pem
    return VERIFY + standard_conf(h, clients=False, OAuthASProfile="fapi2", OAuthASDPoPNonce="On",
                         extra=f"""
<OAuthASClient fapi-rp>
    OAuthASClientJWKS "{jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASRedirectURI {REDIRECT}
    OAuthASScope openid profile offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
<OAuthASClient fapi-ms>
    OAuthASProfile fapi2-message-signing
    OAuthASClientJWKS "{jwks}"
    OAuthASAuthMethod private_key_jwt
    OAuthASRedirectURI {MS_REDIRECT}
    OAuthASScope openid profile offline_access
    OAuthASGrantType authorization_code
</OAuthASClient>
<OAuthASClient fapi-mtls>
    OAuthASAuthMethod tls_client_auth
    OAuthASClientCertSubject "{SUBJECT}"
    OAuthASClientCertCA "{pki.ca1['files'][0]}"
    OAuthASRedirectURI {MTLS_REDIRECT}
    OAuthASScope openid profile offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
""")


# OAS06412: use_dpop_nonce, met by the library's first request of each handle and endpoint;
# OAS06450: the token request with another key than the push's; OAS06503: the certificate of
# another CA
@pytest.mark.expect_log("OAS06503")
def test_openid_client_fapi2(httpd_factory, tmp_path_factory):
    ensure_node_modules()
    pki = Pki(str(tmp_path_factory.mktemp("pki")))
    key = ec.generate_private_key(ec.SECP256R1())
    h = httpd_factory(lambda h: fapi2_conf(h, key, pki))
    env = {
        "ISSUER": h.issuer, "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"],
        "FAPI_CLIENT_ID": "fapi-rp", "FAPI_KEY_FILE": h.fapi_key, "FAPI_KID": "fapi-rp-es256",
        "FAPI_REDIRECT_URI": REDIRECT,
        "MS_CLIENT_ID": "fapi-ms", "MS_REDIRECT_URI": MS_REDIRECT,
        "MTLS_CLIENT_ID": "fapi-mtls", "MTLS_REDIRECT_URI": MTLS_REDIRECT,
        "MTLS_CERT": pki.leaf["files"][0], "MTLS_KEY": pki.leaf["files"][1],
        "MTLS_X5T": pki.leaf["x5t"],
        "OTHER_CERT": pki.spoof["files"][0], "OTHER_KEY": pki.spoof["files"][1],
    }
    run_node_tests("openid-client-fapi2.test.mjs", env, h.ca, passed=6)
    log = h.error_log()
    assert "OAS06412" in log, log[-3000:]
    assert re.search(r"OAS06450: code of client fapi-rp: bound to a DPoP key, redeemed with a "
                     r"proof of another key", log), log[-3000:]
    for cid, binding in (("fapi-rp", "DPoP"), ("fapi-mtls", "certificate")):
        assert len(re.findall(rf"OAS00133: issued tokens to client {cid} for alice \(jti \S+, "
                              rf"{binding}-bound\)", log)) == 3, log[-3000:]
    assert re.search(r"OAS06320: request object of client fapi-ms verified \(alg ES256", log), log
    assert re.search(r"OAS06503: client fapi-mtls: certificate x5t#S256 "
                     + re.escape(pki.spoof["x5t"]), log), log[-3000:]
