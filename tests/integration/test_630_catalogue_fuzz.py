"""Catalogue B09, the black-box half, in miniature: recorded valid requests for /authorize, the
consent POST, /oauth/par and /oauth/token are mutated (byte flips, insertions, deletions,
repeated / dropped / shuffled parameters, random values, header-value mutations) with a fixed
seed and sent one per TLS connection. Every answer must be a status below 500 (httpd's own 400
for a request line it cannot parse counts), within the client timeout; children must not die
(the harness's error-log check catches AH00052, cores and sanitizer reports, and `make
integration-asan` runs this file against the ASan build). The in-process half is the libFuzzer
harnesses of tests/fuzz (`make fuzz-short` in `make test`). Framing (method, path, Host,
Content-Length) is kept valid: a lying Content-Length only makes the server wait for bytes
that never come (test_251 / test_910 cover framing)."""

import random
import urllib.parse

import pytest

from client import RFC7636_CHALLENGE, Client, basic, consent_form, read_response, tls_connect
from oauth_conf import CLIENTS, USERS, standard_conf

CASES_PER_ENDPOINT = 150
SEED = 20261121
ALICE = basic("alice", USERS["alice"], encode=False)
CONF1 = basic("conf1", CLIENTS["conf1"]["secret"])
FORM = "application/x-www-form-urlencoded"
JUNK = [b"%", b"%00", b"%zz", b"\xff", b"\xc0\xaf", b"&", b"=", b"+", b"\"", b"<", b"\\",
        b"%0d%0a", b"\x00", b"\r", b"\t", b" ", b"%ED%A0%80", b"\xf0\x9f\x98\x80", b"A" * 300]


def mutate_bytes(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = rng.choice(JUNK)
        elif op == 2 and data:
            del data[pos:pos + rng.randint(1, 8)]
        else:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
    return bytes(data)


def mutate_form(rng, text):
    """Grammar-level: repeat, drop, shuffle, empty or replace parameters."""
    pairs = [p.split("=", 1) if "=" in p else [p, ""] for p in text.split("&") if p]
    op = rng.randrange(6)
    if op == 0 and pairs:
        pairs.append(list(rng.choice(pairs)))
    elif op == 1 and pairs:
        pairs.pop(rng.randrange(len(pairs)))
    elif op == 2:
        rng.shuffle(pairs)
    elif op == 3 and pairs:
        rng.choice(pairs)[1] = ""
    elif op == 4 and pairs:
        rng.choice(pairs)[1] = urllib.parse.quote(
            bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))), safe="")
    else:
        pairs.append([rng.choice(["client_id", "scope", "code", "x", "request_uri",
                                  "grant_type", "redirect_uri", "decision"]),
                      rng.choice(["", "conf1", "%00", "a" * 500, "urn:x"])])
    return "&".join(k + "=" + v for k, v in pairs).encode()


def mutate_payload(rng, payload):
    if rng.random() < 0.5:
        return mutate_form(rng, payload)
    return mutate_bytes(rng, payload.encode())


def build(h, method, path, query, headers, body):
    target = path.encode() + (b"?" + query if query is not None else b"")
    lines = [method.encode() + b" " + target + b" HTTP/1.1",
             b"Host: localhost:" + str(h.tls_port).encode(), b"Connection: close"]
    lines += [k.encode() + b": " + v for k, v in headers]
    if method == "POST":
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def send(h, data, method):
    """Status of the answer; 0 when the server closed without answering (a request line
    httpd could not read at all)."""
    with tls_connect(h, timeout=15) as s:
        s.sendall(data)
        try:
            return read_response(s, method).status_code
        except ConnectionError:
            return 0
        except Exception as e:  # http.client's BadStatusLine on an empty answer
            if type(e).__name__ in ("RemoteDisconnected", "BadStatusLine"):
                return 0
            raise


def mutate_headers(rng, headers, path):
    out = []
    for k, v in headers:
        # the user's login at /authorize is Apache's (mod_auth_basic logs failures at error
        # level); the clients' Basic credentials at PAR and token are the module's
        if path == "/authorize" and k == "Authorization":
            out.append((k, v))
            continue
        if rng.random() < 0.15:
            v = mutate_bytes(rng, v).replace(b"\r", b"").replace(b"\n", b"")
        out.append((k, v))
    return out


@pytest.mark.catalogue("B09")
@pytest.mark.allow_log("OAS00131", "OAS00134")
def test_black_box_mutations(httpd_factory):
    # the brute-force limiter (C07, test_900) would answer 429 to mutated secrets after ten
    # failures; off here, so that every case reaches the parsers
    h = httpd_factory(lambda h: standard_conf(h, OAuthASClientAuthFailureLimit="0"))
    f = Client(h)
    rng = random.Random(SEED)
    statuses = {}

    def authorize_seed():
        p = f.authz_params("fp1", scope="openid", challenge=RFC7636_CHALLENGE, state="s9",
                           nonce="n9")
        return urllib.parse.urlencode(p)

    def consent_seed():
        r = f.authorize(f.authz_params("conf1", challenge=RFC7636_CHALLENGE, prompt="consent"))
        form = consent_form(r)
        return urllib.parse.urlencode({"txn": form["txn"], "csrf": form["csrf"],
                                       "decision": "allow"})

    par_seed = urllib.parse.urlencode(f.authz_params("conf1", challenge=RFC7636_CHALLENGE))

    def token_seed():
        g = f.get_code("conf1", scope="openid offline_access")
        return urllib.parse.urlencode({"grant_type": "authorization_code", "code": g["code"],
                                       "redirect_uri": g["redirect_uri"],
                                       "code_verifier": g["verifier"]})

    endpoints = [
        ("authorize", "GET", "/authorize", authorize_seed, [("Authorization", ALICE.encode())]),
        ("consent", "POST", "/authorize", consent_seed,
         [("Authorization", ALICE.encode()), ("Content-Type", FORM.encode())]),
        ("par", "POST", "/oauth/par", lambda: par_seed,
         [("Authorization", CONF1.encode()), ("Content-Type", FORM.encode())]),
        ("token", "POST", "/oauth/token", token_seed,
         [("Authorization", CONF1.encode()), ("Content-Type", FORM.encode())]),
    ]
    for name, method, path, seed, headers in endpoints:
        seen = statuses.setdefault(name, {})
        payload = seed()
        for i in range(CASES_PER_ENDPOINT):
            if i and i % 50 == 0:
                payload = seed()          # a fresh transaction / code now and then
            mutated = mutate_payload(rng, payload)
            hdrs = mutate_headers(rng, headers, path)
            if method == "GET":
                data = build(h, method, path, mutated.replace(b" ", b"+").replace(b"\r", b"")
                             .replace(b"\n", b""), hdrs, None)
            else:
                data = build(h, method, path, None, hdrs, mutated)
            status = send(h, data, method)
            seen[status] = seen.get(status, 0) + 1
            assert status < 500, (name, i, status, data[:300])
    print("\nB09 mutation statuses per endpoint:", statuses)
    # every endpoint answered something besides refusals, i.e. the seeds were valid requests
    assert all(sum(v.values()) == CASES_PER_ENDPOINT for v in statuses.values())
    assert any(s in statuses["par"] for s in (201,)), statuses["par"]
    # the server is healthy afterwards
    assert f.redeem(f.get_code("conf1", scope="openid")).status_code == 200
