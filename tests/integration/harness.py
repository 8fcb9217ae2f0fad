"""A small harness that runs a private Apache httpd for integration tests.

Each Httpd owns a ServerRoot under its workdir and two loopback ports.  Nothing here reads
or writes /etc/apache2 or touches the system apache2: every apache2 call gets `-f` with an
absolute config that sets everything Debian's apache2.conf would (the APACHE_* variables are
only used by /etc/apache2/apache2.conf, so none are needed).

Layout of the generated config (why): the *main server* is the HTTPS server on tls_port and the
test's `body` goes into the main server too, so the issuer's own server is the one tests talk
to and no vhost merge is needed for it.  Plain HTTP on `port` is a <VirtualHost> with
SSLEngine off that inherits everything from the main server (directives apply to both ports).
"""

import atexit
import datetime
import ipaddress
import os
import resource
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import requests

APACHE2 = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# OAS_MODULE: another build of the module (make integration-asan: build-asan/mod_oauth_as.so).
MODULE = os.environ.get("OAS_MODULE") or os.path.join(REPO, "build", "mod_oauth_as.so")
# OAS_SANITIZER_PRELOAD: the ASan runtime to preload into apache2 (a module built with
# -fsanitize=address needs it loaded first); reports go to files in <workdir>/sanitizer,
# and check_error_log fails a test on any of them.
SANITIZER_PRELOAD = os.environ.get("OAS_SANITIZER_PRELOAD")

# The modules every test server loads (mod_log_config, mod_unixd and mod_so are compiled in).
# authz_host: `Require ip/local`; dbd: OAuthASStore dbd; socache_shmcb: the TLS session cache.
BASE_MODULES = (
    "authn_core", "authn_file", "authz_core", "authz_user", "authz_host", "auth_basic",
    "mime", "headers", "env", "setenvif", "alias", "socache_shmcb", "ssl", "dbd",
)

THREADS_PER_CHILD = 10
MPM_CONF = {
    # Two children stay alive: MinSpareThreads = 2 x ThreadsPerChild keeps two idle children.
    "event": f"""StartServers 2
ServerLimit 4
ThreadsPerChild {THREADS_PER_CHILD}
MaxRequestWorkers 40
MinSpareThreads 20
MaxSpareThreads 40
""",
    "prefork": """StartServers 2
MinSpareServers 2
MaxSpareServers 4
ServerLimit 10
MaxRequestWorkers 10
""",
}
MPM_CONF["worker"] = MPM_CONF["event"]

# error_log lines that fail a test unless it declares them expected: warnings and higher levels
# (of our module and of httpd itself: a warning is a sign of a problem, so a scenario that
# provokes one says so with allow_log), and children killed by a signal.
_BAD_LEVEL = re.compile(r"^\[[^\]]*\] \[(?:[\w.-]+:)?(warn|error|crit|alert|emerg)\]")
_CRASH = re.compile(r"AH00052|exit signal")
# [warn] lines every server start writes on this machine, whatever the test: not a scenario's.
#   AH01882: Debian's mod_ssl was built against a newer OpenSSL than the libssl installed
#            ("compiled against a newer library"); a packaging matter outside this project.
_MACHINE_WARNINGS = ("AH01882:",)


def free_port():
    """A port that was free a moment ago on 127.0.0.1 (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what, output=lambda: "", timeout=15):
    """Wait until something accepts connections on 127.0.0.1:port; fail when proc (the
    process that should listen there) ended first, with output(), or after timeout s."""
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert proc.poll() is None, f"{what} ended: {output()}"
            assert time.time() < deadline, f"{what} did not start"
            time.sleep(0.1)


def unexpected_log_lines(text, allowed=()):
    """Lines of an error_log that a passing test must not produce: levels warn and above,
    and children that died on a signal (AH00052), unless they contain an allowed substring
    (or are one of the machine's own warnings, _MACHINE_WARNINGS)."""
    bad = []
    for line in text.splitlines():
        if not (_BAD_LEVEL.search(line) or _CRASH.search(line)):
            continue
        if any(a in line for a in tuple(allowed) + _MACHINE_WARNINGS):
            continue
        bad.append(line)
    return bad


# ---- once-per-session material (generation is slow for RSA; tests share it) -----------------

_session_dir = None


def session_dir():
    """A directory for files generated once per Python process (certificate, keys)."""
    global _session_dir
    if _session_dir is None:
        _session_dir = tempfile.mkdtemp(prefix="oas-session-")
        # Servers copy what they use into their own conf/, so this can go with the process.
        atexit.register(shutil.rmtree, _session_dir, True)
    return _session_dir


def _write_pem_key(path, key):
    from cryptography.hazmat.primitives import serialization
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with open(path, "wb") as f:
        f.write(pem)


def session_file(name, make):
    """Path of session_dir()/name, created by make(path) the first time it is asked for."""
    path = os.path.join(session_dir(), name)
    if not os.path.exists(path):
        make(path + ".tmp")
        os.replace(path + ".tmp", path)
    return path


def session_key(kind):
    """PEM file of a private key generated once per session: 'es256', 'rsa' (2048), 'ed25519'."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    gen = {
        "es256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
    }[kind]
    return session_file(f"{kind}.key.pem", lambda p: _write_pem_key(p, gen()))


def session_tls():
    """(cert, key) PEM paths of a self-signed certificate for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key_path = session_file("tls.key.pem", lambda p: _write_pem_key(
        p, ec.generate_private_key(ec.SECP256R1())))

    def make_cert(path):
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                # A self-signed leaf (CA:FALSE: mod_ssl warns about CA server certificates);
                # clients trust it directly through verify=/--cacert.
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(key, hashes.SHA256()))
        with open(path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))

    return session_file("tls.cert.pem", make_cert), key_path


# ---- the server -----------------------------------------------------------------------------

class HttpdError(Exception):
    pass


class Httpd:
    """One private httpd.  `body` is config text, or a callable(httpd) -> text so that it can
    use the ports and paths of this server (e.g. oauth_conf.standard_conf)."""

    def __init__(self, workdir, body="", module=MODULE, mpm=None, load_module=True,
                 extra_modules=()):
        self.workdir = os.path.abspath(workdir)
        self.body = body
        self.module = module
        self.mpm = mpm or os.environ.get("MPM", "event")
        if self.mpm not in MPM_CONF:
            raise ValueError(f"unknown MPM {self.mpm!r}")
        self.load_module = load_module
        self.extra_modules = tuple(extra_modules)
        self.allowed = []          # error_log substrings a test declares as expected
        self._log_offset = 0
        self.pid = None
        self._sanitizer_seen = set()
        for d in ("conf", "logs", "run", "htdocs", "data", "cores", "sanitizer"):
            os.makedirs(os.path.join(self.workdir, d), exist_ok=True)
        self.conf = self.path("conf", "httpd.conf")
        self.pidfile = self.path("run", "httpd.pid")
        self.errorlog = self.path("logs", "error_log")
        self.accesslog = self.path("logs", "access_log")
        self.htdocs = self.path("htdocs")
        self.datadir = self.path("data")   # writable by the children: sqlite files, etc.
        cert, key = session_tls()
        self.ca = self.path("conf", "tls.cert.pem")
        self.tls_key = self.path("conf", "tls.key.pem")
        shutil.copyfile(cert, self.ca)
        shutil.copyfile(key, self.tls_key)
        self.new_ports()

    # -- paths and URLs
    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_url(self):
        return f"https://localhost:{self.tls_port}"

    @property
    def issuer(self):
        return self.tls_url

    def new_ports(self):
        self.port = free_port()
        self.tls_port = free_port()
        while self.tls_port == self.port:
            self.tls_port = free_port()

    def allow_log(self, *substrings):
        """Declare error_log lines containing any of these substrings as expected."""
        self.allowed.extend(substrings)

    def write_file(self, relpath, text, mode=0o644):
        """Write a file under workdir (readable by the children) and return its path."""
        p = self.path(relpath)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def get(self, path, tls=True, **kw):
        """requests.get against this server; TLS verified with the generated certificate."""
        kw.setdefault("timeout", 5)
        kw.setdefault("allow_redirects", False)
        if tls:
            return requests.get(self.tls_url + path, verify=self.ca, **kw)
        return requests.get(self.base_url + path, **kw)

    # -- configuration
    def config_text(self):
        body = self.body(self) if callable(self.body) else self.body
        mods = [f"mpm_{self.mpm}"] + list(BASE_MODULES) + [
            m for m in self.extra_modules if m not in BASE_MODULES]
        lines = [f"LoadModule {m}_module {MODULES_DIR}/mod_{m}.so" for m in mods]
        run_as = ""
        if os.geteuid() == 0:
            # The children must not run as root; workdir is made traversable for them.
            run_as = "User nobody\nGroup nogroup\n"
        module = f"LoadModule oauth_as_module {self.module}\n" if self.load_module else ""
        return f"""# generated by tests/integration/harness.py
ServerRoot "{self.workdir}"
PidFile "{self.pidfile}"
DefaultRuntimeDir "{self.path('run')}"
ServerName localhost
{chr(10).join(lines)}
{MPM_CONF[self.mpm]}
{run_as}
CoreDumpDirectory "{self.path('cores')}"
ErrorLog "{self.errorlog}"
LogLevel info
LogFormat "%h %l %u %t \\"%r\\" %>s %b %D" common
CustomLog "{self.accesslog}" common
TypesConfig /etc/mime.types
Timeout 10
KeepAliveTimeout 2
DocumentRoot "{self.htdocs}"
<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory "{self.htdocs}">
    Require all granted
</Directory>

Listen 127.0.0.1:{self.port}
Listen 127.0.0.1:{self.tls_port}

# The main server speaks TLS on tls_port.
SSLEngine on
SSLCertificateFile "{self.ca}"
SSLCertificateKeyFile "{self.tls_key}"
SSLSessionCache "shmcb:{self.path('run', 'ssl_scache')}(512000)"

# Plain HTTP: inherits the main server's config, minus TLS.
<VirtualHost 127.0.0.1:{self.port}>
    ServerName localhost
    SSLEngine off
</VirtualHost>

{module}
# ---- test body ----
{body}
"""

    def write_config(self):
        with open(self.conf, "w") as f:
            f.write(self.config_text())
        self._fix_perms()

    def _fix_perms(self):
        # Children run as nobody: they must traverse workdir and read htdocs/conf, and may
        # write datadir and cores.  tempfile.mkdtemp makes 0700 directories, hence the chmod.
        os.chmod(self.workdir, 0o755)
        for root, dirs, files in os.walk(self.workdir):
            for n in dirs:
                os.chmod(os.path.join(root, n), 0o755)
            for n in files:
                p = os.path.join(root, n)
                os.chmod(p, os.stat(p).st_mode | 0o444)
        if os.geteuid() == 0:
            for d in (self.datadir, self.path("cores"), self.path("sanitizer")):
                shutil.chown(d, "nobody", "nogroup")

    # -- control
    def _apache(self, *args, timeout=30):
        # A clean environment: no APACHE_* variables from the caller can leak into the config.
        env = {k: v for k, v in os.environ.items() if not k.startswith("APACHE")}
        env["LANG"] = "C"
        if SANITIZER_PRELOAD:
            env["LD_PRELOAD"] = SANITIZER_PRELOAD
            # httpd frees its pools at exit but not everything libraries allocate: no leaks
            env["ASAN_OPTIONS"] = ("detect_leaks=0:abort_on_error=1:"
                                   f"log_path={self.path('sanitizer', 'report')}")
            env["UBSAN_OPTIONS"] = ("print_stacktrace=1:"
                                    f"log_path={self.path('sanitizer', 'report')}")
        p = subprocess.run([APACHE2, "-f", self.conf, "-d", self.workdir, *args], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, preexec_fn=_allow_core_dumps)
        return p.returncode, p.stdout

    def configtest(self):
        """(returncode, output) of `apache2 -t`."""
        self.write_config()
        return self._apache("-t")

    def _check_ancestors(self):
        # Ancestors are not ours to change: refuse clearly instead (e.g. /root is 0700).
        d = os.path.dirname(self.workdir)
        while d != "/":
            if os.geteuid() == 0 and not os.stat(d).st_mode & 0o001:
                raise HttpdError(f"{d} is not traversable by the httpd children (nobody)")
            d = os.path.dirname(d)

    def start(self, timeout=30, retries=3):
        self._check_ancestors()
        for attempt in range(retries):
            self.write_config()
            rc, out = self._apache("-k", "start")
            if rc == 0:
                try:
                    self._wait_serving(timeout)
                    return
                except HttpdError as e:
                    err = str(e)
            else:
                err = f"apache2 -k start exited {rc}:\n{out}"
            # Another process may have taken a port between free_port() and Listen: retry.
            if "Address already in use" in err + self.error_log() and attempt + 1 < retries:
                self._kill_leftover()
                self.new_ports()
                continue
            self._kill_leftover()
            raise HttpdError(f"{err}\n--- error_log tail ---\n{self.log_tail()}")

    def _read_pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def _wait_serving(self, timeout):
        deadline = time.monotonic() + timeout
        last = "no pid file"
        while time.monotonic() < deadline:
            pid = self._read_pid()
            if pid and _alive(pid):
                try:
                    socket.create_connection(("127.0.0.1", self.tls_port), 1).close()
                    requests.get(self.base_url + "/", timeout=1)
                    self.pid = pid
                    return
                except (OSError, requests.RequestException) as e:
                    last = repr(e)
            time.sleep(0.05)
        raise HttpdError(f"httpd not serving after {timeout}s: {last}")

    def _wait_children_started(self, timeout=3.0):
        """Lets every child finish starting before it is told to stop: an event/worker child
        stopped before its listener thread runs can die of SIGSEGV in httpd's own shutdown
        path (mpm_event -> apr_os_sock_get, seen with 2.4.71 on tests that last 0.2 s) or
        hang until the parent kills it (AH00045/AH00046). Bounded: children of an old
        generation that are winding down never get there."""
        if self.mpm == "prefork" or not self.pid:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(_child_started(c) for c in children(self.pid)):
                return
            time.sleep(0.02)

    def _wait_children_quiet(self, timeout=2.0):
        """Lets the children finish the connections they are closing before they are told to
        stop. httpd 2.4.71's ungraceful stop closes every worker's current socket from the
        child's main thread (mpm_event close_worker_sockets) while a worker that is ending
        its connection may be freeing that socket's pool: the child dies of SIGSEGV in
        apr_os_sock_get (cores from our runs). That happens when a test's last client closes
        its connection just before the stop; an idle keep-alive connection sits in the
        listener and is safe. A prefork child stopped inside a request dies the same way
        (its SIGTERM handler destroys the child's pool at once: seen once under ASan).
        Quiet = no thread of any child runnable in two samples 10 ms apart. Bounded: under a
        load that goes on, the stop goes ahead after `timeout`."""
        if not self.pid:
            return
        deadline = time.monotonic() + timeout
        calm = 0
        while calm < 2 and time.monotonic() < deadline:
            calm = calm + 1 if not any(_runnable_threads(c) for c in children(self.pid)) else 0
            time.sleep(0.01)

    def stop(self, timeout=30):
        pid = self._read_pid() or self.pid
        if pid is None:
            return
        self._wait_children_started()
        self._wait_children_quiet()
        # SIGTERM at once (what `apache2 -k stop` sends after reading the whole configuration)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        if not _wait_gone(pid, timeout):
            self._kill_leftover()
            raise HttpdError(f"httpd {pid} did not stop within {timeout}s")
        self.pid = None

    def _kill_leftover(self):
        # Only our own parent (from our pid file) and its children: never anything by name.
        pid = self._read_pid()
        if pid and _alive(pid):
            for p in [pid] + children(pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _wait_gone(pid, 5)

    def _resumed_count(self):
        return self.error_log().count("resuming normal operations")

    def graceful(self, timeout=30):
        """Graceful restart; returns once the new generation announced itself and serves."""
        before = self._resumed_count()
        self._wait_children_started()
        self.write_config()
        rc, out = self._apache("-k", "graceful")
        if rc != 0:
            raise HttpdError(f"graceful failed ({rc}): {out}\n{self.log_tail()}")
        deadline = time.monotonic() + timeout
        while self._resumed_count() <= before:
            if time.monotonic() > deadline:
                raise HttpdError(f"no new generation after {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)
        self._wait_serving(timeout)

    def restart(self, timeout=30):
        self.stop(timeout)
        self.start(timeout)

    # -- logs
    def error_log(self):
        try:
            with open(self.errorlog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.error_log().splitlines()[-n:])

    def mark_log(self):
        """Later checks only look at lines written after this point."""
        self._log_offset = len(self.error_log())

    def check_error_log(self, allowed=()):
        """Unexpected lines since the last mark/check (then marks): errors and crashes, minus
        lines containing an allowed substring (argument or self.allowed)."""
        text = self.error_log()
        new = text[self._log_offset:]
        self._log_offset = len(text)
        bad = unexpected_log_lines(new, tuple(allowed) + tuple(self.allowed))
        bad += [f"core file: {c}" for c in os.listdir(self.path("cores"))]
        bad += self.sanitizer_reports()
        return bad

    def sanitizer_reports(self):
        """Sanitizer report files not reported before, each as one line with its head."""
        out = []
        for n in sorted(os.listdir(self.path("sanitizer"))):
            if n in self._sanitizer_seen:
                continue
            self._sanitizer_seen.add(n)
            with open(self.path("sanitizer", n), errors="replace") as f:
                text = f.read()
            out.append(f"sanitizer report {n}: " + " | ".join(text.splitlines()[:12]))
        return out

    def wait_log(self, regex, timeout=5):
        """Wait for a line matching regex written after the mark; returns the match."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.error_log()[self._log_offset:])
            if m:
                return m
            if time.monotonic() > deadline:
                raise HttpdError(f"no log line /{regex}/ within {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)

    def children(self):
        return children(self.pid) if self.pid else []


def module_scoped(request, h, allowed=()):
    """For a module-scoped fixture (make test's time: one server for a whole file): starts h,
    yields it, stops it at the end of the module and fails on error_log lines h does not allow
    (nor `allowed`, tags); its workdir is kept when a test failed (or OAS_IT_KEEP is set)."""
    import pytest
    h.allow_log(*allowed)
    h.start()
    t0 = time.monotonic()
    failed_before = request.session.testsfailed
    try:
        yield h
    finally:
        h.stop()
    bad = h.check_error_log()
    if bad:
        pytest.fail(f"{h.workdir}: unexpected error_log lines:\n  " + "\n  ".join(bad),
                    pytrace=False)
    if request.session.testsfailed == failed_before and not os.environ.get("OAS_IT_KEEP"):
        shutil.rmtree(h.workdir, ignore_errors=True)
    else:
        print(f"kept httpd workdir: {h.workdir} ({time.monotonic() - t0:.1f} s)")


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _allow_core_dumps():
    # a crashed child leaves a core in CoreDumpDirectory (the runner's limit is often 0)
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


def _blocked_signals(pid, tid):
    """The signal mask of one thread (bit n-1 for signal n), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("SigBlk:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return None


def _child_started(pid):
    """Whether an event/worker child is past its start, told by what httpd's own threads do
    (server/mpm/{event,worker}): every thread starts with all signals blocked; the main
    thread unblocks SIGTERM once it has spawned the start thread, and the listener unblocks
    SIGHUP first thing when it runs, which is after the start thread created the workers.
    A thread count cannot tell this: a child that is still creating its workers has its
    start thread and the module's own (the dbd purge thread, from child_init) on top, so it
    reaches "ThreadsPerChild + 2" before its listener exists."""
    main = _blocked_signals(pid, pid)
    try:
        tids = [t for t in os.listdir(f"/proc/{pid}/task") if t != str(pid)]
    except OSError:
        tids = []
    if main is None:
        return True    # gone: nothing to wait for
    if main & (1 << (signal.SIGTERM - 1)):
        return False   # the main thread is still in child_init or spawning the start thread
    masks = [_blocked_signals(pid, t) for t in tids]
    return any(m is not None and not m & (1 << (signal.SIGHUP - 1)) for m in masks)


def _runnable_threads(pid):
    """How many threads of pid are running or runnable (state R in /proc/PID/task/TID/stat)."""
    n = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for t in tids:
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                n += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            pass
    return n


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def children(ppid):
    """Live child pids of ppid, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == ppid and fields[0] != "Z":
            out.append(int(d))
    return out


