#!/bin/sh
# tests/unit/run_sanitized.sh LABEL [WRAPPER...] -- BINARY...
# Runs each unit-test binary, under WRAPPER when one is given (make memcheck passes valgrind),
# and prints one PASS/FAIL line per binary, then "LABEL: N passed, N failed". A failing
# binary's last 40 lines of output follow its FAIL line (the sanitizer or valgrind report).
# Used by `make asan-unit` and `make memcheck`. The live-clamd tests get a private clamd
# (private_clamd.sh).
pp_top=$(cd "$(dirname "$0")/../.." && pwd -P)
. "$pp_top/tests/unit/private_clamd.sh"
label=$1
shift
wrapper=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    wrapper="$wrapper $1"
    shift
done
[ "${1:-}" = "--" ] && shift
pass=0
fail=0
for t in "$@"; do
    if out=$($wrapper "$t" 2>&1); then
        pass=$((pass + 1))
        echo "PASS $label $(basename "$t")"
    else
        fail=$((fail + 1))
        echo "FAIL $label $t"
        echo "$out" | tail -40
    fi
done
if [ -n "$pp_clamd_error" ]; then
    fail=$((fail + 1))
    echo "FAIL $label: $pp_clamd_error"
fi
echo "$label: $pass passed, $fail failed"
[ "$fail" = 0 ]
