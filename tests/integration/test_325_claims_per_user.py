"""Issue 14: no live store record per access token. The user's claims are kept once per user
(userinfo answers those of the user's latest issuance, filtered by the token's scope), and an
access token of a refresh family names its grant by a public handle (claim gid), so openid
flows with claims cost records per user, not per flow: many of them never fill a small store.
Revoking a family still kills its access tokens at once."""

import re

import pytest

from client import (code_tokens, get_code, introspect, jwt_claims, redeem, refresh, revoke,
                    session, userinfo)
from oauth_conf import STATUS_CONF, standard_conf

ENTRIES = 200
FLOWS = 3 * ENTRIES
FULL = "openid profile email offline_access"


def shm_status(h, s):
    """The OAuthASShm* figures of /server-status?auto, by name without the prefix."""
    r = s.get(h.issuer + "/server-status?auto", timeout=10)
    assert r.status_code == 200, r.text[:300]
    return {k: int(v) for k, v in re.findall(r"^OAuthASShm(\w+): (\d+)$", r.text, re.M)}


@pytest.mark.catalogue("D07")
def test_openid_flows_with_claims_never_fill_a_small_store(httpd_factory):
    # the quotas are off: this is about what each flow leaves in the store
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStoreSize=ENTRIES, extra=STATUS_CONF,
                                              OAuthASClientQuota=0, OAuthASUserQuota=0,
                                              OAuthASAddressQuota=0),
                      extra_modules=("status",))
    s = session(h)
    first = {}
    for i in range(FLOWS):
        user = ("alice", "bob")[i % 2]
        g = get_code(h, "fp1", user=user, scope="openid profile email", expect_consent=False,
                     sess=s)
        r = redeem(h, g, sess=s)
        assert r.status_code == 200, (i, r.status_code, r.text)
        t = r.json()
        assert "id_token" in t
        first.setdefault(user, t["access_token"])
    u = shm_status(h, s)
    assert u["FullRefusals"] == 0, u
    # the flows leave their codes' tombstones (best effort) and one claims record per user
    assert u["EntriesLive"] <= 10, u
    # the first tokens still answer their user's claims
    for user, at in first.items():
        r = userinfo(h, at, sess=s)
        assert r.status_code == 200, r.text
        assert r.json() == {"sub": user, "email": f"{user}@example.test", "name": user}


def test_userinfo_filters_the_users_claims_by_the_tokens_scope(oas):
    h = oas
    narrow = code_tokens(h, "conf1", "openid")["access_token"]
    wide = code_tokens(h, "conf1", "openid profile email")["access_token"]
    assert userinfo(h, narrow).json() == {"sub": "alice"}
    assert userinfo(h, wide).json() == {"sub": "alice", "email": "alice@example.test",
                                        "name": "alice"}


@pytest.mark.catalogue("R06")
@pytest.mark.expect_log("OAS00134")
def test_revoking_a_family_kills_its_access_tokens(oas):
    h = oas
    t = code_tokens(h, "conf1", FULL)
    rt, at = t["refresh_token"], t["access_token"]
    r = refresh(h, "conf1", rt)
    assert r.status_code == 200, r.text
    at2 = r.json()["access_token"]
    # the access tokens name their grant by its handle, not by the refresh token's family id
    gid = jwt_claims(at)["gid"]
    assert len(gid) == 22 and jwt_claims(at2)["gid"] == gid
    assert rt[:22] not in at and rt[:22] != gid
    for a in (at, at2):
        assert introspect(h, a).json()["active"] is True
        assert userinfo(h, a).status_code == 200
    assert revoke(h, "conf1", rt).status_code == 200
    for a in (at, at2):
        assert introspect(h, a).json() == {"active": False}
        assert userinfo(h, a).status_code == 401
