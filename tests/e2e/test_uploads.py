"""Uploads: file upload interception through a real Apache with a real ClamAV (reference §6.5-6.6).

One Apache for the group, with a private clamd (tests/fixtures/clamav.sh: a one-signature EICAR
database, its own unix socket) started before it and stopped after it. Every URL prefix below is
a ScriptAlias of the same cgi-bin with its own <Location> upload configuration and its own
SecUploadDir (mode 2750, owned by the run user; when root, group clamav as in the 1.9 manual's
recipe, so the setgid inheritance is visible), all in the group's temporary root:

    /cgi-bin/      no scanner                  /keep/         SecUploadKeepFiles On
    /clamd/        SecUploadScanClamd          /keepclamd/    KeepFiles On + clamd
    /clamdscan/    parapet-clamscan+clamdscan  /relevant/     KeepFiles RelevantOnly + clamd
                   (default action status 406) /unreachable/  clamd socket that does not exist
    /clamscan/     parapet-clamscan+clamscan   /failopen/     the same + ScanClamdFailOpen On
    /hang/ /hangsh/  approval script that sleeps 60 s, SecUploadApproveTimeout 2
    /hangclam/     parapet-clamscan whose scanner hangs, SecUploadApproveTimeout 2

The application is tests/e2e/cgi/logged_echo.py: echo.py that first appends a line to a request
log, so "the application never received it" is checked, not inferred. What the engine decides
for a given body is covered by tests/eval/cases/uploads.case; here: real client formats, real
scanners, the replay to the handler, files and processes left behind, and configtest.
"""
import grp
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import string
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import harness
from harness import (CHILD_USER, REPO, Apache, Group, Skip, children_of, running_as_root,
                     wait_for)

CLAMAV_SH = REPO / "tests" / "fixtures" / "clamav.sh"
CLAMSCAN_HELPER = REPO / "util" / "parapet-clamscan"
LOGGED_ECHO = Path(__file__).resolve().parent / "cgi" / "logged_echo.py"
CLAMD_START_TIMEOUT_S = 90
CGI = "logged_echo.py"
KiB = 1024
MiB = 1024 * KiB

# Two halves, so this file is not itself the test string.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
assert len(EICAR) == 68
VIRUS = "Parapet.Test.EICAR"
OCTETS = {"Content-Type": "application/octet-stream"}


# ---- the group: Apache + private clamd + upload directories --------------------------------------

UPLOAD_DIRS = ("plain", "clamd", "clamdscan", "clamscan", "keep", "keepclamd", "relevant",
               "unreachable", "failopen", "hang", "hangsh", "hangclam", "failopenlive",
               "bgchild", "envdump", "full", "manyfiles", "deadline", "clamddeadline",
               "swapscan", "groupwritable")

# URL prefix -> directives inside its <Location> (besides its own SecUploadDir).
LOCATIONS = {
    "clamd": ["SecUploadScanClamd unix:@CLAMD@/clamd.sock"],
    "clamdscan": ['SecUploadApproveScript "@ROOT@/bin/approve-clamdscan"',
                  'SecFilterDefaultAction "deny,log,status:406"'],
    "clamscan": ['SecUploadApproveScript "@ROOT@/bin/approve-clamscan"'],
    "keep": ["SecUploadKeepFiles On"],
    "keepclamd": ["SecUploadKeepFiles On", "SecUploadScanClamd unix:@CLAMD@/clamd.sock"],
    "relevant": ["SecUploadKeepFiles RelevantOnly",
                 "SecUploadScanClamd unix:@CLAMD@/clamd.sock"],
    "unreachable": ["SecUploadScanClamd unix:@ROOT@/run/no-such-dir/clamd.sock"],
    "failopen": ["SecUploadScanClamd unix:@ROOT@/run/no-such-dir/clamd.sock",
                 "SecUploadScanClamdFailOpen On"],
    # A second clamd of its own (started by the test that kills it) with FailOpen On.
    "failopenlive": ["SecUploadScanClamd unix:@ROOT@/clamd2/clamd.sock",
                     "SecUploadScanClamdFailOpen On"],
    "bgchild": ['SecUploadApproveScript "@ROOT@/bin/approve-bg-child"'],
    "envdump": ['SecUploadApproveScript "@ROOT@/bin/approve-env-dump"'],
    "manyfiles": ['SecUploadApproveScript "@ROOT@/bin/approve-slow"'],
    "deadline": ['SecUploadApproveScript "@ROOT@/bin/approve-1s"', "SecUploadScanDeadline 2"],
    "clamddeadline": ["SecUploadScanClamd unix:@CLAMD@/clamd.sock",
                      "SecUploadScanClamdFailOpen On", "SecUploadScanDeadline 2"],
    # The approval script swaps the stored file for a clean one before clamd would read it
    # by name (what another user with write access to SecUploadDir could do).
    "swapscan": ['SecUploadApproveScript "@ROOT@/bin/approve-swap"',
                 "SecUploadScanClamd unix:@CLAMD@/clamd.sock"],
    # Made group-writable by its test: the approval script's path could be swapped.
    "groupwritable": ['SecUploadApproveScript "@ROOT@/bin/approve-ok"'],
    # A 1 MiB tmpfs is mounted on its upload directory by the test that fills it.
    "full": ["SecUploadKeepFiles RelevantOnly"],
    "hang": ['SecUploadApproveScript "@ROOT@/bin/approve-hang"', "SecUploadApproveTimeout 2"],
    "hangsh": ['SecUploadApproveScript "@ROOT@/bin/approve-hang-sh"',
               "SecUploadApproveTimeout 2"],
    "hangclam": ['SecUploadApproveScript "@ROOT@/bin/approve-hang-scanner"',
                 "SecUploadApproveTimeout 2"],
}


def render_snippet():
    parts = ["""\
SetEnv PARAPET_E2E_CGI_LOG "@ROOT@/data/cgi-requests.log"
<IfModule mod_security.c>
    SecFilterEngine On
    SecFilterScanPOST On
    SecFilterDefaultAction "deny,log,status:403"
    SecFilterDebugLog "@ROOT@/logs/debug.log"
    SecFilterDebugLevel 2
    SecUploadDir "@ROOT@/uploads/plain"
    SecUploadKeepFiles Off
</IfModule>
"""]
    for prefix, lines in LOCATIONS.items():
        body = "".join("    %s\n" % line for line in lines)
        parts.append('ScriptAlias /%s/ "@ROOT@/cgi-bin/"\n<Location /%s/>\n'
                     '    SecUploadDir "@ROOT@/uploads/%s"\n%s</Location>\n'
                     % (prefix, prefix, prefix, body))
    # Static files whose responses are held for OUTPUT rules, spilling into the same directory.
    parts.append('<Location /fullstatic/>\n    SecUploadDir "@ROOT@/uploads/full"\n'
                 '    SecFilterScanOutput On\n    SecFilterOutputMimeTypes "text/plain"\n'
                 '    SecOutputInMemoryLimit 65536\n'
                 '</Location>\n')
    return "".join(parts)


# Wrappers run parapet-clamscan with the fixture's scanner settings: an approval script's
# environment is PATH alone, so this is where PARAPET_CLAMSCAN(_ARGS) are set.
APPROVE_WRAPPER = """\
#!/bin/sh
# Written by tests/e2e/test_uploads.py.
PARAPET_CLAMSCAN=%(scanner)s
PARAPET_CLAMSCAN_ARGS="%(args)s"
export PARAPET_CLAMSCAN PARAPET_CLAMSCAN_ARGS
%(pre)sexec %(helper)s "$@"
"""
# A scanner that never answers (a clamscan stuck on a huge archive, say).
SLOW_SCANNER = """\
#!/bin/sh
echo $$ > "%(root)s/data/slow-scanner.pid"
exec sleep 60
"""
# The process Parapet starts is the sleep itself: its PID is the script's.
APPROVE_HANG = """\
#!/bin/sh
echo $$ > "%(root)s/data/hang.pid"
exec sleep 60
"""
# A plain shell script whose own child does the sleeping (what a hand-written script looks like).
APPROVE_HANG_SH = """\
#!/bin/sh
echo $$ > "%(root)s/data/hang-sh.pid"
sleep 60
echo 1
"""

# Accepts at once but leaves a background job behind that keeps stdout open (attack run D14).
APPROVE_BG_CHILD = """\
#!/bin/sh
echo $$ > "%(root)s/data/bg-leader.pid"
sleep 100 &
echo $! > "%(root)s/data/bg-child.pid"
echo "1 ok, but my child keeps running"
"""

# Records the environment it was started with (the kernel's copy, before sh adds to it).
APPROVE_ENV_DUMP = """\
#!/bin/sh
tr '\\000' '\\n' < /proc/$$/environ > "%(root)s/data/approve-env.dump"
echo 1
"""


def upload_dir_ids():
    """(uid, gid) for the upload directories: the run user, and the scanner's group when root."""
    if not running_as_root():
        return os.getuid(), os.getgid()
    user = pwd.getpwnam(CHILD_USER)
    try:
        gid = grp.getgrnam("clamav").gr_gid
    except KeyError:
        gid = user.pw_gid
    return user.pw_uid, gid


def start_clamd_in(directory):
    """Starts a fixture clamd in directory: (socket path, None), or (None, why it failed)."""
    try:
        res = subprocess.run(["sh", str(CLAMAV_SH), "start", str(directory)],
                             capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             timeout=CLAMD_START_TIMEOUT_S + 15)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, str(err)
    if res.returncode != 0:
        return None, (res.stderr or res.stdout).strip()[-600:]
    sock = res.stdout.strip().splitlines()[-1]
    if running_as_root():
        # LocalSocketMode 660, owned by root: let the children's group connect.
        os.chown(sock, -1, pwd.getpwnam(CHILD_USER).pw_gid)
        os.chmod(sock, 0o660)
    return sock, None


class UploadApache(Apache):
    """The harness's Apache with upload directories, approval scripts and a private clamd that
    lives exactly as long as the Apache does (started before it, stopped after it, by PID)."""

    clamd_dir = None
    clamd_sock = None
    clamd_error = None

    def prepare(self):
        self.clamd_dir = Path(tempfile.mkdtemp(prefix="parapet-clamd-"))
        os.chmod(self.clamd_dir, 0o755)  # children (www-data) use the socket, db and config
        conf = super().prepare()
        shutil.copy(LOGGED_ECHO, self.root / "cgi-bin" / CGI)
        os.chmod(self.root / "cgi-bin" / CGI, 0o755)
        uid, gid = upload_dir_ids()
        (self.root / "uploads").mkdir()
        for name in UPLOAD_DIRS:
            d = self.root / "uploads" / name
            d.mkdir()
            os.chown(d, uid, gid)
            os.chmod(d, 0o2750)  # after chown, which clears the setgid bit
        bindir = self.root / "bin"
        bindir.mkdir()
        scripts = {
            "approve-clamscan": APPROVE_WRAPPER % {
                "scanner": shutil.which("clamscan") or "/usr/bin/clamscan",
                "args": "--database=%s/db" % self.clamd_dir, "helper": CLAMSCAN_HELPER,
                "pre": ""},
            "approve-clamdscan": APPROVE_WRAPPER % {
                "scanner": shutil.which("clamdscan") or "/usr/bin/clamdscan",
                "args": "--config-file=%s/clamd.conf" % self.clamd_dir,
                "helper": CLAMSCAN_HELPER, "pre": ""},
            "approve-hang-scanner": APPROVE_WRAPPER % {
                "scanner": bindir / "slow-scanner", "args": "", "helper": CLAMSCAN_HELPER,
                "pre": 'echo $$ > "%s/data/hangclam.pid"\n' % self.root},
            "slow-scanner": SLOW_SCANNER % {"root": self.root},
            "approve-hang": APPROVE_HANG % {"root": self.root},
            "approve-hang-sh": APPROVE_HANG_SH % {"root": self.root},
            "approve-bg-child": APPROVE_BG_CHILD % {"root": self.root},
            "approve-env-dump": APPROVE_ENV_DUMP % {"root": self.root},
            "approve-slow": "#!/bin/sh\nsleep 0.2\necho 1\n",
            "approve-ok": "#!/bin/sh\necho 1\n",
            "approve-swap": "#!/bin/sh\nprintf 'clean\\n' > \"$1.swap\" && "
                            "mv -f \"$1.swap\" \"$1\"\necho 1 swapped\n",
            "approve-1s": "#!/bin/sh\nsleep 1\necho 1\n",
        }
        for name, text in scripts.items():
            (bindir / name).write_text(text)
            os.chmod(bindir / name, 0o755)
        return conf

    def render(self):
        saved = self.snippet
        self.snippet = saved.replace("@CLAMD@", str(self.clamd_dir))
        try:
            return super().render()
        finally:
            self.snippet = saved

    def start(self):
        if self.root is None:
            self.prepare()
        self.start_clamd()
        return super().start()  # on failure it calls cleanup_files, which stops clamd

    def start_clamd(self):
        self.clamd_sock, self.clamd_error = start_clamd_in(self.clamd_dir)

    def stop_clamd(self):
        if self.clamd_dir is not None and self.clamd_dir.exists():
            subprocess.run(["sh", str(CLAMAV_SH), "stop", str(self.clamd_dir)],
                           capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        self.clamd_sock = None

    def cleanup_files(self):
        self.stop_clamd()
        if self.clamd_dir is not None and os.environ.get("PARAPET_E2E_KEEP") is None:
            shutil.rmtree(self.clamd_dir, ignore_errors=True)
            self.clamd_dir = None
        super().cleanup_files()

    # ---- inspection helpers used by the tests ---------------------------------------------

    def need_clamd(self):
        if self.clamd_sock is None:
            raise Skip("the fixture clamd could not start: %s" % self.clamd_error)

    def upload_dir(self, name):
        return self.root / "uploads" / name

    def debug_log(self):
        try:
            return (self.root / "logs" / "debug.log").read_text(errors="replace")
        except OSError:
            return ""

    def cgi_calls(self):
        try:
            text = (self.root / "data" / "cgi-requests.log").read_text()
        except OSError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]


class UploadGroup(Group):
    def create(self):
        return UploadApache(self.snippet, name=self.name, **self.apache_kw)


UPLOADS = UploadGroup("uploads", snippet=render_snippet())


# ---- small helpers -------------------------------------------------------------------------------

def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def expect_status(resp, status, what):
    expect(resp.status == status, "%s: expected %d, got %d: %r" % (what, status, resp.status,
                                                                   resp.body[:300]))


_seq = [0]


def marker():
    _seq[0] += 1
    return "u%d-%d" % (os.getpid(), time.time_ns() + _seq[0])


def sha(data):
    return hashlib.sha256(data).hexdigest()


def files_in(path):
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


def expect_no_files(srv, name, what, timeout=5.0):
    """The directory empties once the request pool is gone (after log_transaction), and the
    nameless body spool goes with the connection (the client has closed it)."""
    d = srv.upload_dir(name)
    if wait_for(lambda: not files_in(d), timeout=timeout) is None and files_in(d):
        raise AssertionError("%s: files left in SecUploadDir %s: %s" % (what, name, files_in(d)))
    wait_for(lambda: not open_files_under(srv, d), timeout=timeout)
    held = open_files_under(srv, d)
    expect(not held, "%s: Apache still holds files in %s open: %s" % (what, name, held))


def open_files_under(srv, directory):
    """Descriptors of Apache's processes that point into directory (deleted files included)."""
    found = []
    pids = [srv.proc.pid] + srv.children() if srv.proc else []
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith(str(directory) + "/"):
                found.append("%d:%s" % (pid, target))
    return found


def access_fields(srv, mark, timeout=5.0):
    """The access log line of the request whose URL carries mark, split: (status, unique id,
    time1, time2). The line is written after the response, so wait for it."""
    lines = wait_for(lambda: [l for l in srv.access_log_lines() if mark in l], timeout=timeout)
    expect(lines, "no access log line for %s" % mark)
    fields = lines[0].split()
    m = re.search(r'" (\d{3}) ', lines[0])
    status = int(m.group(1)) if m else None
    return status, fields[-5], fields[-4], fields[-3]


def unique_id(srv, mark):
    return access_fields(srv, mark)[1]


def approval_us(srv, mark):
    """time2 - time1: the request-body phase, i.e. approval/scan plus (here, no) rules."""
    _, _, t1, t2 = access_fields(srv, mark)
    return int(t2) - int(t1)


def cgi_saw(srv, mark):
    return [c for c in srv.cgi_calls() if mark in (c.get("query") or "")]


def expect_reached_app(srv, resp, body, mark, what):
    expect_status(resp, 200, what)
    got = resp.json()
    expect(got["body_sha256"] == sha(body), "%s: the application got a different body (%d bytes "
           "instead of %d)" % (what, got["body_length"], len(body)))
    expect(cgi_saw(srv, mark), "%s: the CGI did not record the request" % what)
    return got


def expect_rejected(srv, resp, mark, what, status=403):
    expect_status(resp, status, what)
    expect(b"body_sha256" not in resp.body, "%s: the answer is the CGI's JSON" % what)
    expect(not cgi_saw(srv, mark), "%s: the application was called: %s" % (what,
                                                                             cgi_saw(srv, mark)))


def expect_logged(srv, mark, needle, what, error_log_too=True):
    """needle on a debug-log line carrying this request's unique id (level 1 reaches the error
    log as well)."""
    uid = unique_id(srv, mark)
    debug = [l for l in srv.debug_log().splitlines() if uid in l]
    expect(debug, "%s: nothing in the debug log for unique id %s (debug log has %d lines)"
           % (what, uid, len(srv.debug_log().splitlines())))
    expect(any(needle in l for l in debug), "%s: %r not in the debug log lines for %s:\n  %s"
           % (what, needle, uid, "\n  ".join(debug)))
    if error_log_too:
        errors = [l for l in srv.error_log().splitlines() if uid in l and needle in l]
        expect(errors, "%s: %r not in the error log for %s" % (what, needle, uid))
    return [l for l in debug if needle in l][0]


# ---- multipart bodies the way real clients build them --------------------------------------------

def assemble(boundary, parts):
    """parts: (header lines, content). Every client below frames parts identically on the wire
    (Go and .NET write the CRLF before a delimiter with the delimiter; the bytes are the same)."""
    out = bytearray()
    for headers, content in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        for line in headers:
            out += line.encode("utf-8") + b"\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out)


def random_token(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


# What the clients upload: random binary past the in-memory limit (spills to disk), a text file
# with dash lines and CRLFs that look a little like delimiters, a small PNG-ish header.
BINARY = os.urandom(150 * KiB)
TEXT = ("-- MySQL dump 10.13\r\n-- Host: localhost\r\n" + "-" * 80 + "\r\n"
        "| id | name |\r\n|----|------|\r\n| 1  | wörld |\r\n" + "-" * 29 + "\r\n--\r\n"
        ).encode("utf-8") * 50
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(3000)


def html5_escape(name):
    """What browsers (and urllib3 2.x, OkHttp) do to '"', CR and LF in a name (HTML spec)."""
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def browser_parts(escape):
    return [
        (['Content-Disposition: form-data; name="title"'], "hello wörld".encode()),
        (['Content-Disposition: form-data; name="comment"'], b"line one\r\nline two\r\n"),
        (['Content-Disposition: form-data; name="doc"; filename="%s"' % escape("résumé.pdf"),
          "Content-Type: application/pdf"], BINARY),
        (['Content-Disposition: form-data; name="quoted"; filename="%s"'
          % escape('say "hi".txt'), "Content-Type: text/plain"], TEXT),
        # <input type=file> left empty.
        (['Content-Disposition: form-data; name="nothing"; filename=""',
          "Content-Type: application/octet-stream"], b""),
        (['Content-Disposition: form-data; name="img"; filename="%s"' % escape("日本語.png"),
          "Content-Type: image/png"], PNG),
    ]


def firefox_legacy():
    boundary = "-" * 27 + random_token(string.digits, 30)
    return "multipart/form-data; boundary=" + boundary, assemble(boundary,
                                                                 browser_parts(html5_escape))


def firefox():
    boundary = "----geckoformboundary" + secrets.token_hex(16)
    return "multipart/form-data; boundary=" + boundary, assemble(boundary,
                                                                 browser_parts(html5_escape))


def chrome():
    boundary = "----WebKitFormBoundary" + random_token(string.ascii_letters + string.digits, 16)
    return "multipart/form-data; boundary=" + boundary, assemble(boundary,
                                                                 browser_parts(html5_escape))


def python_requests():
    """requests 2.x / urllib3 2.x encode_multipart_formdata: 32 hex boundary, HTML5 escaping,
    Content-Type only for files (guessed from the name)."""
    boundary = secrets.token_hex(16)
    parts = [
        (['Content-Disposition: form-data; name="title"'], "hello wörld".encode()),
        (['Content-Disposition: form-data; name="doc"; filename="%s"'
          % html5_escape("résumé.pdf"), "Content-Type: application/pdf"], BINARY),
        (['Content-Disposition: form-data; name="quoted"; filename="%s"'
          % html5_escape('say "hi".txt'), "Content-Type: text/plain"], TEXT),
    ]
    return "multipart/form-data; boundary=" + boundary, assemble(boundary, parts)


def python_urllib3_1():
    """urllib3 <= 1.24 (old requests): a non-ASCII file name goes out as RFC 2231 filename*."""
    boundary = secrets.token_hex(16)
    parts = [
        (['Content-Disposition: form-data; name="title"'], b"plain"),
        (["Content-Disposition: form-data; name=\"doc\"; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
          "Content-Type: application/pdf"], BINARY),
    ]
    return "multipart/form-data; boundary=" + boundary, assemble(boundary, parts)


def okhttp():
    """OkHttp MultipartBody (FORM): UUID boundary, Content-Length in every part."""
    boundary = str(uuid.uuid4())

    def part(disposition, content, ctype=None):
        headers = ["Content-Disposition: form-data; " + disposition]
        if ctype:
            headers.append("Content-Type: " + ctype)
        headers.append("Content-Length: %d" % len(content))
        return headers, content
    parts = [
        part('name="title"', "hello wörld".encode()),
        part('name="doc"; filename="%s"' % html5_escape('résumé "v2".pdf'), BINARY,
             "application/pdf"),
        part('name="img"; filename="photo.png"', PNG, "image/png"),
    ]
    return "multipart/form-data; boundary=" + boundary, assemble(boundary, parts)


def java_httpclient():
    """Apache HttpClient 4.5 MultipartEntityBuilder (STRICT, charset set): boundary of 30-40
    [-_0-9a-zA-Z], a charset parameter after it, Content-Transfer-Encoding in every part."""
    alphabet = "-_1234567890" + string.ascii_letters
    boundary = random_token(alphabet, 30 + secrets.randbelow(11))
    parts = [
        (['Content-Disposition: form-data; name="title"',
          "Content-Type: text/plain; charset=ISO-8859-1", "Content-Transfer-Encoding: 8bit"],
         b"hello world"),
        (['Content-Disposition: form-data; name="doc"; filename="report.bin"',
          "Content-Type: application/octet-stream", "Content-Transfer-Encoding: binary"],
         BINARY),
        (['Content-Disposition: form-data; name="notes"; filename="notes.txt"',
          "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: binary"], TEXT),
    ]
    return ("multipart/form-data; boundary=%s; charset=UTF-8" % boundary,
            assemble(boundary, parts))


def go_multipart():
    """Go mime/multipart Writer: 60 hex boundary, backslash-escaped quotes, sorted headers."""
    boundary = secrets.token_hex(30)

    def go_quote(s):
        return s.replace("\\", "\\\\").replace('"', '\\"')
    parts = [
        (['Content-Disposition: form-data; name="title"'], "hello wörld".encode()),
        (['Content-Disposition: form-data; name="doc"; filename="%s"' % go_quote("résumé.pdf"),
          "Content-Type: application/octet-stream"], BINARY),
        (['Content-Disposition: form-data; name="quoted"; filename="%s"'
          % go_quote('say "hi".txt'), "Content-Type: application/octet-stream"], TEXT),
        (['Content-Disposition: form-data; name="nothing"; filename=""',
          "Content-Type: application/octet-stream"], b""),
    ]
    return "multipart/form-data; boundary=" + boundary, assemble(boundary, parts)


def dotnet():
    """.NET HttpClient MultipartFormDataContent: quoted GUID boundary, Content-Type before
    Content-Disposition, unquoted token names, filename and filename* together."""
    boundary = str(uuid.uuid4())
    parts = [
        (["Content-Type: text/plain; charset=utf-8",
          "Content-Disposition: form-data; name=title"], b"hello world"),
        (["Content-Type: application/octet-stream",
          "Content-Disposition: form-data; name=doc; filename=report.bin; "
          "filename*=utf-8''report.bin"], BINARY),
    ]
    return 'multipart/form-data; boundary="%s"' % boundary, assemble(boundary, parts)


def javamail_style():
    """A quoted boundary that needs its quotes ('=' in it, as JavaMail/Jersey make them) and a
    parameter after it."""
    boundary = "----=_Part_%d_%d.%d" % (secrets.randbelow(100), secrets.randbelow(10 ** 9),
                                        time.time_ns() // 1000000)
    parts = [
        (['Content-Disposition: form-data; name="title"'], b"hello"),
        (['Content-Disposition: form-data; name="doc"; filename="report.bin"',
          "Content-Type: application/octet-stream"], BINARY),
    ]
    return ('multipart/form-data; boundary="%s"; charset=UTF-8' % boundary,
            assemble(boundary, parts))


CLIENTS = [("Firefox (legacy boundary)", firefox_legacy), ("Firefox", firefox),
           ("Chrome", chrome), ("Python requests/urllib3 2", python_requests),
           ("Python urllib3 1.x (RFC 2231 filename*)", python_urllib3_1), ("OkHttp", okhttp),
           ("Apache HttpClient", java_httpclient), ("Go mime/multipart", go_multipart),
           (".NET HttpClient (quoted boundary)", dotnet),
           ("JavaMail-style quoted boundary", javamail_style)]


def simple_upload(content, filename="upload.bin", field="file"):
    boundary = "----WebKitFormBoundary" + random_token(string.ascii_letters + string.digits, 16)
    body = assemble(boundary, [
        (['Content-Disposition: form-data; name="note"'], b"scan me"),
        (['Content-Disposition: form-data; name="%s"; filename="%s"' % (field, filename),
          "Content-Type: application/octet-stream"], content),
    ])
    return {"Content-Type": "multipart/form-data; boundary=" + boundary}, body


def post_file(srv, prefix, content, filename="upload.bin"):
    mark = marker()
    headers, body = simple_upload(content, filename)
    resp = srv.request("POST", "/%s/%s?m=%s" % (prefix, CGI, mark), body=body, headers=headers)
    return resp, body, mark


def put_file(srv, prefix, content):
    mark = marker()
    resp = srv.request("PUT", "/%s/%s?m=%s" % (prefix, CGI, mark), body=content, headers=OCTETS)
    return resp, mark


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


# ---- 8. hung approval script ---------------------------------------------------------------------

def proc_state(pid):
    fields = stat_fields(pid)
    return fields[0] if fields else None


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        text = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def in_session(srv):
    """Everything in the session our Apache leads (the harness starts it with setsid), even
    processes that moved to a process group of their own."""
    sid = str(srv.proc.pid)
    return [int(e) for e in os.listdir("/proc") if e.isdigit()
            and (stat_fields(int(e)) or [None] * 4)[3] == sid]


def zombies_in_group(srv):
    """Zombies Apache has not reaped. An orphan (a killed script's own child) is re-parented to
    init, which reaps it in its own time: that one is not ours to wait for."""
    return [pid for pid in in_session(srv) if proc_state(pid) == "Z"
            and (stat_fields(pid) or [None] * 4)[1] not in ("1", None)]


def cmdline(pid):
    try:
        return Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode(
            errors="replace").strip()
    except OSError:
        return ""


def comm(pid):
    try:
        return Path("/proc/%d/comm" % pid).read_text().strip()
    except OSError:
        return None


def post_in_background(srv, prefix, content, filename):
    """Starts post_file in a thread; returns (thread, result dict with resp, mark, seconds)."""
    result = {}

    def run():
        started = time.time()
        try:
            result["resp"], _, result["mark"] = post_file(srv, prefix, content, filename)
        except Exception as err:  # reported by the caller
            result["error"] = err
        result["seconds"] = time.time() - started
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def read_pid(path):
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def signal_masks(pid):
    """(SigBlk, SigIgn) of a running process as integers."""
    fields = {}
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["SigBlk"], 16), int(fields["SigIgn"], 16)


def signal_names(mask):
    names = []
    for sig in range(1, 65):
        if mask & (1 << (sig - 1)):
            try:
                names.append(signal.Signals(sig).name)
            except ValueError:
                names.append(str(sig))
    return names


def expect_children_reaped(srv, what):
    cgi_bin = str(srv.root / "cgi-bin")
    for child in srv.children():
        # mod_cgid's daemon is a child too; the CGIs it runs are not what we look for.
        left = [(p, cmdline(p), proc_state(p)) for p in children_of(child)
                if cgi_bin not in cmdline(p)]
        expect(not left, "%s: Apache child %d still has children: %s" % (what, child, left))
    expect(not zombies_in_group(srv), "%s: zombies: %s" % (what, zombies_in_group(srv)))


def kill_leftovers(srv, pids):
    """Our own cleanup, by PID, of processes a failed test left in Apache's group."""
    ours = set(in_session(srv))
    for pid in pids:
        if pid in ours:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


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
