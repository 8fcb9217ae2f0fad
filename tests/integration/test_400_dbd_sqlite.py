"""OAuthASStore dbd on SQLite (issue 7): the standard flows with everything in the database and
with `shm dbd`, durability of refresh tokens across a full restart, single-use codes under a
concurrent burst, a config without mod_dbd refused by `apache2 -t`, one with it read without
warnings."""

import concurrent.futures
import os

import pytest

from client import OFFLINE, PUB1, Pkce, code_of, get_code, post, redeem, refresh, session
from harness import unexpected_log_lines
from oauth_conf import sqlite_dbd, standard_conf


def dbd_conf(store):
    return lambda h: standard_conf(h, OAuthASStore=store, extra=sqlite_dbd(h))


@pytest.mark.parametrize("store", ["dbd", "shm dbd"])
@pytest.mark.allow_log("OAS00131", "OAS00134")
def test_flows(httpd_factory, store):
    h = httpd_factory(dbd_conf(store))
    g = get_code(h, "pub1", scope=OFFLINE)
    code, verifier = g["code"], g["verifier"]
    r = redeem(h, code, verifier, "pub1")
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["access_token"].startswith("ey") and tok["refresh_token"]
    r2 = refresh(h, "pub1", tok["refresh_token"])
    assert r2.status_code == 200, r2.text
    assert r2.json()["refresh_token"] != tok["refresh_token"]        # pub1 always rotates
    assert refresh(h, "pub1", tok["refresh_token"]).json()["error"] == "invalid_grant"
    # the replayed old token revoked the family: the new one is dead too
    assert refresh(h, "pub1", r2.json()["refresh_token"]).status_code == 400
    # a code is single-use
    assert redeem(h, code, verifier, "pub1").json()["error"] == "invalid_grant"
    # PAR: the request_uri works once
    verifier, challenge = Pkce()
    r = post(h, "/oauth/par", dict(PUB1, response_type="code", scope="openid", state="p",
                                   code_challenge=challenge, code_challenge_method="S256"))
    assert r.status_code == 201, r.text
    ru = r.json()["request_uri"]
    code = code_of(h, {"client_id": "pub1", "request_uri": ru})
    assert redeem(h, code, verifier, "pub1").status_code == 200
    # the tables are in the SQLite file, owned by the children's user when we are root
    db = os.path.join(h.datadir, "oas.sqlite")
    assert os.path.getsize(db) > 0
    if os.geteuid() == 0:
        assert os.stat(db).st_uid != 0


@pytest.mark.catalogue("D04")
def test_refresh_token_and_consent_survive_restart(httpd_factory):
    h = httpd_factory(dbd_conf("shm dbd"))
    g = get_code(h, "pub1", scope=OFFLINE)
    code, verifier = g["code"], g["verifier"]
    rt = redeem(h, code, verifier, "pub1").json()["refresh_token"]
    h.restart()   # a full stop and start: shm is gone, the database stays
    r = refresh(h, "pub1", rt)
    assert r.status_code == 200, r.text
    # the remembered consent survived too: /authorize answers with a code at once
    verifier, challenge = Pkce()
    r = session().get(h.issuer + "/authorize", verify=h.ca, allow_redirects=False,
                      auth=("alice", "alice-password"), timeout=10,
                      params=dict(PUB1, response_type="code", scope=OFFLINE, state="x",
                                  code_challenge=challenge, code_challenge_method="S256"))
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.text[:300]


@pytest.mark.catalogue("X01")
@pytest.mark.allow_log("OAS00131", "OAS00134")
def test_concurrent_redemptions_one_winner(httpd_factory):
    h = httpd_factory(dbd_conf("dbd"))
    g = get_code(h, "pub1", scope=OFFLINE)
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        results = list(ex.map(lambda _: redeem(h, g), range(50)))
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(400) == 49, statuses       # invalid_grant, never a 5xx
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code == 400)


def test_dbd_without_mod_dbd_fails_configtest(httpd_factory):
    h = httpd_factory(dbd_conf("dbd"), start=False)
    h.write_config()
    text = open(h.conf).read().replace("LoadModule dbd_module", "#LoadModule dbd_module")
    for d in ("DBDriver ", "DBDParams ", "DBDMin "):
        text = text.replace(d, "#" + d)
    open(h.conf, "w").write(text)
    rc, out = h._apache("-t")
    assert rc != 0
    assert "OAuthASStore dbd needs mod_dbd" in out, out


def test_dbd_without_dbdriver_fails_configtest(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStore="dbd"), start=False)
    rc, out = h.configtest()
    assert rc != 0
    assert "DBDriver" in out, out


@pytest.mark.parametrize("vhost_db", ["inherited", "own"])
def test_dbd_configtest_prepares_each_statement_once(httpd_factory, vhost_db):
    """The harness's plain-HTTP vhost has no DBD directives of its own, so httpd hands it the
    main server's mod_dbd configuration itself: registering the statements for both servers
    made mod_dbd warn (AH02653, one line per statement) at every configuration read, and in
    the error_log at every graceful restart. A vhost with a database of its own is configured
    apart and must read quietly too."""
    h = httpd_factory(dbd_conf("dbd"), start=False)
    h.write_config()
    if vhost_db == "own":
        text = open(h.conf).read()
        vhost_params = f'    SSLEngine off\n    DBDParams "{h.datadir}/vhost.sqlite"\n'
        assert text.count("    SSLEngine off\n") == 1
        open(h.conf, "w").write(text.replace("    SSLEngine off\n", vhost_params))
    rc, out = h._apache("-t")
    assert rc == 0, out
    assert "AH02653" not in out, out
    assert not unexpected_log_lines(out), out
