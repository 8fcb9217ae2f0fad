"""The README's walk-throughs, run as a newcomer would: `make run`'s demo (tools/demo.sh) on a
free port, then every shell block between the walkthrough markers, unchanged but for the port."""

import os
import pathlib
import shutil
import tempfile
import re
import signal
import socket
import subprocess
import time

import pytest

from harness import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def walkthrough_blocks():
    text = open(os.path.join(ROOT, "README.md")).read()
    sections = re.findall(r"<!-- walkthrough:begin -->(.*?)<!-- walkthrough:end -->", text, re.S)
    blocks = [re.search(r"```sh\n(.*?)```", s, re.S).group(1) for s in sections]
    assert len(blocks) >= 3, "README lost its walk-throughs"
    return blocks


@pytest.fixture
def demo():
    # not pytest's tmp_path: it is 0700, and httpd's children (nobody) must read the demo files
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="oas-readme-"))
    os.chmod(workdir, 0o755)
    demo_dir = workdir / "demo"
    port = free_port()
    env = dict(os.environ, PORT=str(port), DEMO_DIR=str(demo_dir))
    log = open(workdir / "demo.log", "w")
    proc = subprocess.Popen([os.path.join(ROOT, "tools", "demo.sh")], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, open(workdir / "demo.log").read()
            assert time.time() < deadline, "demo did not start"
            time.sleep(0.1)
    yield workdir, port
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=15)
    log.close()
    errors = [l for l in open(workdir / "demo.log") if re.search(r"\[(\w+:)?(error|crit|alert|emerg)\]", l)]
    assert not errors, errors
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["code-flow", "par-flow", "keys-flow"])
def test_readme_walkthrough(demo, index):
    workdir, port = demo
    script = walkthrough_blocks()[index].replace("localhost:8443", f"localhost:{port}")
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=workdir,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    print(out.stdout)
    assert re.search(r'"issuer":"https://localhost:%d"' % port, out.stdout) or index != 0
    location = next(l for l in lines if l.startswith(f"https://localhost:{port}/callback?"))
    assert re.search(r"[?&]code=[A-Za-z0-9_-]{43}(&|$)", location)
    assert "iss=https%3A%2F%2Flocalhost%3A" in location
    token = lines[-1]
    assert '"access_token":"ey' in token and '"id_token":"ey' in token, token
    assert '"token_type":"Bearer"' in token
