"""A client's keys from an https jwks_uri (issue 15: OAuthASClientJWKS https://...,
OAuthASCACertificateFile, OAuthASOutboundAllow). A real local https server, its certificate
from a test CA made here, serves the JWK Sets and counts the requests; private_key_jwt
clients authenticate at the introspection endpoint with assertions signed here. What is
checked: one fetch for many requests over both children, key rotation (one refetch), an
unknown kid refetching at most once per 60 s, a server down or hanging (401 invalid_client,
fast, no 5xx, other requests unaffected), documents refused (private key, not JSON, wrong
status, too big, a redirect), loopback refused without OAuthASOutboundAllow, a certificate of
another CA refused, and the configuration faults at `apache2 -t`."""

import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from client import (assert_healthy, assert_json_error, post, public_jwk_members, run_parallel,
                    session)
from harness import Httpd, free_port, session_dir
from oauth_conf import standard_conf
from test_705_client_assertion import _gen, assertion, form, jwks_of

CLIENT = """
<OAuthASClient {cid}>
    OAuthASClientJWKS {url}
    OAuthASAuthMethod private_key_jwt
    OAuthASRedirectURI https://{cid}.test/cb
    OAuthASScope openid
</OAuthASClient>
"""


# ---- a test CA and the https server it certifies ---------------------------------------------

def _tls_material(name):
    """(CA certificate, leaf certificate, leaf key) PEM paths: a CA named name and a leaf of it
    for localhost and 127.0.0.1, made once per session."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    paths = tuple(os.path.join(session_dir(), f"{name}.{p}.pem") for p in ("ca", "cert", "key"))
    if all(os.path.exists(p) for p in paths):
        return paths
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    blobs = (ca.public_bytes(pem), leaf.public_bytes(pem),
             leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    for path, blob in zip(paths, blobs):
        with open(path + ".tmp", "wb") as f:
            f.write(blob)
        os.replace(path + ".tmp", path)
    return paths


class JwksServer:
    """https on 127.0.0.1 with a leaf of the "jwks" test CA. docs: path -> (status, content
    type, body bytes, extra headers, seconds to wait before answering); count: path -> GET
    requests received."""

    def __init__(self):
        _, cert, key = _tls_material("jwks")
        self.docs = {}
        self.count = {}
        self.lock = threading.Lock()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with srv.lock:
                    srv.count[self.path] = srv.count.get(self.path, 0) + 1
                    status, ctype, body, headers, delay = srv.docs.get(
                        self.path, (404, "text/plain", b"no", {}, 0))
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for n, v in headers.items():
                    self.send_header(n, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"https://localhost:{self.port}{path}"

    def serve(self, path, doc, status=200, ctype="application/json", headers=None, delay=0):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        with self.lock:
            self.docs[path] = (status, ctype, body, headers or {}, delay)

    def fetched(self, path):
        with self.lock:
            return self.count.get(path, 0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server():
    s = JwksServer()
    yield s
    s.close()


def make_conf(clients, ca="jwks", allow="127.0.0.1 localhost", sqlite=None):
    """A config body: the standard one plus private_key_jwt clients {id: jwks_uri}; ca: the
    test CA whose certificate OAuthASCACertificateFile names (None: the system's); sqlite:
    OAuthASStore dbd on that SQLite file (a callable(h) -> path: nodes may share one)."""
    def body(h):
        overrides = {"OAuthASClientAuthFailureLimit": "0"}
        db = ""
        if sqlite:
            overrides["OAuthASStore"] = "dbd"
            db = f'DBDriver sqlite3\nDBDParams "{sqlite(h)}"\nDBDMin 0\n'

        if ca:
            path = h.path("conf", f"{ca}-ca.pem")
            shutil.copyfile(_tls_material(ca)[0], path)  # the children read it (as nobody)
            overrides["OAuthASCACertificateFile"] = f'"{path}"'
        if allow:
            overrides["OAuthASOutboundAllow"] = allow
        extra = "".join(CLIENT.format(cid=c, url=u) for c, u in clients.items())
        return standard_conf(h, extra=extra + db, **overrides)
    return body


def authenticate(h, cid, sess=None, **kw):
    """Introspection with a private_key_jwt assertion of client cid (ES256, kid k-ES256 unless
    kw says otherwise): 200 when the client authenticated."""
    data = {"token": "x" * 43, **form(assertion(h, client=cid, **kw))}
    return post(h, "/oauth/introspect", data, sess=sess)


def assert_refused(h, r, tag):
    assert_json_error(r, 401, "invalid_client")
    return h.wait_log(tag)


# ---- the cache ----------------------------------------------------------------------------

def test_one_fetch_for_many_requests_over_both_children(httpd_factory, jwks_server):
    jwks_server.serve("/jwks", jwks_of(("ES256",)))
    h = httpd_factory(make_conf({"uri1": jwks_server.url("/jwks")}))

    def one(i):
        with session(h, keep_alive=False) as s:
            return authenticate(h, "uri1", sess=s).status_code

    assert run_parallel(24, one) == [200] * 24
    assert run_parallel(24, one) == [200] * 24
    assert jwks_server.fetched("/jwks") == 1
    h.wait_log(r"OAS06103: client uri1: fetched 1 key\(s\)")


def test_key_rotation_refetches_once(httpd_factory, jwks_server):
    jwks_server.serve("/jwks", jwks_of(("ES256",)))
    h = httpd_factory(make_conf({"rot": jwks_server.url("/jwks")}))
    assert authenticate(h, "rot").status_code == 200
    # the client adds a key and signs with it: one refetch finds it
    new = _gen("ES256")
    doc = jwks_of(("ES256",))
    doc["keys"].append({**public_jwk_members(new.public_key()), "kid": "k-new", "alg": "ES256"})
    jwks_server.serve("/jwks", doc)
    h.mark_log()
    r = authenticate(h, "rot", k=new, kid="k-new")
    assert r.status_code == 200, r.text
    h.wait_log("OAS06106: client rot: no key 'k-new'")
    assert jwks_server.fetched("/jwks") == 2
    # both keys keep working without another fetch
    assert authenticate(h, "rot").status_code == 200
    assert authenticate(h, "rot", k=new, kid="k-new").status_code == 200
    assert jwks_server.fetched("/jwks") == 2


def test_unknown_kids_refetch_once_per_minute(httpd_factory, jwks_server):
    jwks_server.serve("/jwks", jwks_of(("ES256",)))
    h = httpd_factory(make_conf({"kids": jwks_server.url("/jwks")}))
    assert authenticate(h, "kids").status_code == 200
    assert jwks_server.fetched("/jwks") == 1
    h.mark_log()
    assert_refused(h, authenticate(h, "kids", kid="ghost-1"), "OAS06215")
    assert jwks_server.fetched("/jwks") == 2
    for i in range(2, 6):  # within 60 s: no more fetches, each still refused
        with session(h, keep_alive=False) as s:
            assert_refused(h, authenticate(h, "kids", kid=f"ghost-{i}", sess=s), "OAS06105")
    assert jwks_server.fetched("/jwks") == 2
    assert authenticate(h, "kids").status_code == 200


def test_two_nodes_share_one_fetch_through_the_database(httpd_factory, jwks_server):
    jwks_server.serve("/jwks", jwks_of(("ES256",)))
    url = jwks_server.url("/jwks")
    a = httpd_factory(make_conf({"node": url}, sqlite=lambda h: f"{h.datadir}/oas.sqlite"))
    b = httpd_factory(make_conf({"node": url}, sqlite=lambda h: f"{a.datadir}/oas.sqlite"))
    assert authenticate(a, "node").status_code == 200
    assert authenticate(b, "node").status_code == 200
    assert jwks_server.fetched("/jwks") == 1
    # a rotation seen by one node reaches the other through the database
    new = _gen("ES256")
    doc = jwks_of(("ES256",))
    doc["keys"].append({**public_jwk_members(new.public_key()), "kid": "k-new", "alg": "ES256"})
    jwks_server.serve("/jwks", doc)
    assert authenticate(b, "node", k=new, kid="k-new").status_code == 200
    assert authenticate(a, "node", k=new, kid="k-new").status_code == 200
    assert jwks_server.fetched("/jwks") == 2


# ---- failures: 401 invalid_client, fast, never a 5xx ------------------------------------------

@pytest.mark.allow_log("OAS06110")
def test_server_down_fails_fast(httpd_factory):
    port = free_port()  # nothing listens there
    h = httpd_factory(make_conf({"down": f"https://localhost:{port}/jwks"}))
    t = time.monotonic()
    m = assert_refused(h, authenticate(h, "down"), r"OAS06110: client down: fetching [^\n]*")
    assert time.monotonic() - t < 2.5
    assert "onnect" in m.group(0), m.group(0)
    # remembered: the next requests fail at once without a fetch
    h.mark_log()
    t = time.monotonic()
    for _ in range(3):
        assert_refused(h, authenticate(h, "down"), "OAS06108")
    assert time.monotonic() - t < 1.5
    assert_healthy(h)


@pytest.mark.allow_log("OAS06110")
def test_hanging_server_times_out_and_others_flow(httpd_factory):
    # accepts connections (the kernel's backlog) and never answers, not even TLS
    hang = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    try:
        h = httpd_factory(make_conf({"hang": f"https://localhost:{hang.getsockname()[1]}/j"}))
        done = {}

        def slow():
            t = time.monotonic()
            done["r"] = authenticate(h, "hang")
            done["t"] = time.monotonic() - t

        th = threading.Thread(target=slow)
        th.start()
        # meanwhile other requests are answered as usual
        time.sleep(0.3)
        t = time.monotonic()
        assert_healthy(h)
        assert time.monotonic() - t < 1.5
        assert th.is_alive()
        th.join(10)
        # curl's connect timeout (2 s) covers the TLS handshake
        assert_refused(h, done["r"], r"OAS06110: client hang: fetching [^\n]*(?i:time)")
        assert 1.5 < done["t"] < 4.5, done["t"]
    finally:
        hang.close()


@pytest.mark.allow_log("OAS06110")
def test_slow_answer_times_out_after_3_seconds(httpd_factory, jwks_server):
    jwks_server.serve("/slow", jwks_of(("ES256",)), delay=8)
    h = httpd_factory(make_conf({"slow": jwks_server.url("/slow")}))
    t = time.monotonic()
    assert_refused(h, authenticate(h, "slow"), r"OAS06110: client slow: fetching [^\n]*(?i:time)")
    assert 2.5 < time.monotonic() - t < 4.5
    assert jwks_server.fetched("/slow") == 1
    assert_healthy(h)


@pytest.mark.allow_log("OAS06110")
def test_unusable_documents_refused(httpd_factory, jwks_server):
    priv = jwks_of(("ES256",))
    priv["keys"][0]["d"] = "A" * 43
    jwks_server.serve("/private", priv)
    jwks_server.serve("/ctype", jwks_of(("ES256",)), ctype="text/html")
    jwks_server.serve("/status", jwks_of(("ES256",)), status=500)
    jwks_server.serve("/big", {"keys": jwks_of(("ES256",))["keys"], "pad": "p" * 70000})
    jwks_server.serve("/redirect", b"", status=302, headers={"Location": "/ok"})
    jwks_server.serve("/ok", jwks_of(("ES256",)))
    cases = {
        "private": "refused",
        "ctype": "not JSON",
        "status": "HTTP status 500",
        "big": "larger than 65536 bytes",
        "redirect": "HTTP status 302",
    }
    h = httpd_factory(make_conf({c: jwks_server.url("/" + c) for c in cases}))
    for cid, why in cases.items():
        h.mark_log()
        m = assert_refused(h, authenticate(h, cid), rf"OAS06110: client {cid}: [^\n]*")
        assert why in m.group(0), m.group(0)
        assert_refused(h, authenticate(h, cid), "OAS06108")  # remembered
    assert jwks_server.fetched("/ok") == 0  # the redirect was not followed
    assert all(jwks_server.fetched("/" + c) == 1 for c in cases)
    # no key material in the log
    assert "A" * 43 not in h.error_log()
    assert_healthy(h)


@pytest.mark.allow_log("OAS06110")
def test_loopback_refused_without_outbound_allow(httpd_factory, jwks_server):
    jwks_server.serve("/jwks", jwks_of(("ES256",)))
    h = httpd_factory(make_conf({"local": jwks_server.url("/jwks"),
                                 "local4": f"https://127.0.0.1:{jwks_server.port}/jwks"},
                                allow=None))
    for cid in ("local", "local4"):
        m = assert_refused(h, authenticate(h, cid), rf"OAS06110: client {cid}: [^\n]*")
        assert "outside the public internet" in m.group(0), m.group(0)
        assert "127.0.0.1" in m.group(0) or cid == "local", m.group(0)
    assert jwks_server.fetched("/jwks") == 0


@pytest.mark.allow_log("OAS06110")
def test_certificate_of_another_ca_refused(httpd_factory, jwks_server):
    jwks_server.serve("/jwks", jwks_of(("ES256",)))
    url = jwks_server.url("/jwks")
    for ca in ("other", None):  # another CA named; the system's CAs
        h = httpd_factory(make_conf({"tls": url}, ca=ca))
        m = assert_refused(h, authenticate(h, "tls"), r"OAS06110: client tls: [^\n]*")
        assert "certificate" in m.group(0).lower(), m.group(0)
        h.stop()
    assert jwks_server.fetched("/jwks") == 0


# ---- configuration ------------------------------------------------------------------------

@pytest.mark.parametrize("client_url, server_lines, fragment", [
    ("http://keys.test/jwks", "", "OAuthASClientJWKS"),
    ("https://keys.test/jwks", 'OAuthASCACertificateFile "/nonexistent/ca.pem"',
     "OAuthASCACertificateFile: cannot read"),
    ("https://keys.test/jwks", "OAuthASOutboundAllow keys.test:443",
     "OAuthASOutboundAllow: 'keys.test:443' is not a host name"),
    ("https://keys.test/jwks", "OAuthASOutboundAllow https://keys.test",
     "OAuthASOutboundAllow: 'https://keys.test' is not a host name"),
    ("https://keys.test/jwks", "OAuthASOutboundAllow [::1]:443",
     "OAuthASOutboundAllow: '[::1]:443' is not a host name"),
])
def test_configuration_faults(tmp_path, client_url, server_lines, fragment):
    h = Httpd(str(tmp_path / "srv"), "")
    h.body = lambda hh: (standard_conf(hh, extra=CLIENT.format(cid="cfg", url=client_url)) +
                         server_lines + "\n")
    rc, out = h.configtest()
    assert rc != 0, out
    assert fragment in out, out


def test_configuration_accepted(tmp_path):
    h = Httpd(str(tmp_path / "srv"), "")
    ca = h.path("conf", "ca.pem")
    os.makedirs(os.path.dirname(ca), exist_ok=True)
    shutil.copyfile(_tls_material("jwks")[0], ca)
    h.body = lambda hh: (standard_conf(hh, extra=CLIENT.format(cid="cfg",
                                                                url="https://keys.test/jwks")) +
                         f'OAuthASCACertificateFile "{ca}"\n'
                         "OAuthASOutboundAllow localhost 127.0.0.1 [::1] ::1 keys.test\n")
    rc, out = h.configtest()
    assert rc == 0, out
