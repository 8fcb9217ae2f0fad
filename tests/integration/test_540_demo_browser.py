"""`make run`'s demo in a real browser (issue 8): Debian's headless Chromium, driven by
playwright-core (tests/interop/demo-browser.test.mjs), walks the newcomer's path.

tools/demo.sh runs on a free port (the `demo` fixture of test_190_readme).  The browser opens
/app/ (mod_auth_openidc, client demo-rp), is sent to our /authorize, logs in as demo/demo,
checks our consent page (client name, scope descriptions, a styled Allow next to Deny) and
saves a screenshot of it, clicks Allow, lands on /app/ showing sub and email from the ID token
(screenshot), clicks "Call the API" and checks that /api/ (AuthType oauth-as) answered for the user
with the access token.  No console errors, no CSP violations.  The screenshots go to
tests/integration/artifacts/ (git-ignored): consent-demo.png and app-demo.png.
"""

import os
import re

from interop_node import ensure_node_modules, run_node
from test_190_readme import demo  # noqa: F401  (fixture: tools/demo.sh on a free port)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "artifacts")
SHOTS = ("consent-demo.png", "app-demo.png")


def test_demo_in_chromium(demo):  # noqa: F811
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} missing: make deps installs chromium"
    ensure_node_modules()
    workdir, port = demo
    for shot in SHOTS:  # no stale screenshot from an earlier run can pass for this one
        try:
            os.unlink(os.path.join(ARTIFACTS, shot))
        except FileNotFoundError:
            pass
    env = {"DEMO_URL": f"https://localhost:{port}", "ARTIFACTS": ARTIFACTS,
           "CHROMIUM": CHROMIUM}
    rc, out = run_node(["--test", "--test-reporter=spec", "demo-browser.test.mjs"], env,
                       str(workdir / "demo" / "tls.crt"))
    print(out)
    assert rc == 0, f"node --test failed ({rc}):\n{out}"
    assert re.search(r"^. pass 1$", out, re.M), out
    assert re.search(r'^API: \{.*"sub":"demo"', out, re.M), out
    for shot in SHOTS:
        p = os.path.join(ARTIFACTS, shot)
        assert os.path.getsize(p) > 5000, p
        print(f"screenshot saved: {p}")
