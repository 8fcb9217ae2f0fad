"""A real browser through our consent page (issue 8): Debian's Chromium, headless, driven by
playwright-core (tests/interop/browser.test.mjs).

The test server also serves a tiny static client app at /app/: index.html has a "Log in" link
(an /authorize URL with PKCE S256, state and nonce made here), callback.html shows the code it
receives.  The script opens the app, clicks "Log in", answers Basic authentication as alice,
checks that the consent page looks like a product (title with the client's name, scope
descriptions, a styled Allow button next to Deny, no CSP or console errors), saves screenshots
of the consent page and of the callback page in tests/integration/artifacts/, clicks Allow,
redeems the code at the token endpoint and calls userinfo.
"""

import html
import os
import re
import struct
import urllib.parse
import zlib

import pytest

from client import (RFC7636_CHALLENGE as CH, Client, Pkce, assert_error_page, consent_form,
                    redirect_params)
from interop_node import ensure_node_modules, run_node
from oauth_conf import USERS, standard_conf

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "artifacts")
CLIENT_NAME = "Acme Photo Book"
SECRET = "webapp-secret-3c9e51"

APP_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title></head>
<body><h1>{name}</h1><p>You are not signed in.</p>
<p><a id="login" href="{authorize}">Log in</a></p></body></html>
"""

APP_CALLBACK = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{name}: signed in</title></head>
<body><h1>{name}</h1><p>The authorization server sent you back with:</p>
<dl><dt>code</dt><dd id="code"></dd><dt>state</dt><dd id="state"></dd>
<dt>iss</dt><dd id="iss"></dd></dl>
<script>
  const q = new URLSearchParams(location.search);
  for (const k of ["code", "state", "iss"]) document.getElementById(k).textContent = q.get(k);
</script></body></html>
"""


def tiny_png():
    """A 1x1 PNG (the site's favicon: browsers ask for /favicon.ico, and a 404 is a console
    error, which the browser test counts)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00\x3b\x5b\xdb")) + chunk(b"IEND", b""))


def webapp_client(redirect_uri):
    return f"""
DirectoryIndex index.html
<OAuthASClient webapp>
    OAuthASClientName "{CLIENT_NAME}"
    OAuthASClientSecret "{SECRET}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI {redirect_uri}
    OAuthASScope openid profile email
    OAuthASGrantType authorization_code
</OAuthASClient>
"""


@pytest.mark.catalogue("H05")
def test_browser_consent_flow(httpd_factory):
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} missing: make deps installs chromium"
    ensure_node_modules()
    redirect = {}
    h = httpd_factory(lambda h: standard_conf(
        h, extra=webapp_client(redirect.setdefault("uri", f"{h.issuer}/app/callback.html"))),
        start=False, extra_modules=("dir",))
    verifier, challenge = Pkce()
    state, nonce = "st-" + os.urandom(8).hex(), "n-" + os.urandom(8).hex()
    h.start()
    redirect_uri = f"{h.issuer}/app/callback.html"
    assert redirect["uri"] == redirect_uri
    authorize = h.issuer + "/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": "webapp", "redirect_uri": redirect_uri,
        "scope": "openid profile email", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    h.write_file("htdocs/app/index.html",
                 APP_INDEX.format(name=CLIENT_NAME, authorize=html.escape(authorize)))
    h.write_file("htdocs/app/callback.html", APP_CALLBACK.format(name=CLIENT_NAME))
    with open(h.path("htdocs", "favicon.ico"), "wb") as f:
        f.write(tiny_png())
    os.chmod(h.path("htdocs", "favicon.ico"), 0o644)
    env = {
        "ISSUER": h.issuer, "APP_URL": h.issuer + "/app/", "CLIENT_ID": "webapp",
        "CLIENT_SECRET": SECRET, "CLIENT_NAME": CLIENT_NAME, "REDIRECT_URI": redirect_uri,
        "CODE_VERIFIER": verifier, "STATE": state,
        "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"],
        "ARTIFACTS": ARTIFACTS, "CHROMIUM": CHROMIUM,
    }
    rc, out = run_node(["--test", "--test-reporter=spec", "browser.test.mjs"], env, h.ca)
    print(out)
    assert rc == 0, f"node --test failed ({rc}):\n{out}"
    assert re.search(r"^. pass 1$", out, re.M), out
    for shot in ("consent.png", "callback.png"):
        p = os.path.join(ARTIFACTS, shot)
        assert os.path.getsize(p) > 5000, p
        print(f"screenshot saved: {p}")


@pytest.mark.catalogue("H02")
def test_origin_null_from_our_own_page(oas):
    """What Chromium sends when the user clicks Allow (seen in the browser test): our pages'
    Referrer-Policy: no-referrer makes the form POST carry `Origin: null`, with
    `Sec-Fetch-Site: same-origin`.  That is our own page: accepted.  `Origin: null` with any
    other Sec-Fetch-Site, or alone, stays refused (SECURITY.md H02)."""
    f = Client(oas)
    form = consent_form(f.authorize(f.authz_params("conf1", challenge=CH, state="on1")))
    for site in ("cross-site", "same-site", "none", None):
        headers = {"Origin": "null", **({"Sec-Fetch-Site": site} if site else {})}
        assert_error_page(f.decide(form, headers=headers), 403)
    r = f.decide(form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    q = redirect_params(r, "https://rp1.test/cb")
    assert q["code"] and q["state"] == "on1"
