"""Open ecosystems (issue 20; INTERFACE.md "Open ecosystems" and its "Precise rules"): what a
desktop agent needs from the AS: a loopback redirect URI matches on any port (RFC 8252 §7.3,
the one exception to the exact match)."""

import pytest

from client import (assert_error_page, assert_json_error, authorize, authz_params, get_code,
                    redeem, register)
from oauth_conf import standard_conf

LOOPBACK = """
<OAuthASClient agent>
    OAuthASAuthMethod none
    OAuthASRedirectURI http://127.0.0.1/callback
    OAuthASRedirectURI http://[::1]:8080/callback
    OAuthASRedirectURI http://localhost:8080/callback
    OAuthASRedirectURI https://agent.test:8443/callback
    OAuthASScope openid
    OAuthASGrantType authorization_code
</OAuthASClient>
"""

register("agent", redirect_uris=["http://127.0.0.1/callback"])


@pytest.fixture
def ag(httpd_factory):
    return httpd_factory(lambda h: standard_conf(h, extra=LOOPBACK))


@pytest.mark.parametrize("uri,other", [
    ("http://127.0.0.1:51234/callback", "http://127.0.0.1:51235/callback"),
    ("http://127.0.0.1/callback", "http://127.0.0.1:80/callback"),
    ("http://[::1]:40001/callback", "http://[::1]:8080/callback"),
    ("http://[::1]/callback", "http://[::1]:40001/callback"),
])
def test_loopback_any_port(ag, uri, other):
    """The code goes to the port the agent asked for and redeems with that URI; the token
    request must name that URI, port included (RFC 6749 §4.1.3), not another registered
    form."""
    g = get_code(ag, "agent", scope="openid", redirect_uri=uri)
    assert g["query"] and g["redirect_uri"] == uri
    assert_json_error(redeem(ag, g, redirect_uri=other), 400, "invalid_grant")
    r = redeem(ag, g)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("uri", [
    "http://localhost:9999/callback",        # localhost: exact only (RFC 8252 §8.3)
    "https://agent.test:9443/callback",      # not loopback: exact only
    "http://127.0.0.1:51234/callback/x",     # another path
    "http://127.0.0.1:51234/callback?x=1",   # another query
    "http://127.0.0.2:51234/callback",       # another host
    "http://127.0.0.1.evil.test/callback",
    "http://127.0.0.1:51234@evil.test/callback",
])
def test_other_redirects_stay_exact(ag, uri):
    r = authorize(ag, authz_params("agent", redirect_uri=uri, scope="openid"))
    assert_error_page(r, 400)
