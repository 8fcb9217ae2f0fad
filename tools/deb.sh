#!/usr/bin/env bash
# `make deb`: the Debian package libapache2-mod-oauth-as, built the Debian way (debian/,
# dpkg-buildpackage -b -us -uc) in a copy of the sources under build/deb/src, so that the
# package's clean and build never touch this tree's build/; then checked by lintian (what it
# still reports is explained in debian/*lintian-overrides). The result, in build/deb/:
#   libapache2-mod-oauth-as_<version>_<arch>.deb, its .changes and .buildinfo, lintian.txt
#   source.sha256: the hash of the sources it was built from; with the same sources (and the
#   same DEB_BUILD_OPTIONS) a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/deb

# The package's upstream version is the module's own (src/oas.h, OAS_VERSION).
version=$(dpkg-parsechangelog -S Version)
source=$(dpkg-parsechangelog -S Source)
upstream=${version%-*}
oas_version=$(sed -n 's/^#define OAS_VERSION "\(.*\)"$/\1/p' src/oas.h)
if [ "$upstream" != "$oas_version" ]; then
    echo "deb: debian/changelog says $version, src/oas.h OAS_VERSION says $oas_version" >&2
    exit 1
fi

# What the package is built from: the files under version control and new ones not ignored,
# without the tests and the benchmarks (neither built nor shipped).
sources() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard -- . ':!tests' ':!bench' ':!.ci'
    else
        find . \( -path ./build -o -path ./build-asan -o -path ./tests -o -path ./bench \
            -o -path ./.git -o -path ./demo \) -prune -o -type f -printf '%P\0'
    fi | sort -zu | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done
}
list=$(mktemp)
trap 'rm -f "$list"' EXIT
sources > "$list"
hash=$( {
    printf 'DEB_BUILD_OPTIONS=%s\0' "${DEB_BUILD_OPTIONS:-}"
    xargs -0 sha256sum < "$list"
} | sha256sum | cut -d' ' -f1)
arch=$(dpkg --print-architecture)
deb="$out/libapache2-mod-oauth-as_${version}_${arch}.deb"
if [ -f "$deb" ] && [ "$(cat "$out/source.sha256" 2>/dev/null)" = "$hash" ]; then
    echo "deb: $deb is up to date"
    exit 0
fi

rm -rf "$out"
tree="$out/src/$source-$upstream"
mkdir -p "$tree"
tar -c --null -T "$list" -f - | tar -x -C "$tree" -f -
echo "deb: dpkg-buildpackage -b -us -uc in $tree (log: $out/build.log)"
if ! (cd "$tree" && nice -n 10 dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1; then
    tail -40 "$out/build.log" >&2
    echo "deb: dpkg-buildpackage failed (all of it: $out/build.log)" >&2
    exit 1
fi
# dpkg-buildpackage writes next to the tree; the results move to build/deb
mv "$out/src/"*.deb "$out/src/"*.changes "$out/src/"*.buildinfo "$out/"
changes=$(ls "$out"/*.changes)

# lintian: errors and warnings fail the build; informational tags are shown
if ! nice -n 10 lintian --fail-on error,warning --display-info "$changes" > "$out/lintian.txt" 2>&1
then
    cat "$out/lintian.txt" >&2
    echo "deb: lintian found errors or warnings" >&2
    exit 1
fi
cat "$out/lintian.txt"
rm -rf "$out/src"
echo "$hash" > "$out/source.sha256"
echo "deb: $deb"
