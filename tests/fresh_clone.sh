#!/bin/sh
# The README's first command on a machine without the build packages (issue 18): a fresh clone
# of this checkout's HEAD (committed files), libjson-c-dev removed (so `pkg-config --cflags json-c` says nothing and
# json.h is gone while make reads the Makefile), then `make build-after-deps`, the build step
# that `make check` and `make demo` run first. It must install the package and build on this
# first run. Needs root (apt-get); the package is reinstalled on exit whatever happens.
# Prints "FRESH: N passed, N failed".
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
pkg=libjson-c-dev
if [ "$(id -u)" != 0 ]; then
    echo "SKIP fresh clone: needs root to remove $pkg"
    echo "FRESH: 0 passed, 0 failed"
    exit 0
fi
tmp=$(mktemp -d /tmp/parapet-fresh.XXXXXX)
restore() {
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    rm -rf "$tmp"
}
trap restore EXIT
trap 'exit 1' INT TERM
git clone --quiet "$repo" "$tmp/parapet" || { echo "FAIL fresh clone: git clone"; echo "FRESH: 0 passed, 1 failed"; exit 1; }
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$pkg" >/dev/null 2>&1
if pkg-config --exists json-c; then
    echo "FAIL fresh clone: could not remove $pkg"
    echo "FRESH: 0 passed, 1 failed"
    exit 1
fi
if make -C "$tmp/parapet" --no-print-directory build-after-deps >"$tmp/make.log" 2>&1 &&
    [ -x "$tmp/parapet/build/parapet" ] && [ -f "$tmp/parapet/build/mod_parapet.so" ] &&
    pkg-config --exists json-c; then
    echo "PASS fresh clone: the first make installed $pkg and built"
    echo "FRESH: 1 passed, 0 failed"
    exit 0
fi
echo "FAIL fresh clone: first make on a machine without $pkg:"
tail -20 "$tmp/make.log"
echo "FRESH: 0 passed, 1 failed"
exit 1
