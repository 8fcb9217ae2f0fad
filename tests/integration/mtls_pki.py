"""Certificates for the mutual TLS tests (issue 17), made at test time with Python
`cryptography`, and the clients of the standard server that use them (test_770_mtls.py,
test_775_openid_client_mtls.py)."""

import base64
import datetime
import hashlib
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from client import b64url, public_jwk_members

VERIFY = "SSLVerifyClient optional_no_ca\nSSLVerifyDepth 5\n"
SUBJECT = r"CN=mtls client,O=Example\, Inc.,C=DE"


class Pki:
    """Keys and certificates of one test module, written as PEM files into a directory."""

    def __init__(self, d):
        self.d = d
        os.makedirs(d, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.start, self.end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)
        self.ca1 = self.cert("ca1", [(NameOID.ORGANIZATION_NAME, "Client CA")], ca=True)
        # the same name as ca1, another key: a CA the server might also trust
        self.ca2 = self.cert("ca2", [(NameOID.ORGANIZATION_NAME, "Client CA")], ca=True)
        name = [(NameOID.COUNTRY_NAME, "DE"), (NameOID.ORGANIZATION_NAME, "Example, Inc."),
                (NameOID.COMMON_NAME, "mtls client")]
        self.leaf = self.cert("leaf", name, issuer=self.ca1)
        self.spoof = self.cert("spoof", name, issuer=self.ca2)
        self.san = self.cert("san", [(NameOID.COMMON_NAME, "second client")], issuer=self.ca1,
                             dns="mtls2.example")
        self.self1 = self.cert("self1", [(NameOID.COMMON_NAME, "self-signed client")])
        self.self2 = self.cert("self2", [(NameOID.COMMON_NAME, "self-signed client")])
        # an intermediate under ca1 and a client under it (the client sends the intermediate)
        self.inter = self.cert("inter", [(NameOID.ORGANIZATION_NAME, "Client Sub CA")],
                               issuer=self.ca1, ca=True)
        self.deep = self.cert("deep", [(NameOID.COMMON_NAME, "third client")], issuer=self.inter,
                              uri="https://client3.example/app")
        self.deep_chain = dict(self.deep, files=(self.chain_file("deep", self.deep, self.inter),
                                                 self.deep["files"][1]))

    def chain_file(self, label, *certs):
        path = os.path.join(self.d, label + ".chain.pem")
        with open(path, "wb") as f:
            for c in certs:
                f.write(c["cert"].public_bytes(serialization.Encoding.PEM))
        return path

    def cert(self, label, name, issuer=None, ca=False, dns=None, uri=None):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(o, v) for o, v in name])
        ikey, iname = (issuer["key"], issuer["cert"].subject) if issuer else (key, subject)
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(iname)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(self.start).not_valid_after(self.end)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                critical=False)
        if dns or uri:
            san = [x509.DNSName(dns)] if dns else [x509.UniformResourceIdentifier(uri)]
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert = b.sign(ikey, hashes.SHA256())
        paths = (os.path.join(self.d, label + ".cert.pem"), os.path.join(self.d, label + ".key.pem"))
        with open(paths[0], "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(paths[1], "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        der = cert.public_bytes(serialization.Encoding.DER)
        return {"cert": cert, "key": key, "files": paths, "der": der,
                "x5t": b64url(hashlib.sha256(der).digest())}

    def jwks(self, *certs):
        keys = []
        for i, c in enumerate(certs):
            jwk = public_jwk_members(c["key"].public_key())
            jwk.update(kid=f"k{i}", x5c=[base64.b64encode(c["der"]).decode()])
            keys.append(jwk)
        path = os.path.join(self.d, "jwks.json")
        with open(path, "w") as f:
            json.dump({"keys": keys}, f)
        return path


def clients(pki):
    return f"""
<OAuthASClient mtls1>
    OAuthASAuthMethod tls_client_auth
    OAuthASClientCertSubject "{SUBJECT}"
    OAuthASClientCertCA "{pki.ca1['files'][0]}"
    OAuthASRedirectURI https://mtls.test/cb
    OAuthASScope openid api.read
    OAuthASGrantType authorization_code client_credentials
</OAuthASClient>
<OAuthASClient mtls2>
    OAuthASAuthMethod tls_client_auth
    OAuthASClientCertSAN dns mtls2.example
    OAuthASClientCertCA "{pki.ca1['files'][0]}"
    OAuthASScope api.read
    OAuthASGrantType client_credentials
</OAuthASClient>
<OAuthASClient mtls3>
    OAuthASAuthMethod tls_client_auth
    OAuthASClientCertSAN uri https://client3.example/app
    OAuthASClientCertCA "{pki.ca1['files'][0]}"
    OAuthASScope api.read
    OAuthASGrantType client_credentials
</OAuthASClient>
<OAuthASClient mtls4>
    OAuthASAuthMethod tls_client_auth
    OAuthASClientCertSAN uri https://client3.example/app
    OAuthASClientCertCA "{pki.chain_file('bundle', pki.ca1, pki.inter)}"
    OAuthASScope api.read
    OAuthASGrantType client_credentials
</OAuthASClient>
<OAuthASClient svcb>
    OAuthASClientSecret "svcb-secret-41d7e9"
    OAuthASCertBoundTokens On
    OAuthASScope api.read
    OAuthASGrantType client_credentials
</OAuthASClient>
<OAuthASClient pubm>
    OAuthASAuthMethod none
    OAuthASCertBoundTokens On
    OAuthASRedirectURI https://pubm.test/cb
    OAuthASScope openid offline_access
    OAuthASGrantType authorization_code refresh_token
</OAuthASClient>
<OAuthASClient self1>
    OAuthASAuthMethod self_signed_tls_client_auth
    OAuthASClientJWKS "{pki.jwks(pki.self1)}"
    OAuthASScope api.read
    OAuthASGrantType client_credentials
</OAuthASClient>
"""


def alias_vhost(h, port):
    """The OAuthASMTLSAlias host of server h: a TLS virtual host on its own port that asks
    for client certificates and serves h's issuer (no OAuthASIssuer of its own); sets
    h.alias to its URL. Returns the config text (OAuthASMTLSAlias goes at server level)."""
    h.alias = f"https://localhost:{port}"
    return (f"Listen 127.0.0.1:{port}\n<VirtualHost 127.0.0.1:{port}>\n"
            f"    ServerName localhost:{port}\n    SSLEngine on\n"
            f'    SSLCertificateFile "{h.ca}"\n    SSLCertificateKeyFile "{h.tls_key}"\n'
            f"    {VERIFY}</VirtualHost>\n")
