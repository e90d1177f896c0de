#!/bin/sh
# Runs each unit-test binary; prints one line per binary and "UNIT: N passed, N failed".
pass=0; fail=0
for t in "$@"; do
    if out=$("$t" 2>&1); then
        pass=$((pass + 1)); echo "PASS unit $(basename "$t")"
    else
        fail=$((fail + 1)); echo "FAIL unit $(basename "$t")"; echo "$out" | tail -20
    fi
done
echo "UNIT: $pass passed, $fail failed"
[ "$fail" = 0 ]
