#!/usr/bin/env bash
# Install the Debian packages that the build, the demo and the tests need; only what is missing.
set -euo pipefail

# Build: apxs (apache2-dev), APR/APR-util, jansson, OpenSSL; unit tests: cmocka.
# libcurl (OpenSSL flavour, like the rest of our TLS): the standard HTTP client, for outbound
# https calls such as a client's jwks_uri (OAuthASClientJWKS URL).
# Tests and demo: httpd itself and its modules, the DBD drivers (OAuthASStore dbd on sqlite3
# and PostgreSQL), htpasswd (apache2-utils), curl/openssl CLIs, Debian's pytest + requests;
# chromium: the browser of the interop test (driven by playwright-core, never a downloaded one).
# fuzzing: clang and its libFuzzer/sanitizer runtimes.
# The Debian package (make deb, tests/integration/test_990_package.py): dpkg-buildpackage
# (dpkg-dev, build-essential), debhelper (dh_apache2 comes with apache2-dev), fakeroot, lintian.
PACKAGES=(
    apache2 apache2-dev apache2-utils
    libapr1-dev libaprutil1-dev libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql
    libjansson-dev libssl-dev libcurl4-openssl-dev libcmocka-dev pkg-config gcc make
    curl openssl
    python3-pytest python3-requests python3-cryptography gdb
    postgresql
    libapache2-mod-auth-openidc libapache2-mod-oauth2
    chromium
    clang libclang-rt-14-dev
    build-essential dpkg-dev debhelper fakeroot lintian
)
# Interop tests (tests/interop, run by the pytest wrappers with `npm ci`): Node.js >= 20 and npm.
# The machine images ship Node 20 with its npm; only a machine without node gets Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    PACKAGES+=(nodejs npm)
fi

# openid-client v6 and playwright-core need Node.js 20 or newer (Debian 12's own is 18).
check_node() {
    local v
    v=$(node --version 2>/dev/null || true)
    if [[ ! "$v" =~ ^v([0-9]+)\. ]] || [ "${BASH_REMATCH[1]}" -lt 20 ]; then
        echo "deps: Node.js >= 20 is needed for tests/interop, found '${v:-none}'" >&2
        exit 1
    fi
}

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    check_node
    echo "deps: all ${#PACKAGES[@]} packages installed, node $(node --version)"
    exit 0
fi
echo "deps: installing ${missing[*]}"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# The packages' maintainer scripts would start apache2 (on :80) and postgresql as services.
# Tests run their own servers on free loopback ports, so keep the services from starting:
# a policy-rc.d that refuses (exit 101), only if the machine has none, removed afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"

# If a machine-wide policy let apache2 start anyway, stop the service we just installed.
if [[ " ${missing[*]} " == *" apache2 "* ]] && command -v service >/dev/null; then
    $SUDO service apache2 stop >/dev/null 2>&1 || true
fi

for p in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || { echo "deps: $p failed to install" >&2; exit 1; }
done
check_node
echo "deps: done"
