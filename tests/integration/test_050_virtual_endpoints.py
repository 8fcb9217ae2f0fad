"""The endpoints other than /authorize are virtual (no file-system walk, like mod_proxy's
URLs): <Directory> sections do not reach them, their <Location> does. /authorize keeps the
walk, so a site may protect it with <Directory> as well as with <Location>."""
import pytest

from client import session
from oauth_conf import USERS, standard_conf


# AH01630: mod_authz_core's own [error] line for each request it denies
@pytest.mark.allow_log("AH01630")
def test_directory_sections_reach_authorize_not_the_virtual_endpoints(httpd_factory):
    # after the harness's own grant: the whole document root denied and marked
    walked = lambda h: (f'<Directory "{h.htdocs}">\n    Require all denied\n'
                        f'    Header always set X-Walked yes\n</Directory>\n')
    h = httpd_factory(lambda h: standard_conf(h, extra=walked(h)))
    s = session(h)
    assert s.get(h.issuer + "/").status_code == 403
    # virtual: no walk, so neither the denial nor the header; the module answers
    r = s.post(h.issuer + "/oauth/token", data={})
    assert r.status_code in (400, 401), r.status_code
    assert "error" in r.json()
    assert "X-Walked" not in r.headers
    r = s.get(h.issuer + "/.well-known/openid-configuration")
    assert r.status_code == 200 and "X-Walked" not in r.headers
    # /authorize keeps the walk (its <Location> Require valid-user then overrides the
    # denial, as <Location> does over <Directory>)
    r = s.get(h.issuer + "/authorize", params={"client_id": "conf1"},
              auth=("alice", USERS["alice"]), allow_redirects=False)
    assert r.headers.get("X-Walked") == "yes"
    assert r.status_code in (302, 400), r.status_code


@pytest.mark.allow_log("AH01630")
def test_location_sections_still_apply_to_virtual_endpoints(httpd_factory):
    h = httpd_factory(lambda h: standard_conf(
        h, extra="<Location /oauth/token>\n    Require all denied\n</Location>\n"))
    s = session(h)
    assert s.post(h.issuer + "/oauth/token", data={}).status_code == 403
    assert s.post(h.issuer + "/oauth/par", data={}).status_code in (400, 401)
