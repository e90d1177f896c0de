#!/usr/bin/env python3
"""Disk-full fault test: SecUploadDir on a 2 MB tmpfs, then a 5 MB multipart upload.

SecUploadDir is also where request bodies spill (a nameless spool file), so both the spool and the
upload file run out of space. The engine must fail closed (architecture.md "Failing closed": a
body that cannot be spooled is answered 500), name the cause in the error log ("No space left on
device"), leave nothing on the tmpfs, and keep serving: a small upload right after succeeds and
reaches the echo CGI byte for byte. Run twice, so a second failure on the same children is
covered too, then once with a 5 MB urlencoded body, which only the spill file holds.

Needs root for mount(8); otherwise, or when the mount fails (no CAP_SYS_ADMIN in a container),
it prints SKIP with the reason. The tmpfs is always unmounted and its mount point removed
(finally), Apache is stopped by PID.

Run by `make soak` (soak.py calls run()); also runs on its own: python3 tests/soak/test_disk_full.py
"""
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import harness  # noqa: E402

TMPFS_SIZE = "2m"
BIG_UPLOAD_BYTES = 5 * 1024 * 1024
SMALL_UPLOAD_BYTES = 20 * 1024
GRACE_S = 5
CAUSE = "No space left on device"

SNIPPET = """
<IfModule mod_security.c>
    SecFilterEngine On
    SecFilterScanPOST On
    SecFilterDefaultAction "deny,log,status:403"
    SecUploadDir "@UPLOADS@"
    SecUploadKeepFiles Off
    # The 5 MB urlencoded round must reach the disk limit, not the form-data limit (1 MiB).
    SecRequestBodyNoFilesLimit 10485760
    SecUploadApproveScript "@ROOT@/bin/approve.sh"
    SecFilter "<[[:space:]]*script" "id:910001"
    SecFilterSelective ARGS "union.+select" "id:910002"
</IfModule>
"""


def mount_tmpfs(path):
    """Mounts a TMPFS_SIZE tmpfs owned by the children's user; returns None or why not."""
    uid, gid = common.child_ids()
    try:
        res = subprocess.run(["mount", "-t", "tmpfs", "-o",
                              "size=%s,mode=0700,uid=%d,gid=%d" % (TMPFS_SIZE, uid, gid),
                              "tmpfs", str(path)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return "mount could not run: %s" % err
    if res.returncode != 0:
        return "mount -t tmpfs failed (%d): %s" % (res.returncode,
                                                   (res.stderr or res.stdout).strip())
    return None


def unmount(path):
    res = subprocess.run(["umount", str(path)], capture_output=True, text=True)
    if res.returncode != 0:
        # Something still holds it (it should not): detach it so nothing outlives the test.
        print("    umount %s failed (%s); detaching lazily" % (path, res.stderr.strip()))
        subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True)


def used_kb(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize // 1024


def upload(srv, rng, size, tag, form=False):
    """Sends one multipart upload (with form: an urlencoded body, which only the spill file
    holds); returns (reply or None, error text, body). A server that answers before the body
    is sent completely is still heard: the reply is read anyway."""
    if form:
        body = b"k=%s&blob=" % tag.encode() + b"abcdefghij" * (size // 10)
        ctype = "application/x-www-form-urlencoded"
    else:
        body, ctype = common.multipart(rng, [("k", tag)], [
            ("file", "%s.bin" % tag, common.random_bytes(rng, size))])
    head = common.request_head(srv.port, "POST", "/cgi-bin/echo.py?k=" + tag, [
        ("Content-Type", ctype), ("Content-Length", str(len(body))), ("Connection", "close")])
    sock = common.connect(srv.port)
    send_error = None
    try:
        try:
            sock.sendall(head + body)
        except OSError as err:
            send_error = "send: %s" % err
        try:
            return common.read_reply(sock, "POST"), send_error, body
        except Exception as err:  # no reply at all is the finding
            return None, "%s; read: %s: %s" % (send_error, type(err).__name__, err), body
    finally:
        sock.close()


def cause_lines(srv, since):
    return [line for line in srv.error_log().splitlines()[since:] if CAUSE in line]


def one_round(srv, mnt, rng, checks, round_no, form):
    prefix = "disk-full #%d:" % round_no
    what = "5 MB urlencoded body (spill file)" if form else "5 MB upload"
    since = len(srv.error_log().splitlines())
    reply, err, _ = upload(srv, rng, BIG_UPLOAD_BYTES, "diskfull_big", form)
    status = reply.status if reply else None
    checks.check("%s %s rejected with a clear error status" % (prefix, what),
                 status is not None and status >= 400,
                 "status %s%s" % (status, (" (" + err + ")") if err else ""))
    if status is not None and status != 500:
        print("    note: the architecture says 500 for a body that cannot be spooled; got %s"
              % status)
    lines = harness.wait_for(lambda: cause_lines(srv, since), timeout=GRACE_S)
    checks.check("%s error log names the cause" % prefix, bool(lines),
                 (lines[0][:400] if lines else "no line with %r; tail: %s" % (
                     CAUSE, srv.error_log().splitlines()[-3:])))
    # The reply goes out before the request pool is destroyed: give the clean-up a moment.
    drained = harness.wait_for(lambda: not common.dir_entries(mnt) and used_kb(mnt) == 0,
                               timeout=GRACE_S)
    checks.check("%s tmpfs empty afterwards" % prefix, drained,
                 "left: %s, %d kB used" % (common.dir_entries(mnt)[:5], used_kb(mnt)))
    held = common.open_files(srv.children(), under=mnt)
    checks.check("%s no child holds a file on the tmpfs" % prefix, not held,
                 "; ".join(held[:3]))
    reply, err, body = upload(srv, rng, SMALL_UPLOAD_BYTES, "diskfull_small")
    ok = reply is not None and reply.status == 200
    detail = "status %s" % (reply.status if reply else err)
    if ok:
        got = json.loads(reply.body.decode())
        ok = got["body_sha256"] == common.sha256(body)
        detail += ", body %s at the CGI" % ("identical" if ok else "DIFFERENT")
    checks.check("%s a following small upload succeeds" % prefix, ok, detail)
    drained = harness.wait_for(lambda: not common.dir_entries(mnt) and used_kb(mnt) == 0,
                               timeout=GRACE_S)
    checks.check("%s tmpfs empty after the small upload" % prefix, drained,
                 "left: %s, %d kB used" % (common.dir_entries(mnt)[:5], used_kb(mnt)))


def run(checks):
    name = "disk-full"
    if not harness.running_as_root():
        checks.skip(name, "needs root to mount a tmpfs (running as uid %d)" % os.getuid())
        return
    mnt = Path(tempfile.mkdtemp(prefix="parapet-diskfull-"))
    mounted = False
    srv = None
    try:
        why = mount_tmpfs(mnt)
        if why:
            checks.skip(name, why)
            return
        mounted = True
        srv = harness.Apache(SNIPPET.replace("@UPLOADS@", str(mnt)), name="diskfull")
        srv.prepare()
        common.install_approve_script(srv)
        srv.start()
        print("disk-full: apache on 127.0.0.1:%d, SecUploadDir %s (tmpfs size=%s), children %s"
              % (srv.port, mnt, TMPFS_SIZE, sorted(srv.children())), flush=True)
        children = set(srv.children())
        rng = random.Random(4242)
        # Twice the 5 MB upload (the same children fail and recover again), then a body
        # that only the spill file holds.
        for round_no, form in ((1, False), (2, False), (3, True)):
            one_round(srv, mnt, rng, checks, round_no, form)
        checks.check("disk-full: children unchanged, no crash",
                     set(srv.children()) == children and not common.crash_lines(srv.error_log()),
                     "children %s" % sorted(srv.children()))
        for line in [l for l in srv.error_log().splitlines() if CAUSE in l][:2]:
            print("    error log: %s" % line[:300])
    except harness.StartError as err:
        checks.check("disk-full: apache started", False, str(err)[:2000])
    finally:
        if srv is not None:
            srv.stop()
        if mounted:
            unmount(mnt)
        try:
            mnt.rmdir()
        except OSError as err:
            print("    could not remove %s: %s" % (mnt, err))


def main():
    checks = common.Checks()
    run(checks)
    checks.summary()
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
