"""The Device Authorization Grant (issue 22) with a real client library and a real browser:
openid-client 6's device flow functions poll while Debian's Chromium (playwright-core) plays
the user at the verification page (tests/interop/openid-client-device.test.mjs): allow (tokens,
refresh), deny (access_denied), and DPoP-bound tokens."""

import os

from interop_node import ensure_node_modules, run_node_tests
from oauth_conf import USERS, standard_conf
from test_530_browser import tiny_png

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "artifacts")
DEVICE_GT = "urn:ietf:params:oauth:grant-type:device_code"
NAME = "Living Room TV"


def conf(h):
    htpasswd = h.path("conf", "users.htpasswd")
    return standard_conf(h, OAuthASDeviceInterval=1, extra=f"""
<OAuthASClient tv1>
    OAuthASClientName "{NAME}"
    OAuthASAuthMethod none
    OAuthASScope openid profile offline_access
    OAuthASGrantType {DEVICE_GT} refresh_token
</OAuthASClient>
<Location /oauth/device>
    OAuthASEndpoint device
</Location>
<Location /device>
    OAuthASEndpoint device-verify
    AuthType Basic
    AuthName "oauth-as test"
    AuthUserFile "{htpasswd}"
    Require valid-user
</Location>
""")


def test_openid_client_device_flow_in_chromium(httpd_factory):
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} missing: make deps installs chromium"
    ensure_node_modules()
    h = httpd_factory(conf)
    with open(h.path("htdocs", "favicon.ico"), "wb") as f:  # a 404 is a console error
        f.write(tiny_png())
    os.chmod(h.path("htdocs", "favicon.ico"), 0o644)
    env = {"ISSUER": h.issuer, "DEVICE_CLIENT_ID": "tv1", "DEVICE_CLIENT_NAME": NAME,
           "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"], "ARTIFACTS": ARTIFACTS,
           "CHROMIUM": CHROMIUM}
    run_node_tests("openid-client-device.test.mjs", env, h.ca, passed=4)
    assert os.path.getsize(os.path.join(ARTIFACTS, "device-consent.png")) > 5000
