"""README "An MCP server behind Apache" (issue 20), followed as an admin and an agent developer
would: every block comes from the README's text (the `<!-- mcp-walkthrough:NAME -->` markers),
changed only where a test must (the host name for the server's, its ports, the paths under
/etc). Step 1's commands make the signing key and the user; step 2's configuration (which is
conf/mcp.conf.example, byte for byte) is the whole body of one httpd; step 3's command starts
the example MCP server; steps 4 and 5 run the README's agent.mjs with the README's command
lines, given only the MCP URL (and, in step 5, the agent's own metadata document, the README's
JSON served by the same httpd). The test plays the user's browser on the URL the agent prints
(Basic login, consent, back to the agent's loopback port) and checks what the tool answered.

Only for the test, after the README's configuration: the metadata document lives on this
loopback server, so `OAuthASOutboundAllow localhost` and its certificate as
`OAuthASCACertificateFile` (a real document is on the public internet, under a public CA)."""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest

from client import authorize, consent_form, decide, session
from harness import REPO, Httpd, free_port, wait_listening
from interop_node import INTEROP, ensure_node_modules
from oauth_conf import USERS

README = os.path.join(REPO, "README.md")
EXAMPLE = os.path.join(REPO, "conf", "mcp.conf.example")
HOST = "https://mcp.example.org"
DOCUMENT_URL = "https://agent.example/oauth/client.json"
BLOCKS = {"setup": "sh", "conf": "apache", "server": "sh", "run": "sh", "agent": "js",
          "document": "json", "run-document": "sh"}


def blocks():
    """{name: text} of the section's marked blocks, each of the language BLOCKS says."""
    with open(README) as f:
        found = re.findall(r"^<!-- mcp-walkthrough:([\w-]+) -->\n```(\w+)\n(.*?)^```$", f.read(),
                           re.S | re.M)
    assert {name: lang for name, lang, _ in found} == BLOCKS, found
    assert len(found) == len(BLOCKS), "a marker is used twice"
    return {name: text for name, _, text in found}


def agent_line(block):
    """The block's one `node agent.mjs ...` command."""
    lines = [l for l in block.splitlines() if l.startswith("node agent.mjs ")]
    assert len(lines) == 1, block
    return lines[0]


def test_readme_mcp_texts():
    """The configuration block is conf/mcp.conf.example as it stands (test_010 configtests the
    file); the SDK the README installs is the version tests/interop pins; the MCP server is
    started from tests/interop with `npm ci` (the pinned tree)."""
    b = blocks()
    with open(EXAMPLE) as f:
        assert b["conf"] == f.read(), "README's configuration and conf/mcp.conf.example differ"
    with open(os.path.join(INTEROP, "package.json")) as f:
        pinned = json.load(f)["dependencies"]["@modelcontextprotocol/sdk"]
    assert re.search(rf"npm install @modelcontextprotocol/sdk@{re.escape(pinned)}$",
                     b["run"], re.M), b["run"]
    assert b["server"].splitlines()[0] == "cd tests/interop && npm ci", b["server"]
    assert agent_line(b["run"]) == f"node agent.mjs {HOST}/mcp"
    assert agent_line(b["run-document"]) == f"node agent.mjs {HOST}/mcp {DOCUMENT_URL}"
    assert json.loads(b["document"])["client_id"] == DOCUMENT_URL


def _clean_env(**more):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(more)
    return env


def _kill(proc):
    """Ends proc's process group (bash and the node it started), unless it ended already."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


class Walk:
    """The server of the walk-through (h), the MCP server (mcp), and the agent's directory."""

    def __init__(self, workdir):
        self.b = blocks()
        self.h = Httpd(workdir)
        self.apache2 = self.h.path("apache2")     # what the README calls /etc/apache2
        self.mcp = None
        self.mcp_log = self.h.path("logs", "mcp-server.log")

    def setup(self):
        """Step 1 as written (htpasswd asks for alice's password twice, on stdin here)."""
        pw = USERS["alice"]
        out = subprocess.run(["bash", "-euo", "pipefail", "-c",
                              self.b["setup"].replace("/etc/apache2", self.apache2)],
                             input=f"{pw}\n{pw}\n", capture_output=True, text=True, timeout=60,
                             start_new_session=True)   # no terminal: htpasswd reads stdin
        assert out.returncode == 0, out.stdout + out.stderr
        assert os.path.exists(os.path.join(self.apache2, "oauth", "as-es256.pem"))

    def start_mcp_server(self):
        """Step 3's command, on a free port (node_modules: the pinned tree of tests/interop)."""
        cd, command = self.b["server"].strip().splitlines()
        self.mcp_port = free_port()
        command = command.replace("MCP_PORT=3000", f"MCP_PORT={self.mcp_port}")
        log = open(self.mcp_log, "w")
        self.mcp = subprocess.Popen(["bash", "-c", command], cwd=INTEROP,
                                    stdout=log, stderr=subprocess.STDOUT, env=_clean_env(),
                                    start_new_session=True)
        log.close()
        wait_listening(self.mcp_port, self.mcp, "the MCP server", lambda: open(self.mcp_log).read())

    def config(self):
        """Step 2's block, for this server: its issuer, the MCP server's port, the files of
        step 1; the module is the build's (the harness loads it)."""
        text = re.sub(r"^LoadModule oauth_as_module .*\n", "", self.b["conf"], flags=re.M)
        text = (text.replace(HOST, self.h.issuer)
                .replace("127.0.0.1:3000", f"127.0.0.1:{self.mcp_port}")
                .replace("/etc/apache2", self.apache2))
        assert "/etc/" not in text and "example.org/" not in text, text
        return text + f"""
# test_877 only: the agent's metadata document is on this (loopback) server
OAuthASOutboundAllow localhost
OAuthASCACertificateFile "{self.h.ca}"
"""

    def start(self):
        self.setup()
        self.start_mcp_server()
        self.h.body = self.config()
        # step 5's document, published at its URL (here on this server)
        doc = self.b["document"].replace("https://agent.example", self.h.issuer)
        self.document_url = DOCUMENT_URL.replace("https://agent.example", self.h.issuer)
        self.h.write_file("htdocs/oauth/client.json", doc)
        # steps 4-5's directory: the README's agent.mjs, and the SDK its npm install gives
        self.agent_dir = self.h.path("my-agent")
        self.h.write_file("my-agent/agent.mjs", self.b["agent"])
        os.symlink(os.path.join(INTEROP, "node_modules"), self.h.path("my-agent", "node_modules"))
        self.h.start()

    def stop(self):
        if self.mcp is not None:
            _kill(self.mcp)
        self.h.stop()

    def run_agent(self, block):
        """The block's `node agent.mjs ...` for this server; plays the user's browser on the
        URL the agent prints. Returns (the agent's output, the authorization URL)."""
        line = agent_line(block).replace(HOST, self.h.issuer).replace(DOCUMENT_URL,
                                                                      self.document_url)
        agent = subprocess.Popen(["bash", "-c", line], cwd=self.agent_dir,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 env=_clean_env(NODE_EXTRA_CA_CERTS=self.h.ca),
                                 start_new_session=True)
        lines = queue.Queue()

        def read():
            for l in agent.stdout:
                lines.put(l)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        out = []
        try:
            while True:
                line = lines.get(timeout=60)
                out.append(line)
                if line.startswith("Sign in at "):
                    break
            url = line[len("Sign in at "):].strip()
            callback = self.browser(url)
            with session() as s:   # the browser's redirect reaches the agent's loopback port
                r = s.get(callback, timeout=10)
            assert r.status_code == 200 and r.text == "Signed in: back to the agent.", r.text
            assert agent.wait(timeout=60) == 0, "".join(out)
        finally:
            _kill(agent)
            reader.join(timeout=10)
        while not lines.empty():
            out.append(lines.get())
        text = "".join(out)
        print(text)
        return text, urllib.parse.urlsplit(url)

    def browser(self, url):
        """The user's step on the agent's authorization URL: alice's Basic login, the consent
        page, allow; returns where the browser goes next (the agent's redirect URI)."""
        u = urllib.parse.urlsplit(url)
        assert f"{u.scheme}://{u.netloc}{u.path}" == self.h.issuer + "/authorize", url
        with session(self.h) as s:
            page = authorize(self.h, raw_query=u.query, user="alice", sess=s)
            r = decide(self.h, consent_form(page), "allow", user="alice", sess=s)
        assert r.status_code == 302, (r.status_code, r.text[:300])
        location = r.headers["Location"]
        assert re.match(r"^http://127\.0\.0\.1:\d+/callback\?", location), location
        return location

    def requests(self, since):
        """The access log's "METHOD path status" lines after line `since`."""
        with open(self.h.accesslog) as f:
            log = f.read().splitlines()[since:]
        return [" ".join(m.groups()) for m in
                (re.search(r'"(\w+) (\S+) HTTP/1\.1" (\d+) ', l) for l in log) if m]

    def log_lines(self):
        with open(self.h.accesslog) as f:
            return len(f.read().splitlines())


@pytest.fixture(scope="module")
def walk(workdir_base):
    ensure_node_modules()
    w = Walk(os.path.join(workdir_base, "test_877_mcp_walkthrough"))
    try:
        w.start()
        yield w
    finally:
        w.stop()
    bad = w.h.check_error_log()
    assert not bad, bad
    with open(w.mcp_log) as f:
        out = f.read()
    assert "Error" not in out, out
    shutil.rmtree(w.h.workdir, ignore_errors=True)


def whoami(out):
    return json.loads(re.search(r"^whoami: (\{.*\})$", out, re.M).group(1))


def test_readme_mcp_agent_registers(walk):
    """Step 4: the agent with only the MCP URL. The SDK gets 401 at /mcp, reads the resource
    metadata and our metadata, registers (201, a dyn- client), prints the authorization URL
    (PKCE S256, the MCP resource, its scope); after the user's login and consent it redeems the
    code and the tool answers with alice, its client and the scope, the token kept from the MCP
    server."""
    since = walk.log_lines()
    out, url = walk.run_agent(walk.b["run"])
    cid = re.search(r"^client_id: (dyn-[A-Za-z0-9_-]{22})$", out, re.M).group(1)
    q = dict(urllib.parse.parse_qsl(url.query))
    assert q["client_id"] == cid and q["resource"] == walk.h.issuer + "/mcp", q
    assert q["code_challenge_method"] == "S256" and q["scope"] == "mcp.tools", q
    assert re.search(r"^tools: whoami$", out, re.M), out
    assert whoami(out) == {"user": "alice", "client_id": cid, "scope": "mcp.tools",
                           "token_reached_backend": False}, out
    seen = walk.requests(since)
    for step in ("POST /mcp 401", "GET /.well-known/oauth-protected-resource/mcp 200",
                 "GET /.well-known/oauth-authorization-server 200", "POST /oauth/register 201",
                 "GET /authorize?", "POST /authorize 302", "POST /oauth/token 200",
                 "POST /mcp 200"):
        assert any(s.startswith(step) for s in seen), (step, seen)
    order = [next(i for i, s in enumerate(seen) if s.startswith(step))
             for step in ("POST /mcp 401", "POST /oauth/register 201", "POST /oauth/token 200",
                          "POST /mcp 200")]
    assert order == sorted(order), seen
    assert f"client {cid} registered" in walk.h.error_log()


def test_readme_mcp_agent_metadata_document(walk):
    """Step 5: the agent names itself by the README's document (served at its URL): the SDK
    sends the URL as client_id without registering, the module fetches the document once, the
    loopback redirect without a port in the document matches the agent's port, and the tool
    answers with alice and the document's URL as the client."""
    since = walk.log_lines()
    out, url = walk.run_agent(walk.b["run-document"])
    assert re.search(rf"^client_id: {re.escape(walk.document_url)}$", out, re.M), out
    q = dict(urllib.parse.parse_qsl(url.query))
    assert q["client_id"] == walk.document_url, q
    assert re.match(r"^http://127\.0\.0\.1:\d+/callback$", q["redirect_uri"]), q
    assert whoami(out) == {"user": "alice", "client_id": walk.document_url, "scope": "mcp.tools",
                           "token_reached_backend": False}, out
    seen = walk.requests(since)
    assert not [s for s in seen if s.startswith("POST /oauth/register")], seen
    assert [s for s in seen if s.startswith("GET /oauth/client.json")] == [
        "GET /oauth/client.json 200"], seen
    assert "POST /oauth/token 200" in seen and "POST /mcp 200" in seen, seen
    assert f"client {walk.document_url}: metadata document fetched" in walk.h.error_log()
