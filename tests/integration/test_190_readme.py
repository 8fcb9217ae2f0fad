"""The README's walk-throughs, run as a newcomer would: `make run`'s demo (tools/demo.sh) on a
free port, then every shell block between the walkthrough markers, unchanged but for the port."""

import base64
import http.server
import json
import os
import pathlib
import shutil
import tempfile
import re
import signal
import subprocess
import threading
import time

import pytest

from harness import free_port, wait_listening
from oauth_conf import write_htpasswd

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def walkthrough_blocks():
    text = open(os.path.join(ROOT, "README.md")).read()
    sections = re.findall(r"<!-- walkthrough:begin -->(.*?)<!-- walkthrough:end -->", text, re.S)
    blocks = [re.search(r"```sh\n(.*?)```", s, re.S).group(1) for s in sections]
    assert len(blocks) >= 4, "README lost its walk-throughs"
    return blocks


@pytest.fixture
def demo():
    # not pytest's tmp_path: it is 0700, and httpd's children (nobody) must read the demo files
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="oas-readme-"))
    os.chmod(workdir, 0o755)
    demo_dir = workdir / "demo"
    port = free_port()
    env = dict(os.environ, PORT=str(port), DEMO_DIR=str(demo_dir))
    log = open(workdir / "demo.log", "w")
    proc = subprocess.Popen([os.path.join(ROOT, "tools", "demo.sh")], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_listening(port, proc, "the demo", lambda: open(workdir / "demo.log").read())
    yield workdir, port
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=15)
    log.close()
    errors = [l for l in open(workdir / "demo.log") if re.search(r"\[(\w+:)?(error|crit|alert|emerg)\]", l)]
    assert not errors, errors
    shutil.rmtree(workdir, ignore_errors=True)


def run_block(workdir, port, index):
    script = walkthrough_blocks()[index].replace("localhost:8443", f"localhost:{port}")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=workdir,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out


@pytest.mark.parametrize("index", [0, 1, 2], ids=["code-flow", "par-flow", "keys-flow"])
def test_readme_walkthrough(demo, index):
    workdir, port = demo
    out = run_block(workdir, port, index)
    lines = out.stdout.strip().splitlines()
    print(out.stdout)
    assert re.search(r'"issuer":"https://localhost:%d"' % port, out.stdout) or index != 0
    location = next(l for l in lines if l.startswith(f"https://localhost:{port}/callback?"))
    assert re.search(r"[?&]code=[A-Za-z0-9_-]{43}(&|$)", location)
    assert "iss=https%3A%2F%2Flocalhost%3A" in location
    token = lines[-1]
    assert '"access_token":"ey' in token and '"id_token":"ey' in token, token
    assert '"token_type":"Bearer"' in token


def test_readme_mtls_walkthrough(demo):
    """Mutual TLS (issue 17): client credentials and the PAR flow with the certificate alone;
    the token is bound to it (introspection's cnf is the certificate's thumbprint, which the
    block computes with openssl), userinfo takes it with the certificate, 401 without."""
    workdir, port = demo
    out = run_block(workdir, port, 3)
    print(out.stdout)
    lines = out.stdout.strip().splitlines()
    cc = json.loads(lines[0])
    assert cc["token_type"] == "Bearer" and cc["access_token"].startswith("ey"), cc
    assert json.loads(lines[1])["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert lines[2].startswith(f"https://localhost:{port}/callback?") and "state=mtls-1" in lines[2]
    token = json.loads(lines[3])
    assert token["access_token"].startswith("ey") and token["id_token"].startswith("ey"), token
    intro, x5t = json.loads(lines[4]), lines[5]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", x5t), x5t
    assert intro["active"] and intro["client_id"] == "demo-mtls", intro
    assert intro["cnf"] == {"x5t#S256": x5t}, intro
    assert json.loads(lines[6])["sub"] == "demo", lines[6]
    body, status = lines[7].rsplit(" ", 1)
    assert status == "401" and json.loads(body)["error"] == "invalid_token", lines[7]
    assert len(lines) == 8, lines
    log = open(workdir / "demo.log").read()
    assert "OAS06507" in log, log[-2000:]


def commands(text):
    """The commands of a shell text: continuation lines joined, spaces collapsed."""
    text = text.replace("\\\n", " ")
    return [" ".join(l.split()) for l in text.splitlines() if l.strip()]


def test_readme_setup_commands_are_the_demos():
    """The README's commands that made the demo's keys and certificates (the blocks naming
    demo/ outside the walk-throughs and the oauth-as block, which test_970_cli runs) are the
    ones tools/demo.sh runs, but for the paths."""
    readme = re.sub(r"<!-- (walkthrough|oauth-as):begin -->.*?<!-- \1:end -->", "",
                    open(os.path.join(ROOT, "README.md")).read(), flags=re.S)
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if " demo/" in b]
    assert len(blocks) >= 2, "README lost its key and certificate commands"
    demo_sh = open(os.path.join(ROOT, "tools", "demo.sh")).read()
    demo_sh = re.sub(r'"\$DEMO/([^"]*)"', r"demo/\1", demo_sh).replace(" 2>/dev/null", "")
    demo_sh = commands(demo_sh)
    for block in blocks:
        for command in commands(block):
            assert any(command in line for line in demo_sh), command


# ---- "FAPI 2.0 in ten minutes": its commands, conf/fapi2.conf.example and docs/fapi2-curl.sh

def fapi2_section():
    text = open(os.path.join(ROOT, "README.md")).read()
    section = re.search(r"^## FAPI 2\.0 in ten minutes\n(.*?)^## ", text, re.S | re.M).group(1)
    sh = re.findall(r"```sh\n(.*?)```", section, re.S)
    apache = re.findall(r"```apache\n(.*?)```", section, re.S)
    assert len(sh) == 2 and len(apache) == 1, "the FAPI 2.0 section lost a block"
    return sh, apache[0]


def run_sh(script, cwd, env=None):
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True,
                         text=True, timeout=60, env=dict(os.environ, **(env or {})))
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def fapi2_example(h, keys):
    """conf/fapi2.conf.example on h's TLS port, with the files the README's key commands made
    (in keys/) and a user alice:secret; nothing else changed."""
    with open(os.path.join(ROOT, "conf", "fapi2.conf.example")) as f:
        text = f.read()
    assert "OAuthASDPoPNonce" not in text   # the curl script does not answer nonces
    htpasswd = write_htpasswd(h.path("conf", "users.htpasswd"), {"alice": "secret"})
    text = re.sub(r"^LoadModule oauth_as_module .*$", "", text, flags=re.M)
    text = (text.replace("/etc/ssl/certs/auth.example.org.pem", h.ca)
            .replace("/etc/ssl/private/auth.example.org.key", h.tls_key)
            .replace("/etc/apache2/oauth/", keys + "/")
            .replace("/etc/apache2/users.htpasswd", htpasswd)
            .replace("*:443", f"127.0.0.1:{h.tls_port}")
            .replace("auth.example.org", f"localhost:{h.tls_port}"))
    for line in text.splitlines():  # every file the server reads is one of ours
        assert "/etc/" not in line or line.lstrip().startswith("#"), line
    return text


def test_readme_fapi2(httpd_factory):
    """The section's key commands (openssl and the script's jwks), its configuration lines
    (each one in conf/fapi2.conf.example), the example itself started as it stands, and the
    flow command: docs/fapi2-curl.sh ends with userinfo 200, the token bound to its DPoP key."""
    sh, conf = fapi2_section()
    example = open(os.path.join(ROOT, "conf", "fapi2.conf.example")).read()
    lines = {line.strip() for line in example.splitlines()}
    for line in conf.splitlines():
        assert not line.strip() or line.strip() in lines, line

    h = httpd_factory(lambda h: fapi2_example(h, h.path("keys")), start=False)
    os.makedirs(h.path("keys"))
    os.symlink(os.path.join(ROOT, "docs"), h.path("keys", "docs"))
    run_sh(sh[0], h.path("keys"))
    jwks = json.load(open(h.path("keys", "client.jwks.json")))
    assert [(k["kty"], k["crv"], k["kid"]) for k in jwks["keys"]] == [("EC", "P-256", "client-1")]
    assert os.stat(h.path("keys", "as-es256.pem")).st_mode & 0o077 == 0  # read before setuid
    h.start()
    md = h.get("/.well-known/openid-configuration")
    assert md.headers["Strict-Transport-Security"].endswith("preload"), md.headers
    assert md.json()["token_endpoint_auth_methods_supported"] == ["private_key_jwt"], md.text

    for run in (1, 2):  # the second time, the user's consent is remembered: no consent page
        start = time.time()
        out = run_sh(sh[1].replace("https://auth.example.org", h.issuer), h.path("keys"),
                     {"CACERT": h.ca})
        print(out, f"({time.time() - start:.1f} s)")
        steps = re.findall(r"^== (\d)\.", out, re.M)
        assert steps == ["0", "1", "2", "3", "4"], out
        jkt = re.search(r"^jkt ([A-Za-z0-9_-]{43})$", out, re.M).group(1)
        assert re.search(r"^303 https://app\.example\.org/callback\?code=", out, re.M), out
        body = json.loads(out.strip().splitlines()[-1])
        token = json.loads(re.search(r'^\{"access_token".*$', out, re.M).group(0))
        assert token["token_type"] == "DPoP" and "id_token" in token, token
        claims = json.loads(base64.urlsafe_b64decode(token["access_token"].split(".")[1] + "=="))
        assert claims["cnf"] == {"jkt": jkt}, claims
        assert body["sub"] == "alice", body
    with open(h.accesslog) as f:  # a consent page the first time only
        authorize = re.findall(r'"(GET|POST) /authorize\S* HTTP/1.1" (\d+)', f.read())
    assert authorize == [("GET", "200"), ("POST", "303"), ("GET", "303")], authorize
    log = h.error_log()
    assert len(re.findall(r"OAS00133: issued tokens to client fapi-client for alice \(jti \S+, "
                          r"DPoP-bound\)", log)) == 2, log[-2000:]


# ---- "A protected API in the same httpd (AuthType oauth-as)" ---------------------------------

def test_readme_api_walkthrough(demo):
    """The demo's /api/ (issue 19): 401 with a Bearer then a DPoP challenge naming the RFC 9728
    document; the document; a token asked with resource= gets what the backend received; the
    ID token of the same response and the token once revoked get 401 invalid_token."""
    workdir, port = demo
    iss = f"https://localhost:{port}"
    out = run_block(workdir, port, 4).stdout
    print(out)
    lines = out.strip().splitlines()
    meta = f'resource_metadata="{iss}/.well-known/oauth-protected-resource/api"'
    assert lines[0].strip() == f"WWW-Authenticate: Bearer {meta}", lines[0]
    assert lines[1].startswith(f"WWW-Authenticate: DPoP {meta}, algs="), lines[1]
    doc = json.loads(lines[2])
    assert doc["resource"] == iss + "/api" and doc["authorization_servers"] == [iss], doc
    assert doc["scopes_supported"] == ["api.read"] and doc["bearer_methods_supported"] == ["header"]
    api = json.loads(re.search(r'^\{"message".*?\}$', out, re.S | re.M).group(0))
    assert api == {"message": "hello from the API (AuthType oauth-as)", "user": "demo",
                   "sub": "demo", "client_id": "demo-app", "scope": "openid api.read",
                   "subject_type": "user", "aud": iss + "/api"}, api
    refused = [l.strip() for l in lines if 'error="invalid_token"' in l]
    assert len(refused) == 2, lines
    assert all(l.startswith(f"WWW-Authenticate: Bearer {meta}, error=") for l in refused)
    assert len([l for l in lines if l.startswith("WWW-Authenticate:")]) == 4, lines
    log = open(workdir / "demo.log").read()
    assert re.search(r"OAS06701: resource: access token of client \? refused: not a valid access "
                     r"token of this issuer", log), log[-3000:]   # the ID token (typ JWT)
    assert re.search(r"OAS06701: resource: access token jti \S+ of client demo-app refused: "
                     r"revoked", log), log[-3000:]


def test_readme_exchange_walkthrough(demo):
    """Token exchange (issue 22): demo-gateway trades demo-app's token for the API for one for
    the reports service (the user's openid stays behind), which takes it while the API does
    not; a wider scope is invalid_scope; with an actor token introspection shows act."""
    workdir, port = demo
    iss = f"https://localhost:{port}"
    out = run_block(workdir, port, 5).stdout
    print(out)
    lines = out.strip().splitlines()
    xt = json.loads(lines[0])
    assert xt["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token", xt
    assert xt["token_type"] == "Bearer" and xt["scope"] == "api.read", xt
    assert "refresh_token" not in xt and "id_token" not in xt, xt
    reports = json.loads(re.search(r'^\{"message".*?\}$', out, re.S | re.M).group(0))
    assert reports["user"] == "demo" and reports["client_id"] == "demo-gateway", reports
    assert reports["aud"] == iss + "/reports", reports
    assert "401" in lines, lines
    err = json.loads(next(l for l in lines if '"error"' in l))
    assert err["error"] == "invalid_scope", err
    intro = json.loads(lines[-1])
    assert intro["active"] is True and intro["sub"] == "demo", intro
    assert intro["client_id"] == "demo-gateway" and intro["act"] == {"sub": "demo-gateway"}, intro
    assert "OAS07151: token exchange: client demo-gateway exchanges an access token of client " \
           "demo-app" in open(workdir / "demo.log").read()


class _EchoHeaders(http.server.BaseHTTPRequestHandler):
    """A backend that answers with the path and headers it received, as JSON."""

    def do_GET(self):
        body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_backend():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def proxy_example():
    text = open(os.path.join(ROOT, "README.md")).read()
    block = re.search(r"<!-- proxy-example:begin -->\n```apache\n(.*?)```", text, re.S).group(1)
    return block


def test_readme_proxied_backend(httpd_factory, echo_backend):
    """README "A backend behind ProxyPass", as written but for the host and the backend's port:
    the backend gets the user, client, scope and subject type in headers of httpd's making (a
    client's own X-User replaced), never the token; without a token it is not reached. And
    what the README says of `%{REMOTE_USER}e` (empty) and of a location without a Require
    line (open)."""
    from client import code_tokens, register, session
    from oauth_conf import standard_conf

    block = proxy_example()

    def conf(h):
        aud = h.issuer + "/notes"
        register("notes-app", "notes-secret-4d5e6f", redirect_uris=["https://notes.test/cb"])
        text = re.sub(r"^LoadModule .*$", "", block, flags=re.M)
        text = (text.replace("https://localhost:8443", h.issuer)
                .replace("127.0.0.1:3000", f"127.0.0.1:{echo_backend}")
                .replace("    ProxyPass", '    RequestHeader set X-Env-User "%{REMOTE_USER}e"\n'
                         "    ProxyPass"))
        h.write_file("htdocs/open/hello.txt", "hello\n")
        return standard_conf(h, extra=f"""
<OAuthASResource {aud}>
    OAuthASScope notes.read
</OAuthASResource>
<OAuthASClient notes-app>
    OAuthASClientSecret "notes-secret-4d5e6f"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://notes.test/cb
    OAuthASScope openid notes.read
    OAuthASAudience {aud}
</OAuthASClient>
{text}
<Location /open/>
    AuthType oauth-as
    OAuthASResourceIssuer {h.issuer}
    OAuthASResourceAudience {aud}
</Location>
""")

    h = httpd_factory(conf, extra_modules=("proxy", "proxy_http"))
    s = session(h)
    r = s.get(h.issuer + "/notes/list?x=1", timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer, DPoP")
    at = code_tokens(h, "notes-app", "openid notes.read", user="alice",
                     resource=h.issuer + "/notes")["access_token"]
    r = s.get(h.issuer + "/notes/list?x=1", timeout=10,
              headers={"Authorization": f"Bearer {at}", "X-User": "mallory"})
    assert r.status_code == 200, (r.status_code, r.text)
    got = r.json()
    hd = {k.lower(): v for k, v in got["headers"].items()}
    assert got["path"] == "/list?x=1", got
    assert hd["x-user"] == "alice" and hd["x-client-id"] == "notes-app", hd
    assert hd["x-scope"] == "openid notes.read" and hd["x-subject-type"] == "user", hd
    assert "authorization" not in hd, hd
    assert hd["x-env-user"] == "(null)", hd   # REMOTE_USER is not in the environment
    assert s.get(h.issuer + "/open/hello.txt", timeout=10).status_code == 200
