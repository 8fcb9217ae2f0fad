"""A cluster (issue 7): two httpd nodes with OAuthASStore dbd sharing one real PostgreSQL that
this module starts (initdb as the unprivileged `postgres` user, on a free loopback port)."""

import concurrent.futures
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from client import (OFFLINE, PUB1, DPoPKey, Pkce, code_of, get_code, post, redeem, refresh,
                    session)
from harness import REPO, free_port
from oauth_conf import STATUS_CONF, standard_conf

PGBIN = "/usr/lib/postgresql/15/bin"


class Postgres:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="oas-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.run("initdb", "-D", self.data, "-A", "trust", "-E", "UTF8", "--locale=C", "-U",
                 "postgres")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                 "oauth_as")

    def run(self, prog, *args, check=True):
        cmd = [os.path.join(PGBIN, prog), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)

    def start(self):
        self.run("pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.dir, "log"),
                 "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def wait_ready(self, timeout=15):
        """Poll pg_isready until the server accepts connections."""
        deadline = time.time() + timeout
        while self.run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-d", "oauth_as",
                       check=False).returncode != 0:
            assert time.time() < deadline, "PostgreSQL did not come up"
            time.sleep(0.1)

    def stop(self):
        self.run("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop", check=False)

    def dbd(self, dbname="oauth_as"):
        return ("DBDriver pgsql\n"
                f'DBDParams "host=127.0.0.1 port={self.port} dbname={dbname} user=postgres"\n'
                "DBDMin 0\n")


@pytest.fixture(scope="module")
def pg():
    p = Postgres()
    yield p
    p.stop()
    shutil.rmtree(p.dir, ignore_errors=True)


@pytest.fixture
def cluster(httpd_factory, pg):
    a = httpd_factory(lambda h: standard_conf(h, OAuthASStore="dbd", extra=pg.dbd()))

    def conf_b(h):   # the same issuer text, key and clients as node A
        return standard_conf(h, OAuthASStore="dbd", extra=pg.dbd()).replace(
            f'OAuthASIssuer "{h.issuer}"', f'OAuthASIssuer "{a.issuer}"')
    b = httpd_factory(conf_b)
    return a, b


def test_par_on_a_authorize_on_b_token_on_a(cluster):
    a, b = cluster
    verifier, challenge = Pkce()
    r = post(a, "/oauth/par", dict(PUB1, response_type="code", scope=OFFLINE, state="p",
                                   code_challenge=challenge, code_challenge_method="S256"))
    assert r.status_code == 201, r.text
    code = code_of(b, {"client_id": "pub1", "request_uri": r.json()["request_uri"]})
    r = redeem(a, code, verifier, "pub1")
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"]


@pytest.mark.catalogue("X02")
@pytest.mark.allow_log("OAS00131", "OAS00134")
def test_one_code_raced_on_two_nodes(cluster):
    a, b = cluster
    g = get_code(a, "pub1", scope=OFFLINE)
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        results = list(ex.map(lambda i: redeem(a if i % 2 else b, g), range(50)))
    statuses = [r.status_code for r in results]
    assert statuses.count(200) == 1, sorted(statuses)
    assert statuses.count(400) == 49, sorted(statuses)


@pytest.mark.catalogue("X02")
@pytest.mark.expect_log("OAS00134")
def test_rotated_on_a_dead_on_b(cluster):
    a, b = cluster
    g = get_code(b, "pub1", scope=OFFLINE, issuer=a.issuer)
    rt = redeem(b, g).json()["refresh_token"]
    r = refresh(a, "pub1", rt)           # pub1 always rotates
    assert r.status_code == 200, r.text
    new_rt = r.json()["refresh_token"]
    assert refresh(b, "pub1", rt).json()["error"] == "invalid_grant"
    # presenting the rotated-out token revoked the family everywhere
    assert refresh(a, "pub1", new_rt).json()["error"] == "invalid_grant"


def test_dpop_proof_replayed_on_the_other_node(cluster):
    """Issue 16: a DPoP proof spent on one node is refused on the other (its jti is single-use
    across nodes, in the shared database), and many copies of one proof raced over both
    nodes bind exactly one token."""
    a, b = cluster
    k = DPoPKey()
    data = {"grant_type": "client_credentials", "scope": "api.read"}
    proof = k.proof("POST", a.issuer + "/oauth/token")
    r = post(a, "/oauth/token", data, "svc1", headers={"DPoP": proof})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP", r.text
    r = post(b, "/oauth/token", data, "svc1", headers={"DPoP": proof})
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof", r.text
    proof = k.proof("POST", a.issuer + "/oauth/token")
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(lambda i: post(a if i % 2 else b, "/oauth/token", data, "svc1",
                                             headers={"DPoP": proof}), range(20)))
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 1 and statuses.count(400) == 19, statuses


@pytest.mark.allow_log("OAS00120", "OAS00202", "OAS00203", "dbd:error", "AH00629", "AH00632",
                       "AH00633", "AH02655", "AH00639", "OAS00143", "OAS00201")
@pytest.mark.catalogue("D05")
@pytest.mark.allow_log("OAS00206")
def test_database_down_then_back(cluster, pg):
    a, b = cluster
    g = get_code(a, "pub1", scope=OFFLINE)
    code, verifier = g["code"], g["verifier"]
    pg.stop()
    try:
        for node in (a, b, a, b):
            r = redeem(node, code, verifier, "pub1")
            assert r.status_code == 503, r.text
            assert r.headers.get("Retry-After")
            assert r.json()["error"] == "temporarily_unavailable"
        # what needs no database still works
        assert a.get("/.well-known/jwks.json").status_code == 200
        assert "OAS00203" in a.error_log() or "OAS00202" in a.error_log()
    finally:
        pg.start()
    pg.wait_ready()
    # back without an httpd restart, and at once: a pooled connection that lived through the
    # outage is repaired inside the request that finds it broken (no 503, no client retry).
    # The code taken before the outage was never consumed.
    r = redeem(b, code, verifier, "pub1")
    assert r.status_code == 200, r.text
    for x, y in ((a, b), (b, a), (a, a), (b, b)):
        g = get_code(x, "pub1", scope=OFFLINE, issuer=a.issuer)
        r = redeem(y, g)
        assert r.status_code == 200, r.text
    # many connections at once (each child's pool holds several that lived through it)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        results = list(ex.map(lambda i: (lambda n: redeem(n, get_code(
            n, "pub1", scope=OFFLINE, issuer=a.issuer)))(a if i % 2 else b), range(16)))
    assert [r.status_code for r in results] == [200] * 16, [r.text for r in results]
    assert a.children() and b.children()   # no crash
    assert "OAS00206" in a.error_log() + b.error_log()   # the repair happened, and said so


@pytest.mark.allow_log("OAS00201", "OAS00202", "OAS00203", "dbd:error", "AH00629", "AH00632",
                       "AH00633", "AH02655", "AH00639", "AH00630", "AH00636", "OAS00120")
@pytest.mark.catalogue("D05")
def test_database_down_at_start(httpd_factory, pg):
    """httpd starts while the database is down (and its tables were never created); requests
    that need it get 503 + Retry-After; once it is up they succeed without a restart."""
    pg.run("createdb", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "oauth_as_late")
    pg.stop()
    try:
        h = httpd_factory(lambda h: standard_conf(h, OAuthASStore="dbd",
                                                  extra=pg.dbd("oauth_as_late")))
        assert h.children()
        verifier, challenge = Pkce()
        r = post(h, "/oauth/par", dict(PUB1, response_type="code", scope=OFFLINE, state="p",
                                       code_challenge=challenge, code_challenge_method="S256"))
        assert r.status_code == 503, r.text
        assert r.headers.get("Retry-After")
        r = redeem(h, "no-such-code", verifier, "pub1")
        assert r.status_code == 503, r.text
        assert r.headers.get("Retry-After")
        assert r.json()["error"] == "temporarily_unavailable"
        r = session().get(h.issuer + "/authorize", verify=h.ca, allow_redirects=False,
                          auth=("alice", "alice-password"), timeout=10,
                          params=dict(PUB1, response_type="code", scope=OFFLINE, state="x",
                                      code_challenge=challenge, code_challenge_method="S256"))
        assert r.status_code == 503, r.text[:300]
        assert r.headers.get("Retry-After")
        assert h.get("/.well-known/openid-configuration").status_code == 200
        assert "OAS00201" in h.error_log()      # the parent could not create the tables
    finally:
        pg.start()
    pg.wait_ready()
    # A child that never saw the tables retries creating them at most once a second: the
    # first success may take that long; from then on every flow works, on every child.
    deadline = time.time() + 5
    while True:
        r = post(h, "/oauth/par", dict(PUB1, response_type="code", scope=OFFLINE, state="p",
                                       code_challenge=challenge, code_challenge_method="S256"))
        if r.status_code != 503 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert r.status_code == 201, r.text
    code = code_of(h, {"client_id": "pub1", "request_uri": r.json()["request_uri"]})
    assert redeem(h, code, verifier, "pub1").status_code == 200
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
        results = list(ex.map(lambda _: redeem(h, get_code(h, "pub1", scope=OFFLINE)), range(12)))
    assert [r.status_code for r in results] == [200] * 12, [r.text for r in results]
    tables = pg.run("psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-At",
                    "-d", "oauth_as_late", "-c", "SELECT version FROM oauth_as_schema").stdout
    # children that found the database back at the same moment may each have inserted the
    # version row (INSERT ... WHERE NOT EXISTS races under READ COMMITTED); the module reads
    # the highest version, so what matters is that every row says 2 (issue 14: version 2)
    assert tables.split() and set(tables.split()) == {"2"}, tables


@pytest.mark.catalogue("D01")
def test_graceful_on_postgres(cluster):
    """A graceful restart re-registers the statements with mod_dbd (check_config runs again):
    the new generation's connections must prepare them once and serve; a code issued before
    is redeemed after, on either node."""
    a, b = cluster
    g = get_code(a, "pub1", scope=OFFLINE)
    code, verifier = g["code"], g["verifier"]
    verifier2, challenge = Pkce()
    r = post(b, "/oauth/par", dict(PUB1, response_type="code", scope=OFFLINE, state="p",
                                   code_challenge=challenge, code_challenge_method="S256"))
    assert r.status_code == 201, r.text
    for _ in range(2):
        a.graceful()
    assert redeem(a, code, verifier, "pub1").status_code == 200
    code = code_of(a, {"client_id": "pub1", "request_uri": r.json()["request_uri"]})
    assert redeem(b, code, verifier2, "pub1").status_code == 200
    for _ in range(6):
        g = get_code(a, "pub1", scope=OFFLINE)
        r = redeem(a, g)
        assert r.status_code == 200, r.text


@pytest.mark.catalogue("X02")
@pytest.mark.allow_log("OAS00134")
def test_refresh_raced_on_two_nodes(cluster):
    """X02, refresh half: one rotating (pub1) refresh token presented 20 times at once, split
    over both nodes: at most one success (exactly one unless reuse detection fired first),
    the others invalid_grant, never a 5xx; the decision is the database's, so afterwards the
    family is revoked on both nodes (the race's losers were reuses of a rotated-out token)."""
    a, b = cluster
    g = get_code(a, "pub1", scope=OFFLINE)
    rt = redeem(a, g).json()["refresh_token"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(lambda i: refresh(a if i % 2 else b, "pub1", rt), range(20)))
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) <= 1, statuses
    assert statuses.count(400) >= 19, statuses
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)
    for r in results:
        if r.status_code == 200:
            new_rt = r.json()["refresh_token"]
            for node in (a, b):
                assert refresh(node, "pub1", new_rt).json()["error"] == "invalid_grant"
    for node in (a, b):
        assert refresh(node, "pub1", rt).json()["error"] == "invalid_grant"


V1_SCHEMA = """
CREATE TABLE oauth_as_schema (version INTEGER NOT NULL);
CREATE TABLE oauth_as_store (k CHAR(64) PRIMARY KEY, v TEXT NOT NULL, exp BIGINT NOT NULL);
CREATE INDEX oauth_as_store_exp ON oauth_as_store (exp);
INSERT INTO oauth_as_schema (version) VALUES (1);
INSERT INTO oauth_as_store VALUES (repeat('0', 64), 'told', 9000000000000000);
"""


@pytest.mark.catalogue("D05")
def test_two_nodes_upgrade_a_version_1_database(httpd_factory, pg):
    """Issue 14: schema version 2 (row classes, counters). Two nodes start at once on a
    database of version 1: both come up, the tables are upgraded once, the old rows stay
    (live, class 0), counters are one atomic statement, and every flow works on both. The
    statements per PAR flow on PostgreSQL (pytest -s) include the once-per-request probe of a
    pooled connection before the first non-idempotent statement."""
    def psql(db, sql):
        return pg.run("psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-At",
                      "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql).stdout

    pg.run("createdb", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "oauth_as_v1")
    psql("oauth_as_v1", V1_SCHEMA)
    a = httpd_factory(lambda h: standard_conf(h, OAuthASStore="dbd",
                                              extra=pg.dbd("oauth_as_v1") + STATUS_CONF),
                      start=False, extra_modules=("status",))

    def conf_b(h):
        return standard_conf(h, OAuthASStore="dbd", extra=pg.dbd("oauth_as_v1")).replace(
            f'OAuthASIssuer "{h.issuer}"', f'OAuthASIssuer "{a.issuer}"')
    b = httpd_factory(conf_b, start=False)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        list(ex.map(lambda h: h.start(), (a, b)))
    assert psql("oauth_as_v1", "SELECT DISTINCT version FROM oauth_as_schema").split() == ["2"]
    assert psql("oauth_as_v1", "SELECT v, c, n FROM oauth_as_store WHERE k = repeat('0', 64)"
                ).strip() == "told|0|0"
    for x, y in ((a, b), (b, a)):
        g = get_code(x, "pub1", scope=OFFLINE, issuer=a.issuer)
        r = redeem(y, g)
        assert r.status_code == 200, r.text
    # a redeemed code's tombstone is a best-effort row
    assert int(psql("oauth_as_v1", "SELECT COUNT(*) FROM oauth_as_store WHERE c = 1")) >= 2
    # statements per PAR flow, on node a (pub1: push, /authorize with the consent remembered
    # by the flows above, redemption)
    def statements():
        r = session().get(a.issuer + "/server-status?auto", verify=a.ca, timeout=10)
        return int(dict(line.split(": ", 1) for line in r.text.splitlines()
                        if ": " in line)["OAuthASDbdStatements"])
    before = statements()
    for _ in range(10):
        verifier, challenge = Pkce()
        r = post(a, "/oauth/par", dict(PUB1, response_type="code", scope=OFFLINE, state="p",
                                       code_challenge=challenge, code_challenge_method="S256"))
        assert r.status_code == 201, r.text
        code = code_of(a, {"client_id": "pub1", "request_uri": r.json()["request_uri"]})
        assert redeem(a, code, verifier, "pub1").status_code == 200
    per_flow = (statements() - before) / 10
    print(f"\nOAuthASStore dbd on PostgreSQL: {per_flow:.2f} SQL statements per PAR flow "
          "(pub1, openid offline_access)")
    # 19 before issue 14's synchronous_commit switch; the refresh family is committed durably
    # and the flow's short-lived records asynchronously: two SETs (no commit) per such flow
    assert 0 < per_flow <= 22, per_flow


def test_store_unit_tests_on_postgres(pg):
    """The database store's unit tests of issue 14 (incr atomic across connections, classes,
    the cap on best-effort rows, the upgrade from version 1, values) against this PostgreSQL:
    the same statements must behave as on SQLite. The unit binary is built (ASan) if needed."""
    pg.run("createdb", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "oauth_as_unit")
    binary = os.path.join(REPO, "build", "unit", "test_store_dbd")
    subprocess.run(["nice", "make", "-s", "build/unit/test_store_dbd"], cwd=REPO, check=True,
                   capture_output=True, timeout=900)
    env = dict(os.environ, OAS_TEST_PGSQL=f"host=127.0.0.1 port={pg.port} dbname=oauth_as_unit "
               "user=postgres")
    r = subprocess.run([binary], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "on PostgreSQL: 10 tests" in r.stdout, r.stdout[-2000:]
    assert "PASSED  ] 10 test(s)" in r.stdout + r.stderr, r.stderr[-2000:]


def test_client_assertion_replayed_on_the_other_node(httpd_factory, pg):
    """Issue 15: a client assertion's jti is single-use across the nodes of a cluster (an
    atomic put-if-absent in the shared database): used on node a, replayed on node b."""
    from client import assert_json_error
    from test_705_client_assertion import assertion, assert_authenticated, call, form
    from test_705_client_assertion import conf as jwt_conf

    a = httpd_factory(lambda h: jwt_conf(h, OAuthASStore="dbd", extra=pg.dbd()))
    b = httpd_factory(lambda h: jwt_conf(h, OAuthASStore="dbd", extra=pg.dbd()).replace(
        f'OAuthASIssuer "{h.issuer}"', f'OAuthASIssuer "{a.issuer}"'))
    x = assertion(a, alg="ES256")   # aud: the issuer both nodes answer for
    assert_authenticated(call(a, "/oauth/introspect", form(x)), "/oauth/introspect")
    b.mark_log()
    assert_json_error(call(b, "/oauth/introspect", form(x)), 401, "invalid_client")
    b.wait_log("OAS06217")
    # a fresh assertion authenticates on node b
    assert_authenticated(call(b, "/oauth/introspect", form(assertion(a, alg="ES256"))),
                         "/oauth/introspect")
