"""Uploads through a real Apache with a real ClamAV (reference §6.5-6.6): real client formats,
EICAR by multipart and PUT, clean files, clamd unreachable or killed, temp files left behind, kept
files' permissions, approval latency, configtest. The group, its locations and the helpers are in
uploads_common.py; the approval scripts and scanners that hang, and the limits, in
test_uploads_approval.py.
"""

import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import uuid
import urllib.error
import urllib.request
from pathlib import Path

import harness
from harness import (Apache, CHILD_USER, Skip, running_as_root, wait_for)
from uploads_common import (BINARY, CGI, CLAMAV_SH, CLIENTS, EICAR, TEXT, UPLOADS, VIRUS,
                            access_fields, approval_us, assemble, cgi_saw, expect, expect_logged,
                            expect_no_files, expect_reached_app, expect_rejected, files_in, KiB,
                            marker, MiB, open_files_under, post_file, post_in_background, put_file,
                            read_pid, sha, simple_upload, start_clamd_in, unique_id)


# ---- 1. real client formats ----------------------------------------------------------------------

def send_urllib(srv, path, body, ctype):
    """urllib.request, as a Python client without requests sends a hand-built body."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (srv.port, path), data=body,
                                 method="POST", headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return harness.Response(answer.status, answer.reason, answer.getheaders(),
                                    answer.read())
    except urllib.error.HTTPError as err:
        return harness.Response(err.code, err.reason, list(err.headers.items()), err.read())


@UPLOADS.test
def test_real_client_formats_accepted(srv):
    # Through no scanner, and through each scanner: no false positive anywhere on the way.
    prefixes = [("cgi-bin", "plain")]
    if srv.clamd_sock:
        prefixes += [(p, p) for p in ("clamd", "clamdscan", "clamscan")]
    for prefix, updir in prefixes:
        for name, build in CLIENTS:
            ctype, body = build()
            mark = marker()
            path = "/%s/%s?m=%s" % (prefix, CGI, mark)
            what = "%s via /%s/" % (name, prefix)
            if name.startswith("Python"):
                resp = send_urllib(srv, path, body, ctype)
            else:
                resp = srv.request("POST", path, body=body, headers={"Content-Type": ctype})
            if resp.status != 200:
                raise AssertionError("%s: %d: %s" % (what, resp.status, why(srv, mark)))
            got = expect_reached_app(srv, resp, body, mark, what)
            expect(got["content_type"] == ctype, "%s: CONTENT_TYPE %r" % (what,
                                                                         got["content_type"]))
            expect_no_files(srv, updir, what)
    if not srv.clamd_sock:
        print("    (clamd not running: formats checked without the scanners only)")
    print("    %d client formats x %s: 200, bodies byte-identical, SecUploadDir empty"
          % (len(CLIENTS), "/".join(p for p, _ in prefixes)))


def why(srv, mark):
    """Parapet's own error-log reason for a request, for failure messages."""
    uid = unique_id(srv, mark)
    lines = [l for l in srv.error_log().splitlines() if uid in l and "mod_security: " in l]
    return lines[-1].split("mod_security: ")[-1][:300] if lines else "no Parapet log line"


@UPLOADS.test
def test_real_curl_accepted(srv):
    curl = shutil.which("curl")
    if curl is None:
        raise Skip("curl is not installed")
    work = Path(tempfile.mkdtemp(prefix="parapet-curl-"))
    try:
        (work / "doc.bin").write_bytes(BINARY)
        (work / "notes.txt").write_bytes(TEXT)
        (work / "empty.bin").write_bytes(b"")
        mark = marker()
        trace = work / "trace"
        url = "http://127.0.0.1:%d/cgi-bin/%s?m=%s" % (srv.port, CGI, mark)
        res = subprocess.run(
            [curl, "-sS", "--max-time", "60", "--trace", str(trace),
             "-F", "title=hello wörld",
             "-F", "doc=@%s;filename=résumé.pdf;type=application/pdf" % (work / "doc.bin"),
             "-F", "notes=@%s" % (work / "notes.txt"),
             "-F", "empty=@%s" % (work / "empty.bin"),
             "-w", "\n%{http_code}", url],
            capture_output=True, stdin=subprocess.DEVNULL, timeout=90)
        expect(res.returncode == 0, "curl failed: %s" % res.stderr.decode(errors="replace"))
        answer, _, code = res.stdout.rpartition(b"\n")
        sent = curl_sent_body(trace.read_text(errors="replace"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    expect(code == b"200", "curl -F: status %s: %r" % (code, answer[:300]))
    got = json.loads(answer)
    expect(got["body_sha256"] == sha(sent), "curl -F: the application got a different body "
           "(%d bytes, curl sent %d)" % (got["body_length"], len(sent)))
    expect(b"filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"" in sent, "curl did not send the UTF-8 name")
    expect(cgi_saw(srv, mark), "curl -F: the CGI did not record the request")
    expect_no_files(srv, "plain", "curl -F")
    print("    curl sent %d bytes, Content-Type %s" % (len(sent), got["content_type"]))


def curl_sent_body(trace):
    """The request body bytes from curl --trace: every '=> Send data' block, in order."""
    out = bytearray()
    sending = False
    for line in trace.splitlines():
        if line.startswith("=> ") or line.startswith("<= ") or line.startswith("== "):
            sending = line.startswith("=> Send data")
            continue
        if sending and re.match(r"^[0-9a-f]{4}: ", line):
            out += bytes.fromhex(line[6:54])
    return bytes(out)


@UPLOADS.test
def test_dotnet_non_ascii_file_name_accepted(srv):
    """.NET's MultipartFormDataContent.Add(content, name, fileName) sets FileName and
    FileNameStar: a non-ASCII name goes out as an RFC 2047 encoded word in filename and as
    RFC 5987 in filename*. Both name the same file."""
    boundary = str(uuid.uuid4())
    body = assemble(boundary, [
        (["Content-Type: text/plain; charset=utf-8",
          "Content-Disposition: form-data; name=title"], b"hello world"),
        (["Content-Type: application/octet-stream",
          'Content-Disposition: form-data; name=doc; filename="=?utf-8?B?csOpc3Vtw6kucGRm?="; '
          "filename*=utf-8''r%C3%A9sum%C3%A9.pdf"], BINARY),
    ])
    mark = marker()
    resp = srv.request("POST", "/cgi-bin/%s?m=%s" % (CGI, mark), body=body,
                       headers={"Content-Type": 'multipart/form-data; boundary="%s"' % boundary})
    if resp.status != 200:
        raise AssertionError(".NET non-ASCII file name: %d (%s)" % (resp.status,
                                                                    why(srv, mark)))
    expect_reached_app(srv, resp, body, mark, ".NET non-ASCII file name")
    expect_no_files(srv, "plain", ".NET non-ASCII file name")


# ---- 2. EICAR by multipart POST ------------------------------------------------------------------

@UPLOADS.test
def test_eicar_multipart_rejected_native_clamd(srv):
    srv.need_clamd()
    resp, _, mark = post_file(srv, "clamd", EICAR, "eicar.com")
    expect_rejected(srv, resp, mark, "EICAR via SecUploadScanClamd")
    line = expect_logged(srv, mark, VIRUS, "EICAR via SecUploadScanClamd")
    print("    debug log: %s" % line.split("] ", 4)[-1][:160])
    expect_no_files(srv, "clamd", "EICAR via SecUploadScanClamd")


@UPLOADS.test
def test_eicar_multipart_rejected_clamdscan_script(srv):
    srv.need_clamd()
    resp, _, mark = post_file(srv, "clamdscan", EICAR, "eicar.com")
    # This location's SecFilterDefaultAction says status:406.
    expect_rejected(srv, resp, mark, "EICAR via parapet-clamscan + clamdscan", status=406)
    line = expect_logged(srv, mark, VIRUS, "EICAR via parapet-clamscan + clamdscan")
    expect("clamdscan" in line, "the reason does not name clamdscan: %s" % line)
    expect_no_files(srv, "clamdscan", "EICAR via parapet-clamscan + clamdscan")


@UPLOADS.test
def test_eicar_multipart_rejected_clamscan_script(srv):
    srv.need_clamd()
    resp, _, mark = post_file(srv, "clamscan", EICAR, "eicar.com")
    expect_rejected(srv, resp, mark, "EICAR via parapet-clamscan + clamscan")
    line = expect_logged(srv, mark, VIRUS, "EICAR via parapet-clamscan + clamscan")
    expect("clamscan" in line, "the reason does not name clamscan: %s" % line)
    expect_no_files(srv, "clamscan", "EICAR via parapet-clamscan + clamscan")


def kept_files(srv, name, before):
    return [f for f in files_in(srv.upload_dir(name)) if f not in before]


@UPLOADS.test
def test_eicar_kept_with_keepfiles_on_and_relevant_only(srv):
    srv.need_clamd()
    for name in ("keepclamd", "relevant"):
        before = files_in(srv.upload_dir(name))
        resp, _, mark = post_file(srv, name, EICAR, "eicar.com")
        expect_rejected(srv, resp, mark, "EICAR, KeepFiles (%s)" % name)
        expect_logged(srv, mark, VIRUS, "EICAR, KeepFiles (%s)" % name)
        access_fields(srv, mark)  # the transaction is over: the keep decision is final
        new = kept_files(srv, name, before)
        expect(len(new) == 1, "%s: expected the one file kept, found %s" % (name, new))
        path = srv.upload_dir(name) / new[0]
        mode = stat.S_IMODE(os.stat(path).st_mode)
        expect(mode == 0o640, "%s: kept file has mode %o" % (name, mode))
        expect(path.read_bytes() == EICAR, "%s: kept file content differs" % name)
        expect(unique_id(srv, mark) in new[0], "%s: %s does not carry the unique id" % (name,
                                                                                    new[0]))
    # RelevantOnly: a clean upload is not relevant, so its file goes.
    before = files_in(srv.upload_dir("relevant"))
    resp, body, mark = post_file(srv, "relevant", b"clean content\n" * 100, "clean.txt")
    expect_reached_app(srv, resp, body, mark, "clean file, RelevantOnly")
    access_fields(srv, mark)
    expect(wait_for(lambda: not kept_files(srv, "relevant", before), timeout=5) is not None,
           "RelevantOnly kept an irrelevant file: %s" % kept_files(srv, "relevant", before))


# ---- 3. clean files by multipart and PUT ---------------------------------------------------------

@UPLOADS.test
def test_clean_file_multipart_and_put_accepted(srv):
    srv.need_clamd()
    content = os.urandom(200 * KiB) + b"EICAR-ish but not the test string"
    for prefix in ("clamd", "clamdscan", "clamscan"):
        resp, body, mark = post_file(srv, prefix, content, "clean.bin")
        expect_reached_app(srv, resp, body, mark, "clean multipart via %s" % prefix)
        expect_logged(srv, mark, "accepted" if "scan" in prefix else "clean",
                      "clean multipart via %s (level 2)" % prefix, error_log_too=False)
        resp, mark = put_file(srv, prefix, content)
        got = expect_reached_app(srv, resp, content, mark, "clean PUT via %s" % prefix)
        expect(got["method"] == "PUT", "PUT arrived as %s" % got["method"])
        expect_no_files(srv, prefix, "clean uploads via %s" % prefix)


# ---- 4. PUT of EICAR -----------------------------------------------------------------------------

@UPLOADS.test
def test_eicar_put_rejected(srv):
    srv.need_clamd()
    for prefix, status in (("clamd", 403), ("clamscan", 403), ("clamdscan", 406)):
        resp, mark = put_file(srv, prefix, EICAR)
        expect_rejected(srv, resp, mark, "EICAR PUT via %s" % prefix, status=status)
        expect_logged(srv, mark, VIRUS, "EICAR PUT via %s" % prefix)
        expect_no_files(srv, prefix, "EICAR PUT via %s" % prefix)


# ---- 5. clamd unreachable ------------------------------------------------------------------------

@UPLOADS.test
def test_clamd_unreachable_fails_closed_or_open(srv):
    resp, _, mark = post_file(srv, "unreachable", b"harmless\n", "a.txt")
    expect_rejected(srv, resp, mark, "clamd unreachable (fail closed)")
    line = expect_logged(srv, mark, "UNREACHABLE", "clamd unreachable (fail closed)")
    print("    fail closed: %s" % line.split("] ", 4)[-1][:160])
    expect_no_files(srv, "unreachable", "clamd unreachable")
    resp, body, mark = post_file(srv, "failopen", b"harmless\n", "a.txt")
    expect_reached_app(srv, resp, body, mark, "clamd unreachable with FailOpen On")
    line = expect_logged(srv, mark, "SecUploadScanClamdFailOpen", "FailOpen On")
    print("    fail open: %s" % line.split("] ", 4)[-1][:160])
    expect_no_files(srv, "failopen", "clamd unreachable, FailOpen")


@UPLOADS.test
def test_clamd_killed_mid_scan_rejects_even_with_failopen(srv):
    """clamd dies while it reads the stream (the file may be what killed it): that is an error,
    not "unreachable", so SecUploadScanClamdFailOpen On must not let the file through. The
    attack run's reproduction: SIGSTOP clamd, POST 1.5 MB starting with EICAR, SIGKILL it while
    Parapet is blocked sending."""
    srv.need_clamd()
    cdir = srv.root / "clamd2"
    sock, err = start_clamd_in(cdir)
    if sock is None:
        raise Skip("a second fixture clamd could not start: %s" % err)
    pid = read_pid(cdir / "clamd.pid")
    try:
        # Control: this location does scan with that clamd.
        resp, _, mark = post_file(srv, "failopenlive", EICAR, "eicar.com")
        expect_rejected(srv, resp, mark, "EICAR with the second clamd up")
        os.kill(pid, signal.SIGSTOP)
        content = EICAR + os.urandom(1536 * KiB)
        thread, result = post_in_background(srv, "failopenlive", content, "eicar-big.bin")
        # The file is stored before the scan starts; then Parapet fills the socket buffer of the
        # stopped daemon and waits.
        d = srv.upload_dir("failopenlive")
        stored = wait_for(lambda: [f for f in files_in(d)
                                   if (d / f).stat().st_size >= len(content)], timeout=15)
        expect(stored, "the upload never reached SecUploadDir: %s" % files_in(d))
        time.sleep(1.0)
        os.kill(pid, signal.SIGKILL)
        thread.join(30)
        expect(not thread.is_alive(), "no answer 30 s after clamd was killed")
        expect("error" not in result, "request failed: %r" % result.get("error"))
        resp, mark = result["resp"], result["mark"]
        expect_rejected(srv, resp, mark, "clamd killed mid-scan, FailOpen On")
        line = expect_logged(srv, mark, "lost during the scan", "clamd killed mid-scan")
        expect("clamd ERROR" in line, "not classed ERROR: %s" % line)
        uid = unique_id(srv, mark)
        opened = [l for l in srv.debug_log().splitlines() if uid in l and "upload accepted" in l]
        expect(not opened, "the fail-open path ran: %s" % opened)
        print("    answered %d after %.2f s: %s" % (resp.status, result["seconds"],
                                                  line.split("] ", 4)[-1][:160]))
        expect_no_files(srv, "failopenlive", "clamd killed mid-scan")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        subprocess.run(["sh", str(CLAMAV_SH), "stop", str(cdir)], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=60)


# ---- 6. no temp file leaks -----------------------------------------------------------------------

@UPLOADS.test
def test_no_temp_file_leaks(srv):
    # Accepted (past the in-memory limit, so the body spilled as well).
    resp, body, mark = post_file(srv, "cgi-bin", os.urandom(300 * KiB))
    expect_reached_app(srv, resp, body, mark, "accepted upload")
    expect_no_files(srv, "plain", "accepted upload")
    # Rejected by the approval script (no daemon needed: clamscan).
    resp, _, mark = post_file(srv, "clamscan", os.urandom(100 * KiB) + EICAR, "big-eicar.bin")
    expect_rejected(srv, resp, mark, "rejected upload")
    expect_no_files(srv, "clamscan", "rejected upload")
    if srv.clamd_sock:
        resp, _, mark = post_file(srv, "clamd", os.urandom(100 * KiB) + EICAR, "big-eicar.bin")
        expect_rejected(srv, resp, mark, "rejected upload (clamd)")
        expect_no_files(srv, "clamd", "rejected upload (clamd)")
    # Malformed: the final boundary never comes.
    mark = marker()
    headers, body = simple_upload(os.urandom(200 * KiB))
    cut = body[:body.rindex(b"\r\n--")]
    resp = srv.request("POST", "/cgi-bin/%s?m=%s" % (CGI, mark), body=cut, headers=headers)
    expect_rejected(srv, resp, mark, "missing final boundary", status=400)
    expect_no_files(srv, "plain", "missing final boundary")
    aborted_upload(srv)


def aborted_upload(srv):
    """Half of a 5 MB multipart body, then the client goes away. Through the clamd location
    when there is one: files are stored only where something reads them (a scanner, an
    approval script, SecUploadKeepFiles), so that is where an upload file is in flight."""
    stored = bool(srv.clamd_sock)
    prefix, updir = ("clamd", "clamd") if stored else ("cgi-bin", "plain")
    mark = marker()
    d = srv.upload_dir(updir)
    headers, body = simple_upload(os.urandom(5 * MiB))
    head = ("POST /%s/%s?m=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (prefix, CGI, mark, srv.port,
                                          headers["Content-Type"], len(body))).encode()
    seen, spools = set(), set()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(head)
        half = len(body) // 2
        for i in range(0, half, 64 * KiB):
            s.sendall(body[i:min(i + 64 * KiB, half)])
        # The spilled body (and, where stored, the upload file) exist while in flight. The
        # body's spool file has no name: only the worker's descriptor shows it ("DIR/#INODE
        # (deleted)" for O_TMPFILE).
        def in_flight():
            seen.update(files_in(d))
            spools.update(t for t in open_files_under(srv, d) if "-file-" not in t)
            return (not stored or any("-file-" in f for f in seen)) and spools
        wait_for(in_flight, timeout=10)
    expect(spools, "no spilled body appeared during the upload: %s" % sorted(seen))
    expect(not any("body" in f for f in seen), "the spilled body had a name in %s: %s"
           % (updir, sorted(seen)))
    expect(not stored or any("-file-" in f for f in seen),
           "no upload file appeared during the upload: %s" % sorted(seen))
    expect_no_files(srv, updir, "aborted upload", timeout=15)
    status = access_fields(srv, mark, timeout=15)[0]
    expect(not cgi_saw(srv, mark), "the application was called for the aborted upload")
    print("    aborted upload: saw %s in flight; logged with status %s"
          % (", ".join(sorted(re.sub(r"^\d{8}-\d{6}-.*-file-", "<date>-<id>-file-", f)
                              for f in seen) + ["spool %s" % t.split("/")[-1] for t in spools]),
             status))


# ---- 7. stored file permissions ------------------------------------------------------------------

@UPLOADS.test
def test_kept_file_mode_group_and_name(srv):
    d = srv.upload_dir("keep")
    before = files_in(d)
    content = b"<?php echo 'kept'; ?>\n"
    resp, body, mark = post_file(srv, "keep", content, "../../evil.php")
    expect_reached_app(srv, resp, body, mark, "KeepFiles On")
    new = kept_files(srv, "keep", before)
    expect(len(new) == 1, "expected one kept file, found %s" % new)
    path = d / new[0]
    st, dst = os.stat(path), os.stat(d)
    expect(stat.S_IMODE(st.st_mode) == 0o640, "kept file mode %o" % stat.S_IMODE(st.st_mode))
    expect(stat.S_IMODE(dst.st_mode) == 0o2750, "upload dir mode %o" % stat.S_IMODE(dst.st_mode))
    expect(st.st_gid == dst.st_gid, "file group %d, directory group %d" % (st.st_gid,
                                                                          dst.st_gid))
    expect(path.read_bytes() == content, "kept content differs")
    uid = unique_id(srv, mark)
    expect(re.fullmatch(r"\d{8}-\d{6}-%s-file-[A-Za-z0-9]{6}" % re.escape(uid), new[0]),
           "kept file name %r is not <date>-<time>-<unique id>-file-XXXXXX" % new[0])
    expect("evil" not in new[0] and ".." not in new[0], "client name in %r" % new[0])
    escaped = list(srv.root.rglob("*evil*"))
    expect(not escaped, "a file named after the client's name exists: %s" % escaped)
    if running_as_root():
        run = pwd.getpwnam(CHILD_USER)
        expect(st.st_uid == run.pw_uid, "kept file owner %d, not %s" % (st.st_uid, CHILD_USER))
        print("    kept %s: mode 0640, %s:%s (directory group; %s's own group is %s)"
              % (new[0], CHILD_USER, grp.getgrgid(st.st_gid).gr_name, CHILD_USER,
                 grp.getgrgid(run.pw_gid).gr_name))


# ---- approval latency (informational) ------------------------------------------------------------

@UPLOADS.test
def test_approval_latency(srv):
    srv.need_clamd()
    content = os.urandom(64 * KiB)
    averages = {}
    for prefix in ("cgi-bin", "clamd", "clamdscan", "clamscan"):
        samples = []
        for _ in range(5):
            resp, body, mark = post_file(srv, prefix, content, "latency.bin")
            expect_reached_app(srv, resp, body, mark, "latency sample via %s" % prefix)
            samples.append(approval_us(srv, mark))
        averages[prefix] = sum(samples) / len(samples) / 1000.0
    print("    approval latency: clamd %.1f ms (it scans as each part ends, while the body is "
          "read, so mostly before time1), clamdscan %.1f ms, clamscan %.1f ms "
          "(time2-time1 per 64 KiB file, average of 5; no scanner %.2f ms)"
          % (averages["clamd"], averages["clamdscan"], averages["clamscan"],
             averages["cgi-bin"]))


# ---- 9. configuration errors ---------------------------------------------------------------------

def configtest_names_line(snippet_lines, bad_line, setup=None, name="uploads-conf"):
    srv = Apache("\n".join(snippet_lines) + "\n", name=name)
    try:
        conf = srv.prepare()
        if setup:
            setup(srv)
        rendered = bad_line.replace("@ROOT@", str(srv.root))
        line = 1 + srv.conf.read_text().splitlines().index(rendered)
        rc, out = srv.configtest()
        return rc, out, str(conf), line, str(srv.root)
    finally:
        srv.cleanup_files()


def expect_configtest_failure(rc, out, conf, line, what, *needles):
    expect(rc != 0, "apache2 -t accepted %s:\n%s" % (what, out))
    expect(conf in out, "%s: output does not name %s:\n%s" % (what, conf, out))
    expect(re.search(r"\bline %d\b" % line, out), "%s: output does not name line %d:\n%s"
           % (what, line, out))
    for needle in needles:
        expect(needle in out, "%s: %r not in:\n%s" % (what, needle, out))
    print("    %s: %s" % (what, " ".join(out.split())[:200]))


def test_configtest_missing_upload_dir():
    bad = 'SecUploadDir "@ROOT@/no-such-dir"'
    rc, out, conf, line, root = configtest_names_line(["SecFilterEngine On", bad], bad)
    expect_configtest_failure(rc, out, conf, line, "missing SecUploadDir", "SecUploadDir",
                              root + "/no-such-dir", "does not exist")


def test_configtest_upload_dir_not_writable_by_run_user():
    if not running_as_root():
        raise Skip("needs root (Apache's User must differ from the user reading the config)")
    bad = 'SecUploadDir "@ROOT@/root-only"'

    def setup(srv):
        (srv.root / "root-only").mkdir(mode=0o755)
    rc, out, conf, line, root = configtest_names_line(["SecFilterEngine On", bad], bad, setup)
    expect_configtest_failure(rc, out, conf, line, "SecUploadDir not writable by %s"
                              % CHILD_USER, "SecUploadDir", "not writable")


def test_configtest_approval_script_not_executable():
    bad = 'SecUploadApproveScript "@ROOT@/approve.sh"'

    def setup(srv):
        script = srv.root / "approve.sh"
        script.write_text("#!/bin/sh\necho 1\n")
        os.chmod(script, 0o644)
    rc, out, conf, line, root = configtest_names_line(["SecFilterEngine On", bad], bad, setup)
    expect_configtest_failure(rc, out, conf, line, "non-executable SecUploadApproveScript",
                              "SecUploadApproveScript", root + "/approve.sh", "not executable")


def test_configtest_missing_approval_script():
    bad = 'SecUploadApproveScript "@ROOT@/no-such-script"'
    rc, out, conf, line, root = configtest_names_line(["SecFilterEngine On", bad], bad)
    expect_configtest_failure(rc, out, conf, line, "missing SecUploadApproveScript",
                              "SecUploadApproveScript", root + "/no-such-script")
