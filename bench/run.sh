#!/bin/sh
# make bench: HTTP benchmark (bare Apache vs Parapet vs ModSecurity 2.9.7, with the 100 rules and
# with OWASP CRS at PL1 and PL4; about 20 minutes on 2 cores, plus 15-30 for the flood of issue
# 16), memory on large uploads, engine instruction counts; rewrites bench/RESULTS.md. Arguments go to bench.py
# (bench/http/bench.py --help), e.g. `bench/run.sh --quick` for a smoke test.
# One scenario on some configurations only, without rewriting RESULTS.md:
#   python3 bench/http/bench.py --scenarios mp10m --servers parapet --rounds 3
set -eu
cd "$(dirname "$0")/.."

for tool in apache2 wrk valgrind taskset python3; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
        echo "bench: $tool is not installed" \
             "(apt-get install apache2 wrk valgrind util-linux python3)" >&2
        exit 2
    }
done
[ -f /usr/lib/apache2/modules/mod_security2.so ] || {
    echo "bench: ModSecurity 2 is not installed (apt-get install libapache2-mod-security2)" >&2
    exit 2
}

# Build what is measured, also when this script is run directly rather than through `make bench`:
# an engine or store benchmark left over from an older build would report an older engine.
make -s all build/bench_rules build/bench_injection build/bench_store

# The multipart parser benchmark is optional: build it when its source is in the tree.
if [ -f bench/engine/bench_multipart.c ]; then
    if ! make -s build/bench_multipart; then
        echo "bench: bench/engine/bench_multipart.c did not build; skipped" >&2
        rm -f build/bench_multipart
    fi
else
    rm -f build/bench_multipart
fi

python3 bench/http/bench.py "$@"

# Approval latency per file (issue: uploads): native clamd vs parapet-clamscan with clamdscan
# vs with clamscan, in one run, appended to the results bench.py just wrote.
out=bench/RESULTS.md
for a in "$@"; do case $a in --output=*) out=${a#--output=} ;; esac; done
if [ -f "$out" ] && { command -v clamd >/dev/null 2>&1 || [ -x /usr/sbin/clamd ]; }; then
    {
        echo
        echo "## Upload approval latency"
        echo
        echo 'Command: `python3 bench/approval/bench_approval.py`. The fixture clamd holds only the'
        echo 'EICAR test signatures, so clamscan loads its database fast here; with the full'
        echo 'ClamAV database clamscan spends seconds per file loading it, clamd does not.'
        echo
        python3 bench/approval/bench_approval.py
    } >> "$out"
fi

# @detectSQLi / @detectXSS next to the libinjection inside mod_security2.so, same inputs.
if [ -f "$out" ] && [ -x build/bench_injection ]; then
    {
        echo
        echo "## @detectSQLi and @detectXSS throughput"
        echo
        echo 'Command: `build/bench_injection` (bench/engine/bench_injection.c): the same values'
        echo 'through our detectors and through libinjection 3.9.2 inside mod_security2.so'
        echo '(the reference), best of three runs, MB/s of input.'
        echo
        build/bench_injection
    } >> "$out"
fi

# What the metrics' per-request counting costs (issue 18), appended likewise.
if [ -f "$out" ]; then
    { echo; python3 bench/metrics/cost.py; } >> "$out"
fi

# Persistent collections (issue 16): the embedded store and Redis per request, and a flood of
# 1,000,000 distinct addresses (size bounded by expiry, cost flat), appended likewise.
if [ -f "$out" ] && [ -x build/bench_store ] && command -v redis-server >/dev/null 2>&1; then
    {
        echo
        echo "## Persistent collections: embedded store and Redis"
        echo
        echo 'Command: `build/bench_store 1000000` (bench/engine/bench_store.c), a private redis-server.'
        echo
        build/bench_store 1000000
    } >> "$out"
fi

# The same flood through real Apache + Parapet (issue 16 item 5): every request from a new
# 127.0.0.0/8 address, a CRS 912-style rule writing IP, both stores; per tenth of the flood the
# CPU per request, the worker's RSS and the store's size. FLOOD_REQUESTS sets the size (default
# 1,000,000 per store, as issue 16 asks: 6-15 minutes per store on a 2-core machine, by load;
# FLOOD_REQUESTS=100000 for a quick look). Then what the Redis store costs per request over the
# embedded one under CRS PL1 with its DoS protection on (CPU and callgrind, about 5 minutes).
if [ -f "$out" ] && command -v redis-server >/dev/null 2>&1; then
    {
        echo
        echo "## Persistent collections: a flood of distinct addresses through Apache"
        echo
        echo 'Command: `python3 bench/http/flood.py --requests '"${FLOOD_REQUESTS:-1000000}"'`.'
        echo
        python3 bench/http/flood.py --requests "${FLOOD_REQUESTS:-1000000}"
    } >> "$out"
fi
