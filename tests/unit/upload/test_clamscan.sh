#!/bin/sh
# tests/unit/upload/test_clamscan.sh: util/parapet-clamscan against the EICAR test file and clean
# files, with clamscan (-d the fixture's database) and clamdscan (the fixture's clamd), plus the
# fail-closed cases. Starts its own clamd through tests/fixtures/clamav.sh and stops it on exit.
# Prints one PASS/FAIL line per check; exit status 0 only if every check passed.
set -u

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../../.." && pwd -P)
helper=$top/util/parapet-clamscan
fixture=$top/tests/fixtures/clamav.sh
failures=0

if ! command -v clamscan > /dev/null 2>&1 || ! command -v clamd > /dev/null 2>&1; then
    echo "SKIP: clamscan/clamd not installed (Debian packages clamav, clamav-daemon)"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pp-test-clamscan-XXXXXX")
cleanup() {
    "$fixture" stop "$work/clamd" || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sock=$("$fixture" start "$work/clamd") || { echo "FAIL: clamav fixture did not start"; exit 1; }
conf=$work/clamd/clamd.conf
db=$work/clamd/db

"$fixture" eicar "$work/eicar.com"
printf 'nothing to see here\n' > "$work/clean.txt"
: > "$work/empty.txt"

# check NAME EXPECTED-PREFIX [VAR=value...] -- [ARG...]: runs the helper with that environment
# and those arguments; expects exactly one line starting with EXPECTED-PREFIX.
check() {
    name=$1 want=$2
    shift 2
    for a in "$@"; do
        shift
        if [ "$a" = -- ]; then set -- "$@" "$helper"; else set -- "$@" "$a"; fi
    done
    out=$(env "$@" 2>&1)
    lines=$(printf '%s\n' "$out" | wc -l)
    case $out in
    "$want"*)
        if [ "$lines" -eq 1 ]; then
            echo "PASS: $name: $out"
            return
        fi
        ;;
    esac
    echo "FAIL: $name: expected \"$want...\" on one line, got: $out"
    failures=$((failures + 1))
}

clamscan_env="PARAPET_CLAMSCAN=$(command -v clamscan)"
clamdscan_env="PARAPET_CLAMSCAN=$(command -v clamdscan)"

check "clamscan eicar" "0 clamscan: Parapet.Test.EICAR" \
    "$clamscan_env" "PARAPET_CLAMSCAN_ARGS=-d $db" -- "$work/eicar.com"
check "clamscan clean" "1 clean" \
    "$clamscan_env" "PARAPET_CLAMSCAN_ARGS=-d $db" -- "$work/clean.txt"
check "clamscan empty" "1 empty file" \
    "$clamscan_env" "PARAPET_CLAMSCAN_ARGS=-d $db" -- "$work/empty.txt"
check "clamscan missing file" "0 " \
    "$clamscan_env" "PARAPET_CLAMSCAN_ARGS=-d $db" -- "$work/missing"
check "clamscan without database" "0 " \
    "$clamscan_env" "PARAPET_CLAMSCAN_ARGS=-d $work/nodb" -- "$work/clean.txt"

if command -v clamdscan > /dev/null 2>&1; then
    check "clamdscan eicar" "0 clamdscan: Parapet.Test.EICAR" \
        "$clamdscan_env" "PARAPET_CLAMSCAN_ARGS=--config-file=$conf" -- "$work/eicar.com"
    check "clamdscan clean" "1 clean" \
        "$clamdscan_env" "PARAPET_CLAMSCAN_ARGS=--config-file=$conf" -- "$work/clean.txt"
    check "clamdscan --fdpass clean" "1 clean" \
        "$clamdscan_env" "PARAPET_CLAMSCAN_ARGS=--config-file=$conf --fdpass" -- "$work/clean.txt"
    check "clamdscan missing file" "0 " \
        "$clamdscan_env" "PARAPET_CLAMSCAN_ARGS=--config-file=$conf" -- "$work/missing"
    # Auto-detection: clamd answers, so clamdscan is used.
    check "auto picks clamdscan (eicar)" "0 clamdscan:" \
        "PARAPET_CLAMSCAN=" "PARAPET_CLAMSCAN_ARGS=--config-file=$conf" -- "$work/eicar.com"
    check "auto picks clamdscan (clean)" "1 clean: clamdscan" \
        "PARAPET_CLAMSCAN=" "PARAPET_CLAMSCAN_ARGS=--config-file=$conf" -- "$work/clean.txt"
    printf 'LocalSocket %s/nowhere.sock\n' "$work" > "$work/dead.conf"
    check "clamdscan unreachable fails closed" "0 " \
        "$clamdscan_env" "PARAPET_CLAMSCAN_ARGS=--config-file=$work/dead.conf" -- "$work/clean.txt"
    # Auto-detection: clamdscan ignores -d and pings the system clamd; when there is none,
    # clamscan (here with the fixture's database) is used.
    if clamdscan --ping 1 > /dev/null 2>&1; then
        echo "SKIP: auto falls back to clamscan: a system clamd is running"
    else
        check "auto falls back to clamscan" "1 clean: clamscan" \
            "PARAPET_CLAMSCAN=" "PARAPET_CLAMSCAN_ARGS=-d $db" -- "$work/clean.txt"
    fi
else
    echo "SKIP: clamdscan not installed (Debian package clamdscan)"
fi

check "unparseable output" "0 unable to parse scanner output" \
    "PARAPET_CLAMSCAN=/bin/echo" -- "$work/clean.txt"
check "scanner missing" "0 unable to parse scanner output: cannot run" \
    "PARAPET_CLAMSCAN=$work/none" -- "$work/clean.txt"
check "no argument" "0 usage" --
check "two arguments" "0 usage" -- "$work/clean.txt" "$work/eicar.com"

# A scanner that prints OK but fails is not trusted.
printf '#!/bin/sh\nfor f; do :; done; echo "$f: OK"; exit 2\n' > "$work/liar"
chmod 755 "$work/liar"
check "OK with bad exit status" "0 " "PARAPET_CLAMSCAN=$work/liar" -- "$work/clean.txt"

# SIGTERM (Parapet's timeout) takes the scanner down too.
printf '#!/bin/sh\necho $$ > "%s/slow.pid"\nexec sleep 30\n' "$work" > "$work/slow"
chmod 755 "$work/slow"
PARAPET_CLAMSCAN=$work/slow "$helper" "$work/clean.txt" > /dev/null 2>&1 &
helper_pid=$!
i=0
while [ ! -s "$work/slow.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$helper_pid"
wait "$helper_pid" 2> /dev/null
# Gone, or a zombie waiting for whoever inherited it: either way no longer scanning. The helper
# waits half a second for it before it exits; on a loaded machine the scanner can take longer
# to die, so poll (10 s, well short of the scanner's 30 s).
scanner_gone() {
    [ -s "$work/slow.pid" ] || return 1
    state=$(ps -o stat= -p "$(cat "$work/slow.pid")" 2> /dev/null || true)
    [ -z "$state" ] || [ "${state#Z}" != "$state" ]
}
i=0
while ! scanner_gone && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if scanner_gone; then
    echo "PASS: SIGTERM reaches the scanner"
else
    echo "FAIL: scanner still running after SIGTERM to the helper"
    kill -KILL "$(cat "$work/slow.pid")" 2> /dev/null
    failures=$((failures + 1))
fi

if [ "$failures" -eq 0 ]; then
    echo "PASS: all parapet-clamscan checks"
    exit 0
fi
echo "FAIL: $failures parapet-clamscan check(s)"
exit 1
