"""What the upload tests share (test_uploads.py, test_uploads_approval.py): the group's Apache
with its private clamd and upload directories, the helpers, and multipart bodies as real clients
build them. Both files' tests run against the one group (UPLOADS).

Uploads: file upload interception through a real Apache with a real ClamAV (reference §6.5-6.6).

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
import string
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

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


# ---- processes: states, sessions, children (the hung-script and clamd tests) ---------------------

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
