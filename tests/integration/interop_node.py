"""Running the node interop tests (tests/interop: openid-client, playwright-core + Chromium).

    ensure_node_modules()                       # `npm ci` when node_modules is missing/stale
    rc, out = run_node(["--test", "openid-client.test.mjs"], env={...}, ca=h.ca)

The dependencies are pinned in tests/interop/package-lock.json; `npm ci` installs exactly
those.  After a successful install the lock file's SHA-256 is written to node_modules, so a
changed package-lock.json triggers a fresh `npm ci` and an unchanged one costs nothing.
"""

import hashlib
import os
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
