"""Fixtures for integration tests against a private httpd (see harness.py).

    def test_x(httpd_factory):
        h = httpd_factory(standard_conf)           # or config text, or load_module=False, ...
        r = h.get("/.well-known/jwks.json")

    @pytest.mark.allow_log("OAS00042")             # error_log lines expected by this test
    def test_y(oas): ...                            # `oas`: the standard fixture server

Error-log check (SECURITY.md U2, STYLE.md C19): after each test whose call phase passed, the
factory stops its servers and then runs check_error_log().  It runs at teardown, *after* stop,
so crashes and errors during shutdown (pool cleanups, child exits) count too; unexpected lines
make the teardown fail (pytest.fail), which pytest reports as an ERROR of that test and which
fails the run.  When the test itself failed, the check is skipped (one failure is enough) and
the error_log tail is attached to the failure report instead; failed tests keep their workdir.
"""

import os
import re
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from harness import Httpd  # noqa: E402
from oauth_conf import standard_conf  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_log(*substrings): error_log lines containing one are expected")
    config.addinivalue_line("markers", "catalogue(id): the tests/CATALOGUE.md row a test proves")


@pytest.fixture(scope="session")
def workdir_base():
    """Workdirs live under one /tmp directory per session, traversable by the httpd children
    (pytest's own tmp_path sits under a 0700 directory that `nobody` cannot enter)."""
    base = tempfile.mkdtemp(prefix="oas-it-")
    os.chmod(base, 0o755)
    yield base
    if not os.listdir(base) and not os.environ.get("OAS_IT_KEEP"):
        os.rmdir(base)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    # A failed test: show where its server lives and the end of its error_log.
    if rep.when == "call" and rep.failed:
        for h in getattr(item, "oas_servers", ()):
            rep.sections.append((f"httpd {h.workdir}", h.log_tail(60)))


@pytest.fixture
def httpd_factory(request, workdir_base):
    """make(body, start=True, **Httpd options) -> a started Httpd in a fresh workdir."""
    servers = request.node.oas_servers = []
    marker_allowed = [s for m in request.node.iter_markers("allow_log") for s in m.args]
    name = re.sub(r"[^\w.-]+", "_", request.node.name)[:80]

    def make(body="", start=True, **opts):
        workdir = os.path.join(workdir_base, f"{name}-{len(servers)}")
        h = Httpd(workdir, body, **opts)
        h.allow_log(*marker_allowed)
        servers.append(h)
        if opts.get("load_module", True) and not os.path.exists(h.module):
            pytest.fail(f"{h.module} is missing: build it first (make integration does)")
        if start:
            h.start()
        return h

    yield make

    errors = []
    for h in servers:
        try:
            h.stop()
        except Exception as e:  # keep stopping the others
            errors.append(f"{h.workdir}: stop failed: {e}")
    call = getattr(request.node, "rep_call", None)
    passed = call is not None and call.passed
    if passed:
        for h in servers:
            bad = h.check_error_log()
            if bad:
                errors.append(f"{h.workdir}: unexpected error_log lines:\n  " + "\n  ".join(bad))
    if errors or not passed or os.environ.get("OAS_IT_KEEP"):
        for h in servers:
            print(f"kept httpd workdir: {h.workdir}")
    else:
        for h in servers:
            shutil.rmtree(h.workdir, ignore_errors=True)
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.fixture
def oas(httpd_factory):
    """A started server with the standard OAuth fixture (oauth_conf.standard_conf)."""
    return httpd_factory(standard_conf)
