"""Uploads: approval scripts and scanners that hang or leave children behind (each is killed and
reaped, the request rejected), what a script is given, the file count and scan deadlines, a full
upload directory. The group and the helpers are in uploads_common.py (see test_uploads.py).
"""

import os
import signal
import string
import subprocess
import time
from pathlib import Path

import harness
from harness import (Skip, running_as_root, wait_for)
from uploads_common import (CGI, EICAR, UPLOADS, VIRUS, access_fields, assemble, cmdline, comm,
                            expect, expect_children_reaped, expect_logged, expect_no_files,
                            expect_reached_app, expect_rejected, in_session, KiB, kill_leftovers,
                            marker, MiB, post_file, post_in_background, proc_state, random_token,
                            read_pid, signal_masks, signal_names, stat_fields, upload_dir_ids)


# ---- 8. hung approval script ---------------------------------------------------------------------

@UPLOADS.test
def test_hung_approval_script_times_out_and_is_reaped(srv):
    pidfile = srv.root / "data" / "hang.pid"
    thread, result = post_in_background(srv, "hang", b"whatever\n", "slow.txt")
    # While it hangs: the script is the `sleep` itself (exec), a child of an Apache child.
    pid = wait_for(lambda: read_pid(pidfile) if comm(read_pid(pidfile) or 0) == "sleep" else None,
                   timeout=10)
    masks = signal_masks(pid) if pid else None
    thread.join(30)
    expect(not thread.is_alive(), "no answer 30 s after a 2 s approval timeout")
    expect("error" not in result, "request failed: %r" % result.get("error"))
    resp, mark, seconds = result["resp"], result["mark"], result["seconds"]
    expect_rejected(srv, resp, mark, "hung approval script")
    expect_logged(srv, mark, "timed out", "hung approval script")
    expect(pid is not None, "the approval script never ran (or never reached its sleep)")
    state = proc_state(pid)
    expect(state is None, "approval script %d still there after the answer (state %s)"
           % (pid, state))
    expect_children_reaped(srv, "hung approval script")
    expect_no_files(srv, "hang", "hung approval script")
    print("    rejected after %.2f s; script pid %d reaped; it ran with signals blocked: %s, "
          "ignored: %s" % (seconds, pid, " ".join(signal_names(masks[0])) or "none",
                           " ".join(signal_names(masks[1])) or "none"))
    expect(not masks[0] & (1 << (signal.SIGTERM - 1)),
           "the approval script inherits the Apache worker thread's signal mask (SIGTERM "
           "blocked), so the timeout's SIGTERM does nothing and only SIGKILL, a grace period "
           "later, ends it (answered after %.2f s); blocked: %s"
           % (seconds, " ".join(signal_names(masks[0]))))
    expect(1.8 <= seconds < 2.8, "answered after %.2f s, not ~2 s (SecUploadApproveTimeout 2)"
           % seconds)


@UPLOADS.test
def test_hung_scanner_under_parapet_clamscan_is_not_left_behind(srv):
    """parapet-clamscan's scanner hangs: at the timeout the helper must take it down (its
    SIGTERM handler kills the scanner), not leave it running."""
    scanner_pidfile = srv.root / "data" / "slow-scanner.pid"
    helper_pidfile = srv.root / "data" / "hangclam.pid"
    thread, result = post_in_background(srv, "hangclam", b"whatever\n", "slow.txt")
    scanner = wait_for(lambda: read_pid(scanner_pidfile)
                       if comm(read_pid(scanner_pidfile) or 0) == "sleep" else None, timeout=10)
    helper = read_pid(helper_pidfile)
    thread.join(30)
    try:
        expect(not thread.is_alive(), "no answer 30 s after a 2 s approval timeout")
        expect("error" not in result, "request failed: %r" % result.get("error"))
        expect_rejected(srv, result["resp"], result["mark"], "hung scanner")
        expect(scanner is not None and helper is not None, "the scanner never ran")
        expect(proc_state(helper) is None, "parapet-clamscan %d is still there" % helper)
        expect_children_reaped(srv, "hung scanner")
        left = wait_for(lambda: proc_state(scanner) is None, timeout=2)
        expect(left, "the hung scanner (pid %d, now a child of %s) outlived parapet-clamscan: "
               "the helper was SIGKILLed after %.2f s instead of handling SIGTERM"
               % (scanner, ppid_of(scanner), result["seconds"]))
    finally:
        kill_leftovers(srv, [p for p in (scanner,) if p])


@UPLOADS.test
def test_hung_shell_script_child_is_not_left_behind(srv):
    """A shell script that runs `sleep 60` itself: the timeout kills the shell. Its own child
    is a process the request left behind unless Parapet ends the script's whole group."""
    pidfile = srv.root / "data" / "hang-sh.pid"
    before = {p for p in in_session(srv) if comm(p) == "sleep"}
    started = time.time()
    resp, _, mark = post_file(srv, "hangsh", b"whatever\n", "slow.txt")
    seconds = time.time() - started
    expect_rejected(srv, resp, mark, "hung shell approval script")
    expect(1.8 <= seconds < 3.5, "answered after %.2f s (SecUploadApproveTimeout 2)" % seconds)
    pid = read_pid(pidfile)
    expect(pid is not None and proc_state(pid) is None, "the script's shell %s is still there"
           % pid)
    expect_children_reaped(srv, "hung shell approval script")
    # Only our Apache's session can hold these (whatever process group the script had).
    # A zombie has been killed already (init reaps it in its own time).
    orphans = [p for p in in_session(srv) if comm(p) == "sleep" and p not in before
               and proc_state(p) != "Z"]
    parents = [ppid_of(p) for p in orphans]
    kill_leftovers(srv, orphans)
    expect(not orphans, "the script's `sleep 60` (pid %s) outlived the timeout (reparented "
           "to %s): util/proc.c signals only the script, not its process group"
           % (orphans, parents))


@UPLOADS.test
def test_approval_script_background_child_is_killed_with_it(srv):
    """A script that accepts at once and leaves `sleep 100 &` behind (holding its stdout): once
    the script has exited, nothing of its process group may remain."""
    started = time.time()
    resp, body, mark = post_file(srv, "bgchild", b"whatever\n", "bg.txt")
    seconds = time.time() - started
    leader = read_pid(srv.root / "data" / "bg-leader.pid")
    child = read_pid(srv.root / "data" / "bg-child.pid")
    try:
        expect_reached_app(srv, resp, body, mark, "script with a background child")
        expect(leader and child, "the script did not run to its end (pids %s, %s)" % (leader,
                                                                                  child))
        expect(seconds < 5, "answered after %.2f s: the background child held the request"
               % seconds)
        # SIGKILL is asynchronous: give it a moment. A killed orphan may stay a zombie here
        # (this container's init does not reap), so only running processes count.
        def alive():
            return [p for p in harness.processes_in_group(leader) if proc_state(p) != "Z"]
        gone = wait_for(lambda: not alive(), timeout=3)
        left = alive()
        expect(gone and not left, "process group %d of the approval script still has running "
               "processes after the request: %s" % (leader, [(p, cmdline(p)) for p in left]))
        print("    answered 200 after %.2f s; the script's `sleep 100 &` (pid %d) is %s"
              % (seconds, child, {None: "gone"}.get(proc_state(child), "a zombie")))
        expect_children_reaped(srv, "script with a background child")
    finally:
        kill_leftovers(srv, [p for p in (child,) if p])


@UPLOADS.test
def test_approval_script_gets_only_path(srv):
    """Apache's environ (whatever init, apachectl and envvars exported) is not the script's."""
    apache_env = Path("/proc/%d/environ" % srv.proc.pid).read_bytes().split(b"\0")
    resp, body, mark = post_file(srv, "envdump", b"whatever\n", "env.txt")
    expect_reached_app(srv, resp, body, mark, "environment dump script")
    got = (srv.root / "data" / "approve-env.dump").read_text().splitlines()
    expect(got == ["PATH=/usr/local/bin:/usr/bin:/bin"],
           "the approval script's environment is %s (Apache's has %d entries)"
           % (got, len([e for e in apache_env if e])))
    print("    approval script environment: %s (Apache's has %d entries)"
          % (got, len([e for e in apache_env if e])))


def many_files(count):
    boundary = "----WebKitFormBoundary" + random_token(string.ascii_letters + string.digits, 16)
    body = assemble(boundary, [(['Content-Disposition: form-data; name="f%d"; filename="a%d.txt"'
                                 % (i, i), "Content-Type: text/plain"], b"x")
                               for i in range(count)])
    return {"Content-Type": "multipart/form-data; boundary=" + boundary}, body


def post_many(srv, prefix, count):
    mark = marker()
    headers, body = many_files(count)
    started = time.time()
    resp = srv.request("POST", "/%s/%s?m=%s" % (prefix, CGI, mark), body=body, headers=headers)
    return resp, body, mark, time.time() - started


@UPLOADS.test
def test_file_count_limit(srv):
    """200 one-byte files with a 0.2 s approval script (attack run D6: 200 after 40.7 s). Past
    SecUploadFileLimit (default 100) the request is answered 400 before any script runs."""
    resp, _, mark, seconds = post_many(srv, "manyfiles", 200)
    expect_rejected(srv, resp, mark, "200 files", status=400)
    line = expect_logged(srv, mark, "SecUploadFileLimit 100", "200 files")
    expect(seconds < 2, "200 files answered after %.2f s" % seconds)
    expect_no_files(srv, "manyfiles", "200 files")
    print("    200 files: %d after %.2f s: %s" % (resp.status, seconds,
                                                 line.split("] ", 4)[-1][:140]))
    # At the limit the files are all approved (and the request passes).
    resp, body, mark, seconds = post_many(srv, "manyfiles", 5)
    expect_reached_app(srv, resp, body, mark, "5 files")


@UPLOADS.test
def test_scan_deadline_covers_all_files(srv):
    """5 files, a 1 s approval script and SecUploadScanDeadline 2: one deadline for the whole
    request, so it is rejected at about 2 s (fail closed), not accepted after 5 s."""
    resp, _, mark, seconds = post_many(srv, "deadline", 5)
    expect_rejected(srv, resp, mark, "5 files past the scan deadline")
    line = expect_logged(srv, mark, "SecUploadScanDeadline 2 s", "5 files past the deadline")
    expect(1.8 <= seconds < 3.5, "answered after %.2f s, not ~2 s" % seconds)
    expect_children_reaped(srv, "5 files past the scan deadline")
    expect_no_files(srv, "deadline", "5 files past the scan deadline")
    print("    5 files x 1 s, deadline 2 s: %d after %.2f s: %s"
          % (resp.status, seconds, line.split("] ", 4)[-1][:160]))
    # Two files fit.
    resp, body, mark, seconds = post_many(srv, "deadline", 1)
    expect_reached_app(srv, resp, body, mark, "1 file within the deadline")


@UPLOADS.test
def test_scan_deadline_bounds_a_hung_clamd_even_with_failopen(srv):
    """clamd hangs (SIGSTOP): the request's scan deadline (2 s), not the 60 s scan timeout, ends
    the wait, and running out of time is a rejection even under SecUploadScanClamdFailOpen."""
    srv.need_clamd()
    pid = read_pid(srv.clamd_dir / "clamd.pid")
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.time()
        resp, _, mark = post_file(srv, "clamddeadline", b"harmless\n", "a.txt")
        seconds = time.time() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    expect_rejected(srv, resp, mark, "hung clamd, deadline 2 s")
    line = expect_logged(srv, mark, "SecUploadScanDeadline 2 s", "hung clamd, deadline 2 s")
    expect(1.8 <= seconds < 3.5, "answered after %.2f s, not ~2 s" % seconds)
    print("    hung clamd, FailOpen On, deadline 2 s: %d after %.2f s" % (resp.status, seconds))
    resp, body, mark = post_file(srv, "clamddeadline", b"harmless\n", "a.txt")
    expect_reached_app(srv, resp, body, mark, "clamd running again")


@UPLOADS.test
def test_clamd_scans_the_stored_bytes_not_the_name(srv):
    """Between the write and the scan, the name is swapped for a clean file (here by the
    approval script; in the review's case M6 by another user who can write SecUploadDir).
    clamd must judge the bytes Parapet stored: it reads the descriptor the store wrote."""
    srv.need_clamd()
    resp, _, mark = post_file(srv, "swapscan", EICAR, "eicar.com")
    expect_rejected(srv, resp, mark, "EICAR swapped for a clean file by name")
    line = expect_logged(srv, mark, VIRUS, "EICAR swapped for a clean file by name")
    print("    %s" % line.split("] ", 4)[-1][:140])
    expect_no_files(srv, "swapscan", "EICAR swapped by name")


@UPLOADS.test
def test_approval_refused_in_a_directory_others_can_write(srv):
    """The approval script is given a path: in a group-writable SecUploadDir another user could
    swap the file under that name, so Parapet refuses (fail closed) and says why."""
    d = srv.upload_dir("groupwritable")
    os.chmod(d, 0o2770)
    try:
        resp, _, mark = post_file(srv, "groupwritable", b"harmless\n", "a.txt")
    finally:
        os.chmod(d, 0o2750)
    expect_rejected(srv, resp, mark, "approval in a group-writable SecUploadDir")
    line = expect_logged(srv, mark, "is writable by its group (mode 2770)",
                         "approval in a group-writable SecUploadDir")
    print("    %s" % line.split("] ", 4)[-1][:200])
    expect_no_files(srv, "groupwritable", "approval in a group-writable SecUploadDir")
    resp, body, mark = post_file(srv, "groupwritable", b"harmless\n", "a.txt")
    expect_reached_app(srv, resp, body, mark, "approval with the directory private again")


def tmpfs_usage_kb(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize // KiB


@UPLOADS.test
def test_full_upload_dir_keeps_nothing_and_recovers(srv):
    """SecUploadDir on a full 1 MiB tmpfs (attack run D10). Requests that do not fit fail with
    500, and leave nothing behind: not the truncated upload file (even though the 500 makes the
    request relevant under KeepFiles RelevantOnly), not the raw body spill, not a response
    spill. So an upload that fits an empty directory succeeds afterwards."""
    if not running_as_root():
        raise Skip("needs root to mount a tmpfs")
    d = srv.upload_dir("full")
    uid, gid = upload_dir_ids()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=2750,uid=%d,gid=%d"
                              % (uid, gid), "parapet-e2e-full", str(d)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        raise Skip("cannot mount a tmpfs here: %s" % mounted.stderr.strip())
    try:
        def expect_empty(what):
            expect_no_files(srv, "full", what)
            used = tmpfs_usage_kb(d)
            expect(used == 0, "%s: %d KiB still used in the 1 MiB SecUploadDir" % (what, used))

        def expect_disk_full(resp, mark, what):
            expect_rejected(srv, resp, mark, what, status=500)
            expect_logged(srv, mark, "No space left on device", what)
            access_fields(srv, mark)  # the transaction is over: the keep decision was made
            expect_empty(what)

        for size in (3 * MiB, 600 * KiB):
            resp, _, mark = post_file(srv, "full", os.urandom(size), "big.bin")
            expect_disk_full(resp, mark, "%d KiB upload into a 1 MiB SecUploadDir" % (size // KiB))
        mark = marker()
        resp = srv.request("POST", "/full/%s?m=%s" % (CGI, mark), body=os.urandom(3 * MiB),
                           headers={"Content-Type": "text/plain"})
        expect_disk_full(resp, mark, "3 MiB raw body into a 1 MiB SecUploadDir")

        content = os.urandom(300 * KiB)
        resp, body, mark = post_file(srv, "full", content, "fits.bin")
        expect_reached_app(srv, resp, body, mark, "300 KiB upload after the failures")
        expect_empty("300 KiB upload after the failures")

        # A held response that spills (past SecOutputInMemoryLimit, 64 KiB here) into the
        # directory while it is nearly full: refused, and its partial spill goes with it.
        static = srv.root / "htdocs" / "fullstatic"
        static.mkdir(exist_ok=True)
        text = b"plain text line\n" * (600 * KiB // 16)
        (static / "big.txt").write_bytes(text)
        filler = d / "filler"
        filler.write_bytes(b"\0" * (900 * KiB))
        resp = srv.request("GET", "/fullstatic/big.txt")
        filler.unlink()
        expect(resp.status == 500, "a 600 KiB held response through a full directory: %d "
               "with %d bytes" % (resp.status, len(resp.body)))
        expect_empty("600 KiB held response into a full SecUploadDir")
        resp = srv.request("GET", "/fullstatic/big.txt")
        expect(resp.status == 200 and resp.body == text, "the same response once there is "
               "room: %d, %d bytes" % (resp.status, len(resp.body)))
        expect_empty("600 KiB held response with room")
        print("    3 MiB / 600 KiB uploads and a 3 MiB raw body: 500, nothing left; 300 KiB "
              "upload then 200; held response through the full directory: 500, nothing left")
    finally:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def ppid_of(pid):
    fields = stat_fields(pid)
    return int(fields[1]) if fields else None
