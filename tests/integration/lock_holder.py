"""gdb holds one thread of an httpd child inside the shm store's lock (tests 921, 922): the
first request that takes the lock stops right after oas_shm_lock marked the table busy."""

import os
import subprocess
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


LOCK_FILE = "oas_shm_table.c"  # where oas_shm_lock lives


def busy_line():
    """The line after `c->hdr->busy = 1;` in oas_shm_lock: lock held, table marked busy."""
    with open(os.path.join(REPO, "src", LOCK_FILE)) as f:
        for n, line in enumerate(f, 1):
            if "c->hdr->busy = 1;" in line:
                return n + 1
    raise AssertionError("oas_shm_lock's busy marker not found")


class LockHolder:
    """gdb attached to `pid`; once a thread stops inside the lock it prints the busy flag,
    waits `hold` seconds, then runs `then` (gdb commands: "kill", or "delete", "detach").
    Returns once the breakpoint is set. `hit` is set when a thread stopped; `lines` is
    gdb's output so far; wait() waits for gdb and its reader."""

    def __init__(self, pid, hold, then, timeout=30):
        cmd = ["gdb", "-q", "-batch", "-nx", "-p", str(pid),
               "-ex", "set pagination off", "-ex", f"break {LOCK_FILE}:{busy_line()}",
               "-ex", "continue", "-ex", "p c->hdr->busy", "-ex", f"shell sleep {hold}"]
        for c in then:
            cmd += ["-ex", c]
        cmd += ["-ex", "quit"]
        self.g = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        self.lines, self.hit = [], threading.Event()
        self.reader = threading.Thread(target=self._read)
        self.reader.start()
        deadline = time.monotonic() + timeout
        while not any("Breakpoint 1 at" in x for x in self.lines):
            assert self.g.poll() is None and time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.05)

    def _read(self):
        for line in self.g.stdout:
            self.lines.append(line)
            if "hit Breakpoint" in line:
                self.hit.set()

    def wait(self, timeout):
        self.g.wait(timeout)
        self.reader.join(5)

    def output(self):
        return "".join(self.lines)
