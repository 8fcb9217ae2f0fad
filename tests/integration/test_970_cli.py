"""The oauth-as tool (issue 23, docs/oauth-as.1): each subcommand, its bad input (a clear message,
exit status 2, never a crash), and what it makes used by a real server: the signing key from
`keygen`, a client secret hashed by `hash-secret`, a client JWKS from `jwks` (a private_key_jwt
grant verifies with it). `check-token` verifies tokens of that server over verified TLS: a
client_credentials token is valid; tampered, expired, wrong-audience, wrong-typ and
unknown-key tokens are invalid (exit 1); an unreachable or wrong issuer exits 2. The lines
`rotate-key` prints, applied step by step to a server, rotate its key without a gap."""

import json
import os
import re
import secrets
import stat
import subprocess
import time

import pytest

from client import DPoPKey, b64url, jwt_parts, load_private, post, register, token
from harness import REPO, Httpd, module_scoped
from oauth_conf import RESOURCE, standard_conf

# OAS_CLI: another build (make integration-asan: build-asan/oauth-as, ASan + UBSan)
CLI = os.environ.get("OAS_CLI") or os.path.join(REPO, "build", "oauth-as")
SECRET = "cli-secret-" + "5f3a9c" * 3
TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
register("cli1", SECRET)


def run(*args, stdin=None, check=None, cwd=None):
    """oauth-as ARGS: (exit status, stdout, stderr)."""
    if not os.path.exists(CLI):
        pytest.fail(f"{CLI} is missing: build it first (make all or make cli)")
    p = subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, timeout=60,
                       cwd=cwd)
    assert "Sanitizer" not in p.stderr and p.returncode >= 0, p.stderr  # no crash
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p.returncode, p.stdout, p.stderr


def usage_error(*args, stdin=None, says=None, cwd=None):
    rc, out, err = run(*args, stdin=stdin, check=2, cwd=cwd)
    assert err.startswith("oauth-as: "), err
    if says:
        assert says in err, err
    return err


def cli_conf(h):
    key, client_key = h.path("conf", "as.pem"), h.path("conf", "cli2.pem")
    # standard_conf runs again at a graceful restart: the files are made once
    if not os.path.exists(key):
        run("keygen", "--out", key, check=0)
        run("keygen", "--alg", "EdDSA", "--out", client_key, check=0)
        h.secret_hash = run("hash-secret", stdin=SECRET + "\n", check=0)[1].strip()
        h.write_file("conf/cli2.jwks", run("jwks", client_key, check=0)[1])
    extra = f"""
OAuthASSigningKey "{key}"
<OAuthASClient cli1>
    OAuthASClientSecret "{h.secret_hash}"
    OAuthASGrantType client_credentials
    OAuthASScope api.read
    OAuthASAudience urn:test:api
</OAuthASClient>
<OAuthASClient cli2>
    OAuthASAuthMethod private_key_jwt
    OAuthASClientJWKS "{h.path('conf', 'cli2.jwks')}"
    OAuthASGrantType client_credentials
    OAuthASScope api.read
    OAuthASAudience urn:test:api
</OAuthASClient>
<OAuthASClient demo-gateway>
    OAuthASClientSecret "gateway-secret"
    OAuthASGrantType client_credentials
    OAuthASScope api.read
</OAuthASClient>
"""
    return standard_conf(h, keys=(), extra=extra)


@pytest.fixture(scope="module")
def srv(request, workdir_base):
    yield from module_scoped(request, Httpd(os.path.join(workdir_base, "970-cli"), cli_conf))


def check(h, tok, *args):
    return run("check-token", "--issuer", h.issuer, "--cacert", h.ca, *args, tok)


def cc_token(h, **data):
    r = token(h, "cli1", {"grant_type": "client_credentials", "scope": "api.read", **data})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def server_signer(h):
    """The server's own key (made by keygen) signing what a test forges."""
    k = DPoPKey()
    k.key = load_private(h.path("conf", "as.pem"))
    return k


def forge(h, header, claims, signer=None):
    si = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode()))
    return si + "." + b64url((signer or server_signer(h)).sign(si.encode(), header["alg"]))


# ---- what the tool makes, used by the server ----------------------------------------------

def test_keygen_key_signs_the_servers_tokens(srv):
    h = srv
    hdr, claims, _, _ = jwt_parts(cc_token(h))
    jwks = h.get("/.well-known/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == [hdr["kid"]]
    assert hdr["alg"] == "ES256" and claims["client_id"] == "cli1"


def test_hashed_secret_authenticates(srv):
    h = srv
    assert h.secret_hash.startswith("$2y$10$")
    r = token(h, "cli1", {"grant_type": "client_credentials", "scope": "api.read"},
              secret=SECRET + "x")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_jwks_file_verifies_client_assertion(srv):
    h = srv
    signer = DPoPKey("ed25519")
    signer.key = load_private(h.path("conf", "cli2.pem"))
    now = int(time.time())
    jwks = json.load(open(h.path("conf", "cli2.jwks")))
    kid = jwks["keys"][0]["kid"]
    a = forge(h, {"alg": "EdDSA", "kid": kid},
              {"iss": "cli2", "sub": "cli2", "aud": h.issuer, "exp": now + 60, "iat": now,
               "jti": secrets.token_urlsafe(12)}, signer)
    r = post(h, "/oauth/token", {"grant_type": "client_credentials", "scope": "api.read",
                                 "client_id": "cli2", "client_assertion_type": TYPE,
                                 "client_assertion": a})
    assert r.status_code == 200, r.text


# ---- keygen ---------------------------------------------------------------------------------

@pytest.mark.parametrize("alg,kty", [("ES256", "EC"), ("PS256", "RSA"), ("EdDSA", "OKP")])
def test_keygen(tmp_path, alg, kty):
    out = str(tmp_path / "k.pem")
    rc, jwk, err = run("keygen", "--alg", alg, "--kid", "k-1", "--out", out, check=0)
    jwk = json.loads(jwk)
    assert jwk["kty"] == kty and jwk["alg"] == alg and jwk["kid"] == "k-1"
    assert jwk["use"] == "sig" and "d" not in jwk and "p" not in jwk
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert f"OAuthASSigningKey {out}" in err
    if alg == "PS256":
        assert f'OAuthASSigningKey {out} "k-1" PS256' in err
    # never over an existing key
    before = open(out).read()
    usage_error("keygen", "--out", out, says="exists: not overwritten")
    assert open(out).read() == before


def test_keygen_default_kid_is_the_thumbprint(tmp_path):
    from client import thumbprint
    jwk = json.loads(run("keygen", "--out", str(tmp_path / "k.pem"), check=0)[1])
    assert jwk["alg"] == "ES256"
    assert jwk["kid"] == thumbprint({m: jwk[m] for m in ("kty", "crv", "x", "y")})


@pytest.mark.parametrize("args,says", [
    ((), "--out FILE is required"),
    (("--alg", "HS256", "--out", "x.pem"), "HS256 is not one of"),
    (("--alg", "none", "--out", "x.pem"), "none is not one of"),
    (("--alg",), "--alg needs a value"),
    (("--kid", "", "--out", "x.pem"), "--kid: empty"),
    (("--out", "/nonexistent-dir/k.pem"), "cannot create"),
    (("--bits", "1024"), "unknown option --bits"),
    (("--out", "a.pem", "extra"), "unexpected argument extra"),
])
def test_keygen_bad_input(tmp_path, args, says):
    usage_error("keygen", *args, says=says, cwd=tmp_path)
    assert not os.listdir(tmp_path)


# ---- hash-secret ----------------------------------------------------------------------------

def test_hash_secret():
    rc, out, err = run("hash-secret", "--cost", "4", stdin="s3cret\r\n", check=0)
    h = out.strip()
    assert h.startswith("$2y$04$") and len(h) == 60 and out.count("\n") == 1
    assert "s3cret" not in out + err
    # a fresh salt each time
    assert run("hash-secret", "--cost", "4", stdin="s3cret", check=0)[1].strip() != h


@pytest.mark.parametrize("stdin,args,says", [
    ("", (), "the secret is empty"),
    ("\n", (), "the secret is empty"),
    ("a" * 73, (), "longer than 72 bytes"),
    ("a" * 5000, (), "longer than 4096 bytes"),
    ("two\nlines", (), "control character"),
    ("x", ("--cost", "3"), "--cost: a number from 4 to 17"),
    ("x", ("--cost", "10x"), "--cost: a number"),
    ("x", ("s3cret",), "unexpected argument"),
])
def test_hash_secret_bad_input(stdin, args, says):
    err = usage_error("hash-secret", *args, stdin=stdin, says=says)
    assert "s3cret" not in err.replace("unexpected argument s3cret", "")


# ---- jwks -----------------------------------------------------------------------------------

def test_jwks(tmp_path):
    a, b = str(tmp_path / "a.pem"), str(tmp_path / "b.pem")
    ja = json.loads(run("keygen", "--alg", "ES256", "--out", a, check=0)[1])
    jb = json.loads(run("keygen", "--alg", "RS256", "--out", b, check=0)[1])
    keys = json.loads(run("jwks", a, b, check=0)[1])["keys"]
    assert keys == [ja, jb]
    keys = json.loads(run("jwks", "--alg", "PS256", a, b, check=0)[1])["keys"]
    assert [k["alg"] for k in keys] == ["ES256", "PS256"]
    assert not any("d" in k for k in keys)


def test_jwks_bad_input(tmp_path):
    a = str(tmp_path / "a.pem")
    run("keygen", "--out", a, check=0)
    (tmp_path / "junk.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n")
    usage_error("jwks", says="no PEM file named")
    usage_error("jwks", a, a, says="used twice")
    usage_error("jwks", str(tmp_path / "missing.pem"), says="cannot read key file")
    usage_error("jwks", str(tmp_path / "junk.pem"), says="cannot read key file")
    usage_error("jwks", "--alg", "ES512", a, says="ES512 is not one of RS256, PS256")
    usage_error("jwks", "--frob", a, says="unknown option --frob")


# ---- check-token against the running server ------------------------------------------------

def test_check_token_valid(srv):
    h = srv
    tok = cc_token(h, resource=RESOURCE)
    rc, out, err = check(h, tok, "--audience", RESOURCE)
    assert rc == 0, (out, err)
    assert out.splitlines()[-1].startswith("verdict: VALID: signed ES256 by kid ")
    assert f'"aud": "{RESOURCE}"' in out and '"client_id": "cli1"' in out
    # from stdin, and without an audience to check
    rc, out, err = run("check-token", "--issuer", h.issuer, "--cacert", h.ca, "-",
                       stdin=tok + "\n", check=0)
    assert "no aud asked" in out


def test_check_token_invalid(srv):
    h = srv
    tok = cc_token(h)
    hdr, claims, _, _ = jwt_parts(tok)
    head, payload, sig = tok.split(".")
    now = int(time.time())

    def invalid(t, says, *args):
        rc, out, err = check(h, t, *args)
        assert rc == 1, (rc, out, err)
        verdict = out.splitlines()[-1]
        assert verdict.startswith("verdict: INVALID: ") and says in verdict, out

    tampered = head + "." + b64url(json.dumps({**claims, "scope": "api.write"}).encode())
    invalid(tampered + "." + sig, "the signature does not verify")
    invalid(forge(h, hdr, {**claims, "exp": now - 60, "iat": now - 120}), "expired")
    invalid(forge(h, hdr, {**claims, "nbf": now + 600}), "not yet valid (nbf)")
    invalid(tok, "aud does not name urn:test:other", "--audience", "urn:test:other")
    invalid(forge(h, {**hdr, "typ": "JWT"}, claims), "typ is JWT, not at+jwt")
    invalid(forge(h, {k: v for k, v in hdr.items() if k != "typ"}, claims), "typ is absent")
    invalid(forge(h, hdr, {**claims, "iss": "https://evil.example"}), "iss is https://evil")
    invalid(forge(h, {**hdr, "kid": "other"}, claims), "no published key has the kid other")
    invalid(forge(h, hdr, claims, DPoPKey()), "the signature does not verify")
    invalid("not.a.jwt", "not a signed JWT")
    invalid(head + "." + payload, "not a signed JWT")
    # an ID-token typ on request
    rc, out, err = check(h, forge(h, {**hdr, "typ": "JWT"}, claims), "--typ", "JWT")
    assert rc == 0, out


def test_check_token_usage_and_network(srv, tmp_path):
    h = srv
    tok = cc_token(h)
    usage_error("check-token", tok, says="--issuer URL is required")
    usage_error("check-token", "--issuer", h.issuer, says="no token")
    usage_error("check-token", "--issuer", h.issuer, tok, tok, says="unexpected argument")
    usage_error("check-token", "--issuer", h.base_url, tok, says="--issuer: an https URL")
    usage_error("check-token", "--issuer", h.issuer + "/", tok, says="trailing slash")
    usage_error("check-token", "--issuer", h.issuer, "--cacert", str(tmp_path / "none"), tok,
                says="--cacert: cannot read")
    usage_error("check-token", "--issuer", h.issuer, "-", stdin="x" * 20000,
                says="longer than 16384 bytes")
    # TLS is verified: without our CA the server's self-signed certificate is refused
    usage_error("check-token", "--issuer", h.issuer, tok, says="no metadata of")
    # a server that is not there
    dead = "https://localhost:1"
    usage_error("check-token", "--issuer", dead, "--cacert", h.ca, tok, says="no metadata of")
    # metadata of another issuer (RFC 8414 §3.3)
    other = h.issuer.replace("localhost", "127.0.0.1")
    usage_error("check-token", "--issuer", other, "--cacert", h.ca,
                "--metadata", h.issuer + "/.well-known/openid-configuration", tok,
                says=f"names the issuer {h.issuer}, not {other}")


# ---- rotate-key -----------------------------------------------------------------------------

def test_rotate_key(tmp_path):
    cur, nxt = str(tmp_path / "cur.pem"), str(tmp_path / "next.pem")
    run("keygen", "--out", cur, check=0)
    run("keygen", "--out", nxt, check=0)
    out = run("rotate-key", "--current", cur, "--next", nxt, check=0)[1]
    steps = out.split("\nStep ")
    assert [s.split(":")[0] for s in steps[1:]] == ["1", "2", "3", "4"]
    publish, switch, retire = steps[2], steps[3], steps[4]
    assert f"OAuthASSigningKey {cur}\n    OAuthASSigningKey {nxt}\n" in publish
    assert f"OAuthASSigningKey {nxt}\n    OAuthASSigningKey {cur}\n" in switch
    assert f"OAuthASSigningKey {nxt}\n" in retire and f"OAuthASSigningKey {cur}\n" not in retire
    assert "WARNING" not in out
    # without --next: step 1 makes it, beside the current key
    out = run("rotate-key", "--current", cur, check=0)[1]
    assert f"oauth-as keygen --alg ES256 --out {tmp_path}/cur-next.pem" in out


def step_lines(out):
    """{step number: its OAuthASSigningKey lines} of rotate-key's output."""
    return {int(part.split(":")[0]): re.findall(r"^    (OAuthASSigningKey .*)$", part, re.M)
            for part in out.split("\nStep ")[1:]}


def test_rotate_key_steps_on_a_server(httpd_factory):
    """The lines rotate-key prints, applied one step at a time with a graceful restart: the new
    key is published before it signs; after the switch the old key's tokens still verify; once
    it is retired they do not (check-token, against the server's JWKS)."""
    h = httpd_factory(lambda h: standard_conf(h, keys=(), extra="\n".join(h.key_lines) + "\n"),
                      start=False)
    cur, nxt = h.path("conf", "cur.pem"), h.path("conf", "next.pem")
    kid_cur = json.loads(run("keygen", "--out", cur, check=0)[1])["kid"]
    kid_next = json.loads(run("keygen", "--out", nxt, check=0)[1])["kid"]
    steps = step_lines(run("rotate-key", "--current", cur, "--next", nxt, check=0)[1])

    def new_token(kid):
        r = token(h, "svc1", {"grant_type": "client_credentials"})
        assert r.status_code == 200, r.text
        assert jwt_parts(r.json()["access_token"])[0]["kid"] == kid
        return r.json()["access_token"]

    def verdict(tok):
        rc, out, err = check(h, tok)
        return rc, out.splitlines()[-1]

    h.key_lines = steps[2]  # publish
    h.start()
    assert [k["kid"] for k in h.get("/.well-known/jwks.json").json()["keys"]] == [kid_cur,
                                                                                 kid_next]
    old = new_token(kid_cur)
    assert verdict(old)[0] == 0
    h.key_lines = steps[3]  # switch
    h.graceful()
    new = new_token(kid_next)
    assert verdict(old)[0] == 0 and verdict(new)[0] == 0
    h.key_lines = steps[4]  # retire
    h.graceful()
    assert verdict(new)[0] == 0
    assert verdict(old) == (1, f"verdict: INVALID: no published key has the kid {kid_cur} "
                               "for ES256")


def test_rotate_key_to_rsa_warns(tmp_path):
    """The module signs ID tokens with the first RSA key listed: an RSA key added after an EC
    one signs ID tokens as soon as it is published; the tool says so."""
    cur, nxt = str(tmp_path / "cur.pem"), str(tmp_path / "next.pem")
    run("keygen", "--out", cur, check=0)
    run("keygen", "--alg", "PS256", "--out", nxt, check=0)
    out = run("rotate-key", "--current", cur, "--next", nxt, "--next-alg", "PS256", check=0)[1]
    assert f'OAuthASSigningKey {nxt} "" PS256' in out
    assert "WARNING: the next key is RSA" in out


def test_rotate_key_bad_input(tmp_path):
    cur = str(tmp_path / "cur.pem")
    run("keygen", "--out", cur, check=0)
    usage_error("rotate-key", says="--current PEM is required")
    usage_error("rotate-key", "--current", cur, "--next", cur, says="the same key")
    usage_error("rotate-key", "--current", str(tmp_path / "no.pem"), says="cannot read key")
    usage_error("rotate-key", "--current", cur, "--current-alg", "PS256",
                says="cannot sign PS256")
    usage_error("rotate-key", "--current", cur, "--now", says="unknown option --now")


# ---- the README's commands ----------------------------------------------------------------

def test_readme_block(srv, tmp_path):
    """README "The oauth-as tool", as it stands, against this server configured like the demo
    (its demo-gateway client), but for the issuer, the CA and the current key's path."""
    h = srv
    text = open(os.path.join(REPO, "README.md")).read()
    block = re.search(r"<!-- oauth-as:begin -->\n```sh\n(.*?)```\n<!-- oauth-as:end -->", text,
                      re.S).group(1)
    script = (block.replace("https://localhost:8443", h.issuer)
              .replace("demo/tls.crt", h.ca)
              .replace("demo/signing-es256.pem", h.path("conf", "as.pem"))
              .replace("OAS=build/oauth-as", f"OAS={CLI}"))
    os.mkdir(tmp_path / "demo")
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert re.search(r"^\$2y\$10\$[./A-Za-z0-9]{53}$", p.stdout, re.M)
    assert json.load(open(tmp_path / "demo" / "client.jwks"))["keys"][0]["kty"] == "OKP"
    assert re.search(r"^verdict: VALID: signed ES256 by kid \S+, typ at\+jwt, iss, aud ",
                     p.stdout, re.M)
    assert "Step 4: retire." in p.stdout
    # the second run stops at keygen, as the README says
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "next-signing.pem exists: not overwritten" in p.stderr


# ---- the tool itself ------------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["keygen", "hash-secret", "jwks", "check-token", "rotate-key"])
def test_help(cmd):
    rc, out, err = run(cmd, "--help", check=0)
    assert out.startswith(f"usage: oauth-as {cmd}") and not err


def test_top_level():
    rc, out, err = run("--help", check=0)
    for cmd in ("keygen", "hash-secret", "jwks", "check-token", "rotate-key"):
        assert f"  {cmd} " in out
    assert run()[0] == 2
    usage_error("frobnicate", says="unknown command frobnicate")
