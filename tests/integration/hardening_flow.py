"""Helpers of the hardening tests (test_920, test_930): one complete fp1 code flow with a
replay, every request timed and recorded."""

import time
from urllib.parse import parse_qs, urlsplit

import requests

from flow2 import pkce_pair
from oauth_conf import CLIENTS, FP1_SECRET, USERS


def flow(h, s, stats):
    """One fp1 flow and a replay; records (kind, status, seconds) into stats."""
    def timed(kind, fn):
        t0 = time.monotonic()
        try:
            r = fn()
            stats.append((kind, r.status_code, time.monotonic() - t0))
            return r
        except requests.RequestException as e:
            stats.append((kind, "conn:" + type(e).__name__, time.monotonic() - t0))
            return None

    verifier, challenge = pkce_pair()
    redirect = CLIENTS["fp1"]["redirect_uris"][0]
    r = timed("authorize", lambda: s.get(h.issuer + "/authorize", params={
        "response_type": "code", "client_id": "fp1", "redirect_uri": redirect,
        "scope": "openid", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"}, auth=("alice", USERS["alice"]),
        allow_redirects=False, timeout=10))
    if r is None or r.status_code != 302:
        return None
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
            "code_verifier": verifier}
    outcomes = []
    for kind in ("redeem", "replay"):
        r = timed(kind, lambda: s.post(h.issuer + "/oauth/token", data=data,
                                       auth=("fp1", FP1_SECRET), timeout=10))
        outcomes.append(r.status_code if r is not None else "conn")
        if r is not None and r.status_code == 400:
            assert r.json()["error"] == "invalid_grant", r.text
    return outcomes
