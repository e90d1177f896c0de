# tests/unit/private_clamd.sh, sourced by the unit-test runners with pp_top set to the
# repository: unless PARAPET_CLAMD_SOCKET is
# already set, starts a private clamd with tests/fixtures/clamav.sh in a temporary directory,
# exports its socket as PARAPET_CLAMD_SOCKET (the live-clamd tests of test_clamd.c need it) and
# stops that clamd, by the pid in its directory, when the runner exits. Without clamd the live
# tests skip, and the runner's summary counts the skips.
pp_clamd_dir=""
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
    if pp_sock=$(sh "$pp_top/tests/fixtures/clamav.sh" start "$pp_clamd_dir/clamd"); then
        export PARAPET_CLAMD_SOCKET="$pp_sock"
    else
        echo "WARN unit: the private clamd did not start; the live-clamd tests will skip"
    fi
fi
