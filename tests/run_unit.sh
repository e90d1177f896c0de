#!/bin/sh
# Runs the unit tests: cmocka binaries, and shell tests (tests/unit/**/test_*.sh, which print
# "PASS: ..." / "FAIL: ..." / "SKIP: ..." per check and a summary line last). Counts tests, not
# binaries: one line per binary with its counts, the names of skipped tests, the output of a
# failing one, then "UNIT: N passed, N failed, N skipped". A binary that exits non-zero without
# reporting a failed test (a crash, a failed set-up) counts as one failure. The live-clamd tests
# get a private clamd (tests/unit/private_clamd.sh).
pp_top=$(cd "$(dirname "$0")/.." && pwd -P)
. "$pp_top/tests/unit/private_clamd.sh"
pass=0; fail=0; skip=0

# sum PATTERN TEXT: the sum of the numbers the sed pattern extracts from TEXT's lines.
sum() {
    printf '%s\n' "$2" | sed -n "$1" | awk '{s += $1} END {print s + 0}'
}

for t in "$@"; do
    name=$(basename "$t")
    case $t in
    *.sh)
        out=$(sh "$t" 2>&1); rc=$?
        checks=$(printf '%s\n' "$out" | sed '$d')
        p=$(printf '%s\n' "$checks" | grep -c '^PASS: ')
        f=$(printf '%s\n' "$checks" | grep -c '^FAIL: ')
        s=$(printf '%s\n' "$out" | grep -c '^SKIP: ')
        skipped=$(printf '%s\n' "$out" | sed -n 's/^SKIP: //p')
        ;;
    *)
        out=$("$t" 2>&1); rc=$?
        p=$(sum 's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1/p' "$out")
        f=$(sum 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:$/\1/p' "$out")
        s=$(sum 's/^\[  SKIPPED \] \([0-9]*\) test(s), listed below:$/\1/p' "$out")
        # Each skipped test is named twice (as it runs and in the list): name it once.
        skipped=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([A-Za-z0-9_]*\)$/\1/p' | sort -u | tr '\n' ' ')
        ;;
    esac
    [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    if [ "$f" = 0 ]; then
        if [ "$s" = 0 ]; then echo "PASS unit $name: $p passed"; else echo "PASS unit $name: $p passed, $s skipped"; fi
    else
        echo "FAIL unit $name: $p passed, $f failed"; printf '%s\n' "$out" | tail -20
    fi
    [ "$s" != 0 ] && echo "SKIP unit $name: $skipped"
done
if [ -n "$pp_clamd_error" ]; then
    fail=$((fail + 1)); echo "FAIL unit: $pp_clamd_error"
fi
echo "UNIT: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
