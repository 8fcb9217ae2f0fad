"""Primitives the integration tests share, so that each is written once."""

import threading


def run_parallel(n, fn):
    """Runs fn(i) in n threads released together; returns the results (or exceptions)."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def work(i):
        try:
            barrier.wait(10)
            out[i] = fn(i)
        except Exception as e:  # reported by the caller's assertions
            out[i] = e

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [r for r in out if isinstance(r, Exception)]
    assert not errors, errors[:3]
    return out

