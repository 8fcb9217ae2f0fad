#!/usr/bin/env bash
# Install the Debian packages that the build, the demo and the tests need; only what is missing.
set -euo pipefail

# Build: apxs (apache2-dev), APR/APR-util, jansson, OpenSSL; unit tests: cmocka.
# Tests and demo: httpd itself and its modules, the DBD drivers (OAuthASStore dbd on sqlite3
# and PostgreSQL), htpasswd (apache2-utils), curl/openssl CLIs, Debian's pytest + requests;
# fuzzing: clang and its libFuzzer/sanitizer runtimes.
PACKAGES=(
    apache2 apache2-dev apache2-utils
    libapr1-dev libaprutil1-dev libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql
    libjansson-dev libssl-dev libcmocka-dev pkg-config gcc make
    curl openssl
    python3-pytest python3-requests python3-cryptography
    postgresql
    clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages installed"
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
echo "deps: done"
