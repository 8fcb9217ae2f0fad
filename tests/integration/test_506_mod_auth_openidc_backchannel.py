"""Issue 21: Debian's mod_auth_openidc (2.4.12) logged out by our back-channel logout token.

The RP of test_500 (a TLS <VirtualHost> of the same httpd, /app/ behind AuthType
openid-connect) is registered here with `OAuthASBackchannelLogoutURI` = its redirect URI with
`?logout=backchannel`. A browser signs in through it; then the user signs out at our
end-session endpoint directly (no id_token_hint: our confirmation page, decision=allow), not
through the RP. Our delivery thread posts the logout token to the RP over TLS verified with
the harness's certificate (OAuthASCACertificateFile; loopback allowed by OAuthASOutboundAllow);
mod_auth_openidc verifies it (our JWKS, iss, aud, events, no nonce), finds its session by the
ID token's `sid` and kills it: the next request to /app/ goes to /authorize again."""

import html
import urllib.parse

from client import parse_forms
from test_500_mod_auth_openidc import RP_CLIENT, browser, login_through_rp, rp_body

END_SESSION = "<Location /oauth/logout>\n    OAuthASEndpoint end-session\n</Location>\n"


def backchannel_body(h):
    text = rp_body(h, ("es256",))
    block = f"<OAuthASClient {RP_CLIENT}>\n"
    assert block in text
    text = text.replace(block, block + f"    OAuthASBackchannelLogoutURI "
                                       f"{h.rp_redirect}?logout=backchannel\n")
    # the RP is on loopback, with the harness's certificate
    return (text + END_SESSION + f'OAuthASCACertificateFile "{h.ca}"\n'
            "OAuthASOutboundAllow localhost\n")


def test_backchannel_logout_kills_the_rp_session(httpd_factory):
    h = httpd_factory(backchannel_body, extra_modules=("dir",))
    s = browser(h)
    r = login_through_rp(h, s)
    assert "sub=alice</p>" in r.text, r.text

    # sign out at our end-session endpoint: no hint, so our confirmation page, then allow
    r = s.get(h.issuer + "/oauth/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    form = parse_forms(r.text)[0]
    action = urllib.parse.urljoin(r.url, html.unescape(form["action"] or r.url))
    r = s.post(action, data=dict(form["hidden"], decision="allow"), allow_redirects=False,
               timeout=10)
    assert r.status_code in (200, 303), (r.status_code, r.text[:500])

    # mod_auth_openidc took the token (HTTP 200) ...
    h.wait_log(rf"OAS07002: back-channel logout of client {RP_CLIENT} delivered \(HTTP 200", 10)
    # ... and its session is gone: the same browser, its RP cookie still set, is sent to us
    assert any(c.name.startswith("mod_auth_openidc_session") for c in s.cookies), s.cookies
    r = s.get(h.rp_url + "/app/", allow_redirects=False, timeout=10)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    assert r.headers["Location"].startswith(h.issuer + "/authorize?"), r.headers["Location"]
