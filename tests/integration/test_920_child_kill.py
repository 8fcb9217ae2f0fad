"""Children stopped and killed while flows run (issue 9; SECURITY.md X06/X07).

The store's lock is an apr_global_mutex of type `oauth-as-store` (ap_global_mutex_create,
APR_LOCK_DEFAULT). On Debian's APR the default process mutex is a robust process-shared
pthread mutex: when its holder dies, the next locker gets EOWNERDEAD, which APR turns into a
normal acquisition (pthread_mutex_consistent). fcntl and flock locks are released by the
kernel with the holder's file descriptors, SysV semaphores by SEM_UNDO. Only `posixsem` stays
held after its owner died: not to be used. The store itself marks the table `busy` while it
changes it; the next holder that finds `busy` set wipes the table rather than trusting a
half-written slot (unit test test_holder_dies does that deterministically).

Here: 8 threads run complete code flows (fp1: /authorize → code → token, then a replay of the
code) while a killer SIGSTOPs a random child (which may be inside the lock: then everyone
else waits for it), keeps it stopped for 0.3 s and SIGKILLs it, over and over for a few
seconds. Pinned expectations: no request takes longer than 5 s (nothing waits on a dead
holder), no 5xx, a code never redeems twice, no child dies but the ones we kill,
and afterwards flows complete normally. Codes lost to a table wipe answer invalid_grant
(counted, allowed). Run with the default mutex, `Mutex pthread` and `Mutex fcntl`.
"""

import random
import signal
import threading
import time
import pytest

from client import session, timed_flow
from oauth_conf import standard_conf

THREADS = 8
CHAOS_SECONDS = 4
HANG = 5.0


def chaos_run(h):
    stop = threading.Event()
    stats, wins, errors = [], [], []
    killed = []

    def worker():
        s = session(h)
        while not stop.is_set():
            try:
                out = timed_flow(h, s, stats)
            except Exception as e:     # an assertion inside timed_flow: reported below
                errors.append(repr(e))
                return
            if out is not None:
                wins.append(out)
            if stats and isinstance(stats[-1][1], str):
                s.close()
                s = session(h)          # a connection to a killed child: start afresh
        s.close()

    def killer():
        rnd = random.Random(1234)
        end = time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < end:
            kids = h.children()
            if kids:
                pid = rnd.choice(kids)
                try:
                    os_kill(pid, signal.SIGSTOP)
                    time.sleep(0.3)
                    os_kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
            time.sleep(0.4)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    k = threading.Thread(target=killer)
    k.start()
    k.join(CHAOS_SECONDS + 10)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return stats, wins, errors, killed


def os_kill(pid, sig):
    import os
    os.kill(pid, sig)


@pytest.mark.catalogue("X06", "X07")
@pytest.mark.parametrize("mutex", [None, "pthread", "fcntl"])
@pytest.mark.allow_log("OAS00131")
def test_kill_children_under_load(httpd_factory, mutex):
    extra = f"Mutex {mutex} oauth-as-store\n" if mutex else ""
    h = httpd_factory(lambda h: standard_conf(h, extra=extra))
    parent = h.pid
    stats, wins, errors, killed = chaos_run(h)
    assert not errors, errors
    assert len(killed) >= 5, killed
    slow = [x for x in stats if x[2] > HANG]
    assert not slow, slow                                   # nothing hung on a dead holder
    statuses = [st for _, st, _ in stats]
    assert not [st for st in statuses if isinstance(st, int) and st >= 500], statuses
    # never two successes per code; a replay wins only when the first redemption got no
    # answer (its child was killed before the atomic take)
    for out in wins:
        assert out.count(200) <= 1, out
        assert out[1] != 200 or out[0] == "conn", out
    ok = sum(1 for out in wins if 200 in out)
    assert ok >= 20, (ok, len(stats))
    # after the chaos: the service is whole again
    s = session(h)
    for _ in range(10):
        t0 = time.monotonic()
        out = timed_flow(h, s, st2 := [])
        assert out == [200, 400], (out, st2)
        assert time.monotonic() - t0 < 2
    assert h.pid == parent and h._read_pid() == parent       # the parent never died
    # httpd does not log children that died of SIGKILL (ap_process_child_status): the
    # fixture's check (no AH00052 / "exit signal" line, no core file) stays in force, so any
    # crash of a child we did not kill fails the test
    # report figures on stdout (pytest -s): counts per kind/status
    # answered requests that waited about as long as a child stayed stopped: most likely
    # behind the store's lock held by the stopped child
    waited = sum(1 for _, st, t in stats if isinstance(st, int) and t >= 0.25)
    summary = {}
    for kind, st, _ in stats:  # noqa: B007
        summary[(kind, st)] = summary.get((kind, st), 0) + 1
    print(f"\nmutex={mutex or 'default'} killed={len(killed)} flows_ok={ok} "
          f"max_latency={max(x[2] for x in stats):.2f}s "
          f"answered_after_waiting>=0.25s={waited} {sorted(summary.items(), key=str)}")
