"""The harness itself, proven with a plain httpd (no mod_oauth_as loaded)."""

import os
import time

import pytest
import requests

from harness import Httpd, unexpected_log_lines
from oauth_conf import CLIENTS, ENDPOINTS, standard_conf

HELLO = """
<Location /hello>
    Require all granted
</Location>
"""


def plain(httpd_factory, **opts):
    h = httpd_factory(HELLO, load_module=False, **opts)
    h.write_file("htdocs/hello", "hello harness\n")
    return h


def test_http_and_https(httpd_factory):
    h = plain(httpd_factory)
    r = requests.get(h.base_url + "/hello", timeout=5)
    assert r.status_code == 200 and r.text == "hello harness\n"
    # verify= with the generated certificate: the name localhost must match its SAN.
    r = requests.get(h.tls_url + "/hello", verify=h.ca, timeout=5)
    assert r.status_code == 200 and r.text == "hello harness\n"
    # ... and so must the IP address.
    r = requests.get(f"https://127.0.0.1:{h.tls_port}/hello", verify=h.ca, timeout=5)
    assert r.status_code == 200
    assert h.issuer == f"https://localhost:{h.tls_port}"


def test_graceful_keeps_serving(httpd_factory):
    h = plain(httpd_factory)
    pid, old_children = h.pid, set(h.children())
    h.graceful()
    assert h.pid == pid, "graceful restart must keep the parent"
    assert h.get("/hello").status_code == 200
    assert h.get("/hello", tls=False).status_code == 200
    assert h.error_log().count("resuming normal operations") == 2
    # The new generation's children are new processes.
    deadline = time.monotonic() + 5
    while set(h.children()) & old_children and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(h.children()) & old_children


def test_restart(httpd_factory):
    h = plain(httpd_factory)
    pid = h.pid
    h.restart()
    assert h.pid != pid
    assert h.get("/hello").status_code == 200


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_two_children(httpd_factory, mpm):
    h = plain(httpd_factory, mpm=mpm)
    deadline = time.monotonic() + 5
    while len(h.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(h.children()) >= 2
    assert h.get("/hello").status_code == 200


def test_configtest_broken(tmp_path):
    h = Httpd(str(tmp_path / "srv"), "Listen notaport\n", load_module=False)
    rc, out = h.configtest()
    assert rc != 0
    # httpd names the line, not the directive, for a bad Listen argument.
    lineno = open(h.conf).read().splitlines().index("Listen notaport") + 1
    assert f"Syntax error on line {lineno} of {h.conf}" in out, out
    # A directive of a module that is not loaded is named.
    h = Httpd(str(tmp_path / "srv2"), "OAuthASIssuer https://localhost\n", load_module=False)
    rc, out = h.configtest()
    assert rc != 0 and "Invalid command 'OAuthASIssuer'" in out, out


def test_configtest_ok_and_isolated(tmp_path):
    h = Httpd(str(tmp_path / "srv"), HELLO, load_module=False)
    rc, out = h.configtest()
    assert rc == 0, out
    text = open(h.conf).read()
    assert "/etc/apache2" not in text and "APACHE_" not in text


SYNTHETIC = """\
[Sat Nov 21 10:00:00.000001 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: resuming normal operations
[Sat Nov 21 10:00:00.000002 2026] [core:info] [pid 2:tid 2] [client 127.0.0.1:1] AH00128: File does not exist
[Sat Nov 21 10:00:00.000003 2026] [oauth_as:error] [pid 2:tid 2] [client 127.0.0.1:1] OAS00042: expected failure
[Sat Nov 21 10:00:00.000004 2026] [oauth_as:error] [pid 2:tid 2] [client 127.0.0.1:1] OAS00043: surprise
[Sat Nov 21 10:00:00.000005 2026] [core:notice] [pid 1:tid 1] AH00052: child pid 3 exit signal Segmentation fault (11)
[Sat Nov 21 10:00:00.000006 2026] [ssl:warn] [pid 1:tid 1] AH01909: a warning counts too
[Sat Nov 21 10:00:00.000006 2026] [ssl:warn] [pid 1:tid 1] AH01882: Init: this version of mod_ssl was compiled against a newer library
[Sat Nov 21 10:00:00.000007 2026] [crit] [pid 1] old-style line without module
[Sat Nov 21 10:00:00.000008 2026] [core:info] [pid 1:tid 1] the word [error] later in a line is not a level
"""


def test_check_error_log_synthetic(tmp_path):
    bad = unexpected_log_lines(SYNTHETIC, allowed=("OAS00042",))
    assert [l.split("] ", 3)[3][:8] for l in bad] == ["[client ", "AH00052:", "AH01909:",
                                                      "old-styl"]
    assert "OAS00043" in bad[0]

    # The method: an offset so that each check only sees new lines; allowed via allow_log.
    h = Httpd(str(tmp_path / "srv"), "", load_module=False)
    with open(h.errorlog, "w") as f:
        f.write(SYNTHETIC)
    h.allow_log("OAS00043")
    assert len(h.check_error_log(allowed=("OAS00042",))) == 3
    assert h.check_error_log() == []
    with open(h.errorlog, "a") as f:
        f.write("[Sat Nov 21 10:00:01.000000 2026] [dbd:emerg] [pid 1] AH00633: gone\n")
    assert len(h.check_error_log()) == 1
    h.mark_log()
    assert h.check_error_log() == []


def test_wait_log(httpd_factory):
    h = plain(httpd_factory)
    h.mark_log()
    h.get("/nosuchfile")
    m = h.wait_log(r"AH00128: File does not exist: (\S+)", timeout=5)
    assert m.group(1).endswith("/htdocs/nosuchfile")


@pytest.mark.allow_log("AH00035")
def test_allow_log_marker(httpd_factory):
    h = plain(httpd_factory)
    assert "AH00035" in h.allowed
    # A core:error line the marker allows: a file the children (nobody) may not read.
    h.write_file("htdocs/secret/x", "x\n")
    os.chmod(h.path("htdocs", "secret"), 0o700)
    if os.geteuid() == 0:
        assert h.get("/secret/x").status_code == 403
        h.wait_log("AH00035")


def test_standard_conf_text(tmp_path):
    """The OAuth fixture renders (it cannot be loaded until the module exists)."""
    h = Httpd(str(tmp_path / "srv"), "", load_module=False)
    text = standard_conf(h, keys=("es256", "rsa", "ed25519"), OAuthASCodeLifetime=5,
                         OAuthASStoreSize=None)
    assert f'OAuthASIssuer "https://localhost:{h.tls_port}"' in text
    assert text.count("OAuthASSigningKey") == 3 and "OAuthASCodeLifetime 5" in text
    assert "OAuthASStoreSize" not in text
    for cid in CLIENTS:
        assert f"<OAuthASClient {cid}>" in text
    for path, kind in ENDPOINTS.items():
        assert f"<Location {path}>\n    OAuthASEndpoint {kind}" in text
    assert os.path.exists(h.path("conf", "users.htpasswd"))
    for k in ("es256", "rsa", "ed25519"):
        assert open(h.path("conf", f"signing-{k}.pem")).read().startswith(
            "-----BEGIN PRIVATE KEY-----")


def test_htpasswd_users(httpd_factory):
    """The users of the fixture log in through Basic auth as /authorize will use them."""
    from oauth_conf import USERS, write_htpasswd

    def body(h):
        pw = write_htpasswd(h.path("conf", "users.htpasswd"))
        return (f'<Location /hello>\n    AuthType Basic\n    AuthName t\n'
                f'    AuthUserFile "{pw}"\n    Require valid-user\n</Location>\n')

    h = httpd_factory(body, load_module=False)
    h.write_file("htdocs/hello", "hi\n")
    h.allow_log("AH01617")  # mod_auth_basic: the wrong password below
    for user, pw in USERS.items():
        assert h.get("/hello", auth=(user, pw)).status_code == 200
    assert h.get("/hello", auth=("alice", "wrong")).status_code == 401
    assert h.get("/hello").status_code == 401
