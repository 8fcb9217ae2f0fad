"""Issue 14 (availability): refresh-token rotation costs one record per family, not one per
use. Before, each rotation left a reuse marker for the family's whole lifetime (4,999
refreshes filled a 10,000-entry store); now a family is one record and one empty rotation
ticket, whatever its age, and revoking it frees both. Shown on a small store: many refreshes
of one family leave the store's occupancy as it was (an access token has no record of its
own either), nothing answers 503, revoking the family gives its two entries back, and afterwards another
user completes a flow."""

import secrets
import urllib.parse

import pytest

from client import Pkce, parse_forms, session
from oauth_conf import CLIENTS, CONF1_SECRET, USERS, standard_conf

STATUS_CONF = """
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
"""
STORE = 600
REFRESHES = 400  # the previous build's two records per refresh would fill the store


def shm_entries(h, s):
    r = s.get(h.issuer + "/server-status?auto", timeout=10)
    assert r.status_code == 200, r.text[:300]
    for line in r.text.splitlines():
        k, _, v = line.partition(": ")
        if k == "OAuthASShmEntries":
            return int(v)
    raise AssertionError(r.text[:500])


def code_flow(h, s, client_id, user, scope):
    """A code flow of user for client_id (consent approved): the token response."""
    ru = CLIENTS[client_id]["redirect_uris"][0]
    verifier, challenge = Pkce()
    auth = (user, USERS[user])
    state = secrets.token_urlsafe(8)
    r = s.get(h.issuer + "/authorize", auth=auth, timeout=10, allow_redirects=False,
              params={"response_type": "code", "client_id": client_id, "redirect_uri": ru,
                      "scope": scope, "state": state, "code_challenge": challenge,
                      "code_challenge_method": "S256"})
    if r.status_code == 200:  # the consent page
        fields = dict(parse_forms(r.text)[0]["hidden"], decision="allow")
        r = s.post(r.url, data=fields, auth=auth, timeout=10, allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text[:300])
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    assert q.get("state") == state and "code" in q, q
    data = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": ru,
            "code_verifier": verifier}
    kw = {"data": data}
    if CLIENTS[client_id]["secret"]:
        kw["auth"] = (client_id, CLIENTS[client_id]["secret"])
    else:
        data["client_id"] = client_id
    r = s.post(h.issuer + "/oauth/token", timeout=10, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(h, s, rt):
    return s.post(h.issuer + "/oauth/token", timeout=30,
                  data={"grant_type": "refresh_token", "refresh_token": rt,
                        "client_id": "pub1"})


@pytest.mark.catalogue("R04")
@pytest.mark.expect_log("OAS00134")  # the reuse at the end revokes the family
def test_many_rotations_of_one_family_never_fill_a_small_store(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStoreSize=STORE, extra=STATUS_CONF),
                      extra_modules=("status",))
    s = session(h)
    rt = code_flow(h, s, "pub1", "alice", "openid offline_access")["refresh_token"]
    before = shm_entries(h, s)
    for i in range(REFRESHES):
        r = refresh(h, s, rt)
        assert r.status_code == 200, (i, r.status_code, r.text)
        prev, rt = rt, r.json()["refresh_token"]
    # nothing per rotation (the previous build: two per rotation) and nothing per access token
    # (it names its family by a handle; the user's claims are one record, kept since the code
    # flow); a little room for counters of other kinds whose window may turn meanwhile
    grown = shm_entries(h, s) - before
    assert 0 <= grown <= 3, grown
    # the last token but one again is reuse: the family is revoked, its record and ticket freed
    r = refresh(h, s, prev)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert shm_entries(h, s) - before <= grown - 2 + 1, (grown, shm_entries(h, s) - before)
    assert refresh(h, s, rt).status_code == 400
    # another user completes a flow on the same store
    t = code_flow(h, s, "conf1", "bob", "openid offline_access")
    r = s.post(h.issuer + "/oauth/token", auth=("conf1", CONF1_SECRET), timeout=10,
               data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]})
    assert r.status_code == 200, r.text
