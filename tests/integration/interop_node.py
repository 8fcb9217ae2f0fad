"""Running the node interop tests (tests/interop: openid-client, playwright-core + Chromium).

    ensure_node_modules()                       # `npm ci` when node_modules is missing/stale
    rc, out = run_node(["--test", "openid-client.test.mjs"], env={...}, ca=h.ca)
    run_node_tests("openid-client-fapi2.test.mjs", env, h.ca, passed=6)   # ... and assert
    env = openid_client_env(h)                  # ... the openid-client scripts' {...}

The dependencies are pinned in tests/interop/package-lock.json; `npm ci` installs exactly
those.  After a successful install the lock file's SHA-256 is written to node_modules, so a
changed package-lock.json triggers a fresh `npm ci` and an unchanged one costs nothing.
"""

import hashlib
import os
import re
import subprocess

import pytest

INTEROP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop")
_STAMP = os.path.join(INTEROP, "node_modules", ".oas-lock-sha256")


def _lock_hash():
    with open(os.path.join(INTEROP, "package-lock.json"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ensure_node_modules():
    want = _lock_hash()
    try:
        with open(_STAMP) as f:
            if f.read().strip() == want:
                return
    except OSError:
        pass
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=INTEROP,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if p.returncode != 0:
        pytest.fail(f"npm ci in {INTEROP} failed ({p.returncode}):\n{p.stdout}", pytrace=False)
    with open(_STAMP, "w") as f:
        f.write(want + "\n")


def run_node(args, env, ca, timeout=120):
    """node ARGS in tests/interop with env added; TLS trusts `ca` (NODE_EXTRA_CA_CERTS).
    Returns (returncode, combined output)."""
    full = {k: v for k, v in os.environ.items() if not k.endswith("_proxy") and
            not k.endswith("_PROXY")}
    full.update(env)
    full["NODE_EXTRA_CA_CERTS"] = ca
    p = subprocess.run(["node"] + list(args), cwd=INTEROP, env=full, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout


def run_node_tests(script, env, ca, passed):
    """`node --test` of one script (spec reporter, printed); asserts that it exited 0 and that
    exactly `passed` tests passed (a script that silently ran fewer fails). Returns its output."""
    rc, out = run_node(["--test", "--test-reporter=spec", script], env, ca)
    print(out)
    assert rc == 0, f"node --test {script} failed ({rc}):\n{out}"
    assert re.search(rf"^. pass {passed}$", out, re.M) and re.search(r"^. fail 0$", out, re.M), out
    return out


def openid_client_env(h):
    """The environment of the openid-client scripts (tests/interop/openid-client*.test.mjs)
    against server h with the standard clients: its issuer, alice's password, conf1
    (confidential), pub1 (public) and svc1 (client_credentials)."""
    from oauth_conf import CLIENTS, RESOURCE, USERS
    return {
        "ISSUER": h.issuer,
        "OIDC_USER": "alice", "OIDC_PASSWORD": USERS["alice"],
        "CONF_CLIENT_ID": "conf1", "CONF_CLIENT_SECRET": CLIENTS["conf1"]["secret"],
        "CONF_REDIRECT_URI": CLIENTS["conf1"]["redirect_uris"][0],
        "PUBLIC_CLIENT_ID": "pub1", "PUBLIC_REDIRECT_URI": CLIENTS["pub1"]["redirect_uris"][0],
        "CC_CLIENT_ID": "svc1", "CC_CLIENT_SECRET": CLIENTS["svc1"]["secret"],
        "RESOURCE": RESOURCE,
    }
