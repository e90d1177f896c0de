#!/bin/sh
# make check: unit tests, engine eval cases, end-to-end tests through real Apache. Each suite
# prints "SUITE: N passed, N failed"; this adds them up and ends with the line
# "N passed, N failed".
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
tests/run_unit.sh "$@" | tee -a "$log"
python3 tests/eval/run.py | tee -a "$log"
python3 tests/e2e/run.py | tee -a "$log"
# The engine must never include Apache headers (style §8).
if grep -rlE '#include *[<"](httpd|http_[a-z_]+|ap_[a-z_]+|util_filter)\.h' src/engine >/dev/null; then
    echo "FAIL layout: src/engine includes an Apache header" | tee -a "$log"
    echo "LAYOUT: 0 passed, 1 failed" >> "$log"
else
    echo "PASS layout: engine free of Apache headers"
    echo "LAYOUT: 1 passed, 0 failed" >> "$log"
fi
# docs/directives.md is generated from the directive table: it must not drift.
if build/parapet help --markdown | cmp -s - docs/directives.md; then
    echo "DOCS: 1 passed, 0 failed" >> "$log"
else
    echo "FAIL docs: docs/directives.md is stale (build/parapet help --markdown > docs/directives.md)"
    echo "DOCS: 0 passed, 1 failed" >> "$log"
fi
# fuzz/secrule.dict is generated from the registries too (tools/gen_fuzz_dict.c).
if build/gen_fuzz_dict | cmp -s - fuzz/secrule.dict; then
    echo "FUZZDICT: 1 passed, 0 failed" >> "$log"
else
    echo "FAIL fuzz dict: fuzz/secrule.dict is stale (make fuzz-dict)"
    echo "FUZZDICT: 0 passed, 1 failed" >> "$log"
fi
pass=$(sed -n 's/^[A-Z0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
fail=$(sed -n 's/^[A-Z0-9]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
suites=$(grep -cE '^[A-Z0-9]+: [0-9]+ passed' "$log")
[ "$suites" -ge 4 ] || { echo "a test suite did not report (crashed?)"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
