#!/bin/sh
# fuzz/run.sh [SECONDS] [NAME...]: builds every fuzz/fuzz_NAME.c with clang's libFuzzer and
# AddressSanitizer + UndefinedBehaviorSanitizer against the engine compiled with the same
# sanitizers (build/fuzz/libparapet-fuzz.a), then runs each target for SECONDS (default 60),
# one at a time, on a copy of its seed corpus (build/fuzz/corpus-NAME/, so the repository
# stays clean and the corpus grows from run to run) with fuzz/NAME.dict when present and the
# libFuzzer flags in fuzz/NAME.options when present. fuzz/pool_guard.c is linked into every
# target so ASan sees pool allocations with exact bounds, and fuzz/common.c (common.h: loading a
# configuration, parsing and feeding a request) too.
#
# Prints one line per target, "fuzz_NAME: N execs, OK" or "... CRASH (reproducer: FILE)",
# then "FUZZ: N passed, N failed"; exits non-zero on any crash or build failure. Reproducers
# stay in build/fuzz/artifacts/NAME/; replay one with build/fuzz/fuzz_NAME FILE.
# `make fuzz FUZZ_SECONDS=N` calls this.
set -u
cd "$(dirname "$0")/.."
SECS=${1:-60}
[ $# -gt 0 ] && shift
ONLY="$*"
OUT=${BUILD:-build}/fuzz
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -g -O1 $SAN -Wall -Wno-unused-parameter -Wno-missing-field-initializers \
$(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes) \
$(pcre2-config --cflags) $(pkg-config --cflags json-c) $(pkg-config --cflags libxml-2.0) -Isrc/engine"
LIBS="$(pcre2-config --libs8) $(pkg-config --libs json-c) $(pkg-config --libs yajl) $(pkg-config --libs libxml-2.0) $(pkg-config --libs lmdb hiredis libmaxminddb) $(apr-1-config --link-ld --libs) \
$(apu-1-config --link-ld --libs) -ldl -rdynamic"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: $CC not found (tools/deps.sh installs clang)"
    exit 1
fi
mkdir -p "$OUT/obj" "$OUT/tmp"
# Two runs at once (e.g. one per core) must not compile the same objects together.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.build.lock"
    flock 9
fi
tmp=""
trap 'rm -rf "$tmp"; exit 130' INT TERM

# ---- the sanitized engine library (rebuilt when a source or any header is newer) ----------
newest_hdr=$(find src/engine -name '*.h' -o -name '*.def' -o -name '*.inc' | xargs ls -t | head -1)
stale=""
for src in $(find src/engine -name '*.c' | sort); do
    obj="$OUT/obj/$(echo "${src#src/engine/}" | tr / _ | sed 's/\.c$/.o/')"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_hdr" -nt "$obj" ]; then
        stale="$stale $src"
    fi
done
lib="$OUT/libparapet-fuzz.a"
if [ -n "$stale" ] || [ ! -f "$lib" ]; then
    echo "fuzz: compiling the engine with $SAN"
    for src in $stale; do echo "$src"; done |
        OUT="$OUT" CC="$CC" CFLAGS="$CFLAGS" xargs -P 2 -I{} sh -c \
            'o="$OUT/obj/$(echo "${1#src/engine/}" | tr / _ | sed "s/\.c\$/.o/")";
             $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$1" -o "$o" || { rm -f "$o"; exit 255; }' \
            _ {} || { echo "fuzz: engine build failed"; exit 1; }
    # Only objects of sources that still exist (a file may have been removed or renamed).
    objs=""
    for src in $(find src/engine -name '*.c' | sort); do
        objs="$objs $OUT/obj/$(echo "${src#src/engine/}" | tr / _ | sed 's/\.c$/.o/')"
    done
    rm -f "$lib" && ar rcs "$lib" $objs || exit 1
fi

# ---- targets: build them all (under the lock), then run them one at a time ----------------
selected=""
for src in fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    short=$(basename "$src" .c)
    short=${short#fuzz_}
    if [ -z "$ONLY" ] || echo " $ONLY " | grep -q " $short "; then
        selected="$selected $short"
    fi
done
pass=0
fail=0
summary=""
built=""
for short in $selected; do
    bin="$OUT/fuzz_$short"
    if [ -x "$bin" ] && [ ! "fuzz/fuzz_$short.c" -nt "$bin" ] && [ ! "$lib" -nt "$bin" ] &&
        [ ! fuzz/pool_guard.c -nt "$bin" ] && [ ! fuzz/common.c -nt "$bin" ] &&
        [ ! fuzz/fuzz.h -nt "$bin" ] && [ ! fuzz/common.h -nt "$bin" ]; then
        built="$built $short"
    elif $CC $CFLAGS -fsanitize=fuzzer -o "$bin" "fuzz/fuzz_$short.c" fuzz/pool_guard.c \
        fuzz/common.c "$lib" \
        $LIBS 2>"$bin.build.log"; then
        built="$built $short"
    else
        cat "$bin.build.log"
        summary="${summary}fuzz_$short: BUILD FAILED (see $bin.build.log)\n"
        fail=$((fail + 1))
    fi
done
flock -u 9 2>/dev/null

for short in $built; do
    name=fuzz_$short
    bin="$OUT/$name"
    corpus="$OUT/corpus-$short"
    mkdir -p "$corpus" "$OUT/artifacts/$short"
    [ -d "fuzz/corpus/$short" ] && cp -n fuzz/corpus/"$short"/* "$corpus"/ 2>/dev/null
    set -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$short/"
    [ -f "fuzz/$short.dict" ] && set -- "$@" -dict="fuzz/$short.dict"
    if [ -f "fuzz/$short.options" ]; then
        set -- "$@" $(grep -v '^[[:space:]]*#' "fuzz/$short.options")
    fi
    log="$OUT/$name.log"
    # Targets that write files (uploads, audit logs) do it under a private dir: tmpfs when there
    # is one, several times faster than a disk-backed overlay.
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        tmp=$(mktemp -d /dev/shm/parapet-fuzz.XXXXXX)
    else
        tmp=$(mktemp -d "$PWD/$OUT/tmp/run.XXXXXX")
    fi
    echo "fuzz: running $name for ${SECS}s"
    PP_FUZZ_TMPDIR="$tmp" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}" \
        UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
        "$bin" "$@" "$corpus" >"$log" 2>&1
    rc=$?
    rm -rf "$tmp"
    tmp=""
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    if [ "$rc" = 0 ]; then
        pass=$((pass + 1))
        summary="$summary$name: ${execs:-0} execs, OK\n"
    else
        fail=$((fail + 1))
        repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        grep -E 'ERROR:|runtime error|CHECK failed|SUMMARY' "$log" | head -5
        summary="$summary$name: ${execs:-0} execs, CRASH (reproducer: ${repro:-none}, log: $log)\n"
    fi
done
printf "%b" "$summary"
echo "FUZZ: $pass passed, $fail failed"
[ "$fail" = 0 ]
