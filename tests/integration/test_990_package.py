"""The Debian package (issue 23): `make deb` builds libapache2-mod-oauth-as the Debian way
(debian/, dpkg-buildpackage, lintian; cached by the hash of its sources, tools/deb.sh). This test
installs it on the machine with dpkg -i, checks what it holds (the oauth-as tool answers) and
that it comes disabled, enables it with a2enmod, runs configtest on the machine's own
configuration (the system apache2 service is never started: a policy-rc.d refuses it while dpkg
runs), runs a private httpd that loads the INSTALLED module through the packaged oauth_as.load,
with the smallest configuration that the packaged oauth_as.conf holds commented out (the
README's, line for line) and the installed templates, for a code flow, then purges the package
and checks that nothing of it is left (files, a2enmod links and state).

It changes the machine (/usr, /etc/apache2), so it refuses to start when the package or a module
file of that name is there already, and puts the machine back as it found it however it ends
(the finally: below). CI and this machine run it as root."""

import glob
import os
import re
import subprocess
import time

import pytest

from client import get_code, jwt_claims, redeem, register
from harness import REPO
from oauth_conf import signing_key, write_htpasswd

PACKAGE = "libapache2-mod-oauth-as"
SO = "/usr/lib/apache2/modules/mod_oauth_as.so"
MODS_AVAILABLE = "/etc/apache2/mods-available"
SHARE = f"/usr/share/{PACKAGE}"
DOC = f"/usr/share/doc/{PACKAGE}"
POLICY_RC_D = "/usr/sbin/policy-rc.d"
# the client of the README's smallest configuration
register("my-app", "change-me", redirect_uris=["https://app.example.org/callback"])
# what the package must install (the templates: every conf/*.html of the sources)
EXPECTED = [SO, f"{MODS_AVAILABLE}/oauth_as.load", f"{MODS_AVAILABLE}/oauth_as.conf",
            f"{DOC}/copyright", f"{DOC}/changelog.Debian.gz", f"{DOC}/README.md.gz",
            f"{SHARE}/schema-sqlite3.sql", f"{SHARE}/schema-pgsql.sql"] + [
    f"{SHARE}/{os.path.basename(p)}" for p in sorted(glob.glob(os.path.join(REPO, "conf/*.html")))]
# the oauth-as tool and its manual
CLI = ["/usr/bin/oauth-as", "/usr/share/man/man1/oauth-as.1.gz"]
EXPECTED += CLI
# a2enmod's links and the state a2enmod/a2dismod keep: purge removes them all
ENABLED = ["/etc/apache2/mods-enabled/oauth_as.load", "/etc/apache2/mods-enabled/oauth_as.conf"]
STATE = [f"/var/lib/apache2/module/{d}/oauth_as"
         for d in ("enabled_by_admin", "enabled_by_maint", "disabled_by_admin",
                   "disabled_by_maint")]


def run(*cmd, check=True, timeout=120):
    """cmd's (returncode, stdout + stderr); check: a non-zero status fails the test."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    assert not check or p.returncode == 0, f"{' '.join(cmd)}: {p.returncode}\n{p.stdout}"
    return p.returncode, p.stdout


def dpkg(*args, check=True):
    """dpkg ARGS, waiting (up to a minute) while another apt/dpkg holds the lock."""
    deadline = time.time() + 60
    while True:
        rc, out = run("dpkg", *args, check=False)
        if rc == 0 or "lock" not in out or time.time() > deadline:
            assert not check or rc == 0, f"dpkg {' '.join(args)}: {rc}\n{out}"
            return rc, out
        time.sleep(1)


def installed():
    rc, out = run("dpkg-query", "-W", "-f=${Status}", PACKAGE, check=False)
    return rc == 0 and out.split()[-1:] != ["not-installed"]


def leftovers():
    """Anything of the package still on the machine."""
    left = [p for p in EXPECTED + ENABLED + STATE + [SHARE, DOC] if os.path.lexists(p)]
    return left + ([f"package {PACKAGE}"] if installed() else [])


def build_deb():
    """build/deb's .deb from `make deb` (built now unless the sources are unchanged)."""
    run("nice", "-n", "10", "make", "-C", REPO, "--no-print-directory", "deb", timeout=900)
    debs = [d for d in glob.glob(os.path.join(REPO, "build/deb", f"{PACKAGE}_*.deb"))]
    assert len(debs) == 1, debs
    return debs[0]


def check_deb(deb):
    """What the .deb declares: dependencies from the shared libraries and dh_apache2's API."""
    _, depends = run("dpkg-deb", "-f", deb, "Depends")
    for dep in ("apache2-api-", "libssl3", "libjansson4", "libcurl4", "libc6"):
        assert dep in depends, depends
    _, contents = run("dpkg-deb", "-c", deb)
    for path in EXPECTED:
        assert f" .{path}\n" in contents, path


def oas_version():
    with open(os.path.join(REPO, "src/oas.h")) as f:
        return re.search(r'#define OAS_VERSION "([^"]+)"', f.read()).group(1)


# a commented-out directive of oauth_as.conf: "#" then the directive, or then 4 spaces and a
# directive inside a block (prose comments are "# " and a sentence)
COMMENTED = re.compile(r"^(\s*)#((?:    )?)(?=[<A-Z])")


def minimal_conf():
    """The directives the installed oauth_as.conf holds commented out, uncommented; they are the
    README's smallest working configuration, line for line."""
    with open(f"{MODS_AVAILABLE}/oauth_as.conf") as f:
        lines = [COMMENTED.sub(r"\1\2", l) for l in f.read().splitlines()
                 if COMMENTED.match(l)]
    with open(os.path.join(REPO, "README.md")) as f:
        block = re.search(r"<!-- minimal-conf:begin -->\n```apache\n(.*?)```", f.read(), re.S)
    readme = [l.strip() for l in block.group(1).splitlines() if l.strip()]
    assert [l.strip() for l in lines] == readme, "oauth_as.conf and the README differ"
    return "\n".join(lines) + "\n"


def private_conf(h):
    """The test server's config: the packaged load file, then the smallest configuration of
    the packaged oauth_as.conf with this server's issuer, key and users, and the installed
    page templates."""
    conf = (minimal_conf()
            .replace("https://auth.example.org", h.issuer)
            .replace("/etc/apache2/oauth/es256.pem", signing_key(h, "es256"))
            .replace("/etc/apache2/oauth/users.htpasswd",
                     write_htpasswd(h.path("conf", "users.htpasswd"))))
    assert "/etc/apache2/oauth" not in conf, conf
    return (f"Include {MODS_AVAILABLE}/oauth_as.load\n{conf}"
            f'OAuthASConsentTemplate "{SHARE}/consent.html"\n'
            f'OAuthASAccountTemplate "{SHARE}/account.html"\n'
            f'OAuthASLogoutTemplate "{SHARE}/logout.html"\n')


def install_enable_and_use(deb, httpd_factory):
    dpkg("-i", deb, check=False)
    if not installed():  # missing dependencies: apt completes the installation
        run("apt-get", "-f", "install", "-y", "--no-install-recommends", timeout=600)
    assert installed()
    for path in EXPECTED:
        assert os.path.isfile(path), path
    _, out = run(CLI[0], "--help")
    assert "usage: oauth-as" in out, out
    # installed disabled (dh_apache2 --noenable): nothing changes until the admin enables it
    assert not any(os.path.lexists(p) for p in ENABLED)
    rc, out = run("a2query", "-m", "oauth_as", check=False)
    assert rc != 0, out

    run("a2enmod", "oauth_as")
    for link in ENABLED:
        assert os.path.realpath(link) == os.path.join(MODS_AVAILABLE, os.path.basename(link))
    # the machine's own configuration with the module enabled: it loads, and changes nothing
    _, out = run("apache2ctl", "configtest")
    assert "Syntax OK" in out, out
    _, out = run("apache2ctl", "-M")
    assert "oauth_as_module (shared)" in out, out

    h = httpd_factory(private_conf, module=SO, load_module=False)
    with open(f"/proc/{h.pid}/maps") as f:
        assert SO in f.read(), "the private httpd did not map the installed module"
    assert f"mod_oauth_as {oas_version()} ready" in h.error_log()
    # the README's client, a code flow (the consent page from the installed template)
    g = get_code(h, "my-app", scope="openid profile", expect_consent=True)
    r = redeem(h, g)
    assert r.status_code == 200, r.text
    j = r.json()
    assert jwt_claims(j["id_token"])["iss"] == h.issuer
    assert jwt_claims(j["access_token"])["sub"] == "alice"
    assert j["scope"] == "openid profile"
    h.stop()


def test_package_install_enable_flow_purge(httpd_factory):
    assert os.geteuid() == 0, "installs a package: run as root (CI and this machine do)"
    before = leftovers()
    assert not before, (f"{PACKAGE} (or a module of that name) is on this machine already: "
                        f"this test installs and purges it; remove it first: {before}")
    run("apache2ctl", "configtest")  # the machine's configuration is sound before
    deb = build_deb()
    check_deb(deb)

    # keep the maintainer scripts' invoke-rc.d from (re)starting the system apache2
    own_policy = not os.path.lexists(POLICY_RC_D)
    if own_policy:
        with open(POLICY_RC_D, "w") as f:
            f.write("#!/bin/sh\n# test_990_package.py: no service starts while it runs\nexit 101\n")
        os.chmod(POLICY_RC_D, 0o755)
    left = ["not purged"]
    try:
        install_enable_and_use(deb, httpd_factory)
    finally:
        try:
            # purged as it is (enabled): the maintainer scripts remove the links and state
            if installed():
                dpkg("--purge", PACKAGE, check=False)
            left = leftovers()
        finally:
            # whatever happened, the machine as it was found
            if installed():
                dpkg("--purge", "--force-all", PACKAGE, check=False)
            for p in ENABLED + STATE:
                if os.path.lexists(p):
                    os.remove(p)
            if own_policy:
                os.remove(POLICY_RC_D)
    assert not left, f"left after dpkg --purge: {left}"
    _, out = run("apache2ctl", "configtest")
    assert "Syntax OK" in out, out
