# tests/unit/private_clamd.sh, sourced by the unit-test runners with pp_top set to the
# repository: unless PARAPET_CLAMD_SOCKET is already set, starts a private clamd with
# tests/fixtures/clamav.sh in a temporary directory, exports its socket as
# PARAPET_CLAMD_SOCKET (the live-clamd tests of test_clamd.c need it) and stops that clamd, by
# the pid in its directory, when the runner exits. Without clamd the live tests skip, and the
# runner's summary counts the skips; with clamd installed but failing to start (twice),
# pp_clamd_error says why and the runner counts a failure.
pp_clamd_dir=""
pp_clamd_error=""
pp_clamd_stop() {
    if [ -n "$pp_clamd_dir" ]; then
        sh "$pp_top/tests/fixtures/clamav.sh" stop "$pp_clamd_dir/clamd" || true
        rm -rf "$pp_clamd_dir"
    fi
}
if [ -z "${PARAPET_CLAMD_SOCKET:-}" ] && command -v clamd > /dev/null 2>&1; then
    pp_clamd_dir=$(mktemp -d "${TMPDIR:-/tmp}/pp-unit-clamd-XXXXXX")
    trap pp_clamd_stop EXIT
    trap 'exit 1' INT TERM
    # A second try: on a loaded machine the first start can run out of its 60 s.
    for pp_try in 1 2; do
        if pp_sock=$(sh "$pp_top/tests/fixtures/clamav.sh" start "$pp_clamd_dir/clamd" \
            2> "$pp_clamd_dir/start.err"); then
            export PARAPET_CLAMD_SOCKET="$pp_sock"
            break
        fi
        sh "$pp_top/tests/fixtures/clamav.sh" stop "$pp_clamd_dir/clamd" 2> /dev/null || true
    done
    # clamd is installed but would not start: the runner counts that as a failure rather
    # than letting the live tests skip.
    if [ -z "${PARAPET_CLAMD_SOCKET:-}" ]; then
        pp_clamd_error="the private clamd did not start: $(tail -n 3 "$pp_clamd_dir/start.err" | tr '\n' ' ')"
    fi
fi
