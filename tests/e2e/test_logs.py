"""Logs end to end: audit (Serial Native, JSON, Concurrent, piped), guardian and debug logs
through a real Apache under concurrent load (reference §1.3, §9, §10, §11).

The load tests run their own Apache with two event-MPM children of 16 threads each (the
harness's single child is widened by the group snippet), so records come from different
threads and different processes at once; a CustomLog "who.log" (%P, %{tid}P, UNIQUE_ID, the
request line) proves that and maps every request to its unique id. 32 client threads mix
benign and attack GETs, urlencoded POSTs, multipart uploads, `pass,log` and
`pass,log,noauditlog` matches, each request carrying its own marker (m=<marker> in the query
string, X-Marker header, and in the body). The logs are parsed back strictly and matched request
by request against what the clients sent, who.log, and the error log's mod_security lines.

What the engine writes for one transaction is covered by tests/unit/log/test_audit.c; here:
concurrency across threads and processes, the real hooks (unique id, handler, statuses, files
left behind), targets opened by the parent and shared by the children, and the pipe's program.
"""
import hashlib
import http.client
import json
import os
import pwd
import random
import re
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

from harness import CHILD_USER, REPO, Apache, Group, running_as_root, wait_for

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
KiB = 1024
UA = "parapet-e2e-logs/1.0"
CLIENT_THREADS = 32


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def body_limit():
    """PP_AUDIT_BODY_LIMIT_BYTES as src/engine/log/log.h defines it."""
    text = (REPO / "src" / "engine" / "log" / "log.h").read_text()
    m = re.search(r"#define PP_AUDIT_BODY_LIMIT_BYTES\s+([0-9()*+ ]+)\n", text)
    expect(m, "PP_AUDIT_BODY_LIMIT_BYTES not found in log.h")
    return int(eval(m.group(1), {"__builtins__": {}}))  # digits, * + ( ) only


# ---- server configuration ---------------------------------------------------------------------

# Two children x 16 threads; spare-thread limits high enough that neither child is reaped.
# who.log ties every request to its process, thread and unique id.
MPM_AND_WHO = """
<IfModule mpm_event_module>
    ServerLimit 2
    StartServers 2
    ThreadsPerChild 16
    MaxRequestWorkers 32
    MinSpareThreads 32
    MaxSpareThreads 64
</IfModule>
CustomLog "@ROOT@/logs/who.log" "%P %{tid}P %{UNIQUE_ID}e %>s %D \\"%r\\""
"""

RULES = """
SecFilterEngine On
SecFilterScanPOST On
SecFilterDefaultAction "deny,log,status:403"
SecUploadDir "@ROOT@/data"
SecFilter "<script"
SecFilterSelective ARGS "union.+select"
SecFilterSelective ARGS "passlog" "pass,log"
SecFilterSelective ARGS "quietlog" "pass,log,noauditlog"
"""

MSG_SCRIPT = 'Access denied with code 403. Pattern match "<script"'
MSG_UNION = 'Access denied with code 403. Pattern match "union.+select"'
MSG_PASS = 'Warning. Pattern match "passlog"'
MSG_QUIET = 'Warning. Pattern match "quietlog"'


def load_snippet(audit):
    return MPM_AND_WHO + RULES + audit


class Server:
    """An Apache with a snippet, started after an optional preparation step; always stopped
    (and its root removed) on exit."""

    def __init__(self, snippet, name, prepare=None, files=None):
        self.srv = Apache(snippet, name=name, files=files)
        self.prepare = prepare

    def __enter__(self):
        try:
            self.srv.prepare()
            if self.prepare:
                self.prepare(self.srv)
            self.srv.start()
        except BaseException:
            self.srv.stop()
            raise
        return self.srv

    def __exit__(self, *exc):
        self.srv.stop()


def child_owned_dir(srv, rel, mode=0o750):
    """A directory the children (www-data when root) can write to."""
    path = srv.root / rel
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    if running_as_root():
        user = pwd.getpwnam(CHILD_USER)
        os.chown(path, user.pw_uid, user.pw_gid)
    return path


# ---- traffic ----------------------------------------------------------------------------------

def multipart(marker, text):
    boundary = "----parapetlogs" + hashlib.md5(marker.encode()).hexdigest()[:16]
    content = ("file of %s\r\n" % marker).encode() * 12
    parts = [('name="m"', marker.encode()), ('name="t"', text.encode()),
             ('name="f"; filename="note-%s.txt"' % marker, content)]
    out = bytearray()
    for disp, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"Content-Disposition: form-data; " + disp.encode() + b"\r\n"
        if b"filename" in disp.encode():
            out += b"Content-Type: text/plain\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return "multipart/form-data; boundary=" + boundary, bytes(out), content


class Kind:
    """One sort of request: how to build it, the status it gets, whether it is relevant and
    which message(s) it logs."""

    def __init__(self, name, weight, build, status, relevant, messages=()):
        self.name, self.weight, self.build = name, weight, build
        self.status, self.relevant, self.messages = status, relevant, tuple(messages)


def _get(path):
    return lambda m: ("GET", path % m, None, {})


def _post(path, body, headers=FORM):
    return lambda m: ("POST", path % m, (body % {"m": m}).encode(), dict(headers))


def _upload(path, text):
    def build(m):
        ctype, body, _ = multipart(m, text)
        return "POST", path % m, body, {"Content-Type": ctype}
    return build


BIG_PAD = "b" * (20 * KiB)

KINDS = [
    Kind("get", 20, _get("/index.html?m=%s&q=hello"), 200, False),
    Kind("cgi", 2, _get("/cgi-bin/echo.py?m=%s&say=hi"), 200, False),
    Kind("attack_get", 10, _get("/index.html?m=%s&q=<script>alert(1)</script>"), 403, True,
         [MSG_SCRIPT]),
    Kind("post", 12, _post("/index.html?m=%s", "m=%(m)s&t=hello+world&n=123"), 200, False),
    Kind("cgi_post", 2, _post("/cgi-bin/echo.py?m=%s", "m=%(m)s&t=replayed"), 200, False),
    Kind("attack_post", 8, _post("/index.html?m=%s", "m=%(m)s&id=1+union+all+select+pw"), 403,
         True, [MSG_UNION]),
    Kind("upload", 8, _upload("/index.html?m=%s", "plain"), 200, False),
    Kind("passlog_upload", 4, _upload("/index.html?m=%s", "passlog"), 200, True, [MSG_PASS]),
    Kind("passlog_get", 8, _get("/index.html?m=%s&p=passlog"), 200, True, [MSG_PASS]),
    Kind("passlog_post", 8, _post("/index.html?m=%s", "m=%(m)s&p=passlog&x=1"), 200, True,
         [MSG_PASS]),
    # Past PIPE_BUF and the usual page size: one write() that must still land whole.
    Kind("big_passlog_post", 3, _post("/index.html?m=%s", "m=%(m)s&p=passlog&pad=" + BIG_PAD),
         200, True, [MSG_PASS]),
    Kind("quiet", 6, _get("/index.html?m=%s&q=quietlog"), 200, False),
]
KIND = {k.name: k for k in KINDS}
MARKER_RE = re.compile(r"[?&]m=(t\d+n\d+)\b")


class Sent:
    __slots__ = ("kind", "marker", "method", "path", "body", "headers", "status", "error",
                 "stale")

    def __init__(self, kind, marker, method, path, body, headers):
        self.kind, self.marker, self.method, self.path = kind, marker, method, path
        self.body, self.headers = body, headers
        self.status = self.error = None
        self.stale = False


STALE_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def drive(srv, seconds, kinds=KINDS, threads=CLIENT_THREADS, seed=1):
    """Runs `threads` keep-alive clients for `seconds`. Returns ({marker: Sent}, elapsed, who)
    once every request has its who.log line.

    The event MPM closes idle keep-alive connections when a child runs out of workers; a
    request sent on such a connection is lost before the server reads it. Those requests are
    retried under a new marker on a fresh connection, and only dropped from the count after
    who.log proves the server never saw them. Any other failure fails the test."""
    names = [k.name for k in kinds]
    weights = [k.weight for k in kinds]
    results = [[] for _ in range(threads)]
    start = time.time()
    deadline = start + seconds

    def client(n):
        rng = random.Random(seed * 1000 + n)
        conn = None
        served = 0
        seq = 0
        while time.time() < deadline:
            kind = KIND[rng.choices(names, weights)[0]]
            marker = "t%dn%d" % (n, seq)
            seq += 1
            method, path, body, headers = kind.build(marker)
            headers.update({"X-Marker": marker, "User-Agent": UA,
                            "Referer": "http://ref.example/%s" % marker})
            s = Sent(kind, marker, method, path, body, headers)
            results[n].append(s)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
                    served = 0
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                s.status = resp.status
                served += 1
                if resp.will_close:
                    conn.close()
                    conn = None
            except Exception as err:
                s.error = "%s: %s" % (type(err).__name__, err)
                s.stale = isinstance(err, STALE_ERRORS) and served > 0
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.time() - start
    sent = {s.marker: s for r in results for s in r}
    errors = [s for s in sent.values() if s.error and not s.stale]
    expect(not errors, "%d requests failed, e.g. %s %s: %s" % (
        len(errors), errors[0].method, errors[0].path[:80], errors[0].error) if errors else "")
    stale = [m for m, s in sent.items() if s.stale]
    for m in stale:
        del sent[m]
    who = wait_who(srv, sent)
    seen = [m for m in stale if m in read_who(srv)]
    expect(not seen, "%d requests the server handled got no response, e.g. %s" % (
        len(seen), seen[0]) if seen else "")
    if stale:
        print("    (%d requests sent on keep-alive connections the server had closed; never "
              "seen by the server, retried)" % len(stale))
    wrong = [s for s in sent.values() if s.status != s.kind.status]
    if wrong:
        # What the server said about it: the error log lines of that request and of no request.
        uid = who[wrong[0].marker][2]
        said = [line for line in srv.error_log().splitlines()
                if uid in line or "mod_security" not in line]
        raise AssertionError("%d requests got an unexpected status, e.g. %s %s -> %s (expected "
                             "%s); error log:\n%s" % (
                                 len(wrong), wrong[0].method, wrong[0].path[:80], wrong[0].status,
                                 wrong[0].kind.status, "\n".join(said[-30:])))
    return sent, elapsed, who


def relevant_markers(sent):
    return {m for m, s in sent.items() if s.kind.relevant}


# ---- what the server says about each request ----------------------------------------------------

WHO_RE = re.compile(r'^(\d+) (\d+) (\S+) (\d{3}) (\d+) "(.*)"$')


def read_who(srv):
    """{marker: (pid, tid, unique id, status, %D)} from who.log."""
    out = {}
    try:
        text = (srv.root / "logs" / "who.log").read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        m = WHO_RE.match(line)
        expect(m, "who.log line does not parse: %r" % line)
        mk = MARKER_RE.search(m.group(6))
        if mk:
            out[mk.group(1)] = (int(m.group(1)), int(m.group(2)), m.group(3), int(m.group(4)),
                                int(m.group(5)))
    return out


def wait_who(srv, sent):
    """Waits until every request has its who.log line (written after the audit record, since
    the engine's logging hook runs before mod_log_config's)."""
    who = wait_for(lambda: (lambda w: w if set(sent) <= set(w) else None)(read_who(srv)),
                   timeout=15)
    who = who or read_who(srv)
    missing = set(sent) - set(who)
    expect(not missing, "%d requests have no who.log line, e.g. %s" % (
        len(missing), sorted(missing)[:3]))
    uids = [w[2] for w in who.values()]
    expect(len(set(uids)) == len(uids), "UNIQUE_ID repeated across requests")
    return who


ERR_RE = re.compile(r'mod_security: (.*) \[hostname "[^"]*"\] \[uri "[^"]*"\] '
                    r'\[unique_id "([^"]*)"\](?:, referer: .*)?$')


def error_messages(srv):
    """{unique id: [messages]} from the error log's mod_security lines."""
    out = {}
    for line in srv.error_log().splitlines():
        m = ERR_RE.search(line)
        if m:
            out.setdefault(m.group(2), []).append(m.group(1))
    return out


def concurrency_summary(who, markers):
    pids = {who[m][0] for m in markers}
    threads = {(who[m][0], who[m][1]) for m in markers}
    return pids, threads


# ---- strict parser of the Native (Serial) layout ------------------------------------------------

# A record opens with "==<8 hex>==" padded with '=' to 40 bytes and closes with "--<hex>--".
OPEN_RE = re.compile(rb"^==([0-9a-f]{8})={30}$")
SEP_DASH = b"-" * 40
REQUEST_RE = re.compile(rb'^Request: (\S+) (\S+) (\S+) (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:'
                        rb'\d{2}:\d{2}:\d{2} [+-]\d{4})\] "(.*)" (\d{3}|-) (\d+|-)$')
HEADER_RE = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+): (.*)$")
COUNT_RE = re.compile(rb"^(\d+)((?: \([^()]*\))*)$")
STATUS_RE = re.compile(rb"^HTTP/1\.[01] (\d{3})(?: .*)?$")
FILE_RE = re.compile(rb'^File: field="([^"]*)" filename="([^"]*)" size=(\d+) stored="([^"]*)" '
                     rb'verdict="([^"]*)"$')


class NativeRecord:
    def __init__(self):
        self.uid = self.request = self.handler = self.request_line = self.boundary = None
        self.headers = []
        self.body = None
        self.count_notes = b""
        self.files = []
        self.status_line = None
        self.response_headers = []
        self.offset = 0

    def header(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


class ParseError(AssertionError):
    pass


def parse_native(data):
    """Parses a whole Serial Native file; any deviation from the layout (a torn or
    interleaved record included) raises ParseError naming the byte offset."""
    recs = []
    pos = 0
    n = len(data)

    def fail(what):
        raise ParseError("audit log offset %d (record %d): %s; near %r" % (
            pos, len(recs) + 1, what, data[pos:pos + 120]))

    def line():
        nonlocal pos
        end = data.find(b"\n", pos)
        if end < 0:
            fail("unterminated line")
        text = data[pos:end]
        pos = end + 1
        return text

    def peek():
        end = data.find(b"\n", pos)
        return data[pos:end] if end >= 0 else data[pos:]

    while pos < n:
        rec = NativeRecord()
        rec.offset = pos
        m = OPEN_RE.match(line())
        if not m:
            fail("expected the '==<boundary>==' separator")
        rec.boundary = m.group(1)
        close = b"--" + rec.boundary + b"--"
        m = re.match(rb"^UNIQUE_ID: ([A-Za-z0-9@_.+/=-]+)$", line())
        if not m:
            fail("bad UNIQUE_ID line")
        rec.uid = m.group(1).decode()
        m = REQUEST_RE.match(line())
        if not m:
            fail("bad Request: line")
        rec.request = m
        m = re.match(rb"^Handler: (\S+)$", line())
        if not m:
            fail("bad Handler: line")
        rec.handler = m.group(1).decode()
        if line() != SEP_DASH:
            fail("expected the '-' separator")
        rec.request_line = line()
        while True:
            text = line()
            if text == b"":
                break
            m = HEADER_RE.match(text)
            if not m:
                fail("bad request header line %r" % text[:80])
            rec.headers.append((m.group(1).decode(), m.group(2).decode("latin-1")))
        m = COUNT_RE.match(peek())
        if m:
            line()
            count = int(m.group(1))
            rec.count_notes = m.group(2)
            if pos + count + 1 > n or data[pos + count:pos + count + 1] != b"\n":
                fail("body of %d bytes not followed by a newline" % count)
            rec.body = data[pos:pos + count]
            pos += count + 1
        if rec.body is not None or peek().startswith(b"File: "):
            while True:
                text = line()
                if text == b"":
                    break
                m = FILE_RE.match(text)
                if not m:
                    fail("bad File: line %r" % text[:80])
                rec.files.append(m)
        text = line()
        m = STATUS_RE.match(text)
        if not m:
            fail("bad response status line %r" % text[:80])
        rec.status_line = m
        while True:
            text = line()
            if text == close:
                break
            m = HEADER_RE.match(text)
            if not m:
                fail("bad response header line %r" % text[:80])
            rec.response_headers.append((m.group(1).decode(), m.group(2).decode("latin-1")))
        recs.append(rec)
    return recs


def check_messages(what, uid, got, errmsgs, kind):
    """The messages in a record are this request's: the error log says so by unique id, and
    they are what the request's kind triggers."""
    expect(sorted(got) == sorted(errmsgs.get(uid, [])),
           "%s %s: record messages %r, error log for that id %r" % (what, uid, got,
                                                                   errmsgs.get(uid)))
    for want in kind.messages:
        expect(any(g.startswith(want) for g in got), "%s %s: no %r among %r" % (
            what, uid, want, got))


def check_native(recs, sent, who, errmsgs, expected):
    """Each record against the request it names; the set of records == expected markers."""
    seen = {}
    for rec in recs:
        where = "record at offset %d" % rec.offset
        line = rec.request_line.decode("latin-1")
        mk = MARKER_RE.search(line)
        expect(mk, "%s: no marker in request line %r" % (where, line))
        marker = mk.group(1)
        expect(marker not in seen, "%s: second record for %s" % (where, marker))
        seen[marker] = rec
        expect(marker in sent, "%s: unknown request %r" % (where, line))
        s = sent[marker]
        expect(line == "%s %s HTTP/1.1" % (s.method, s.path),
               "%s: request line %r, client sent %s %s" % (where, line, s.method, s.path))
        expect(rec.request.group(6) == rec.request_line,
               "%s: Request: line names %r, record is %r" % (where, rec.request.group(6),
                                                            rec.request_line))
        expect(rec.header("X-Marker") == [marker],
               "%s: X-Marker %r in the record of %s (interleaved?)" % (where,
                                                                      rec.header("X-Marker"),
                                                                      marker))
        expect(rec.header("User-Agent") == [UA], "%s: User-Agent %r" % (where,
                                                                     rec.header("User-Agent")))
        pid, tid, uid, status, _ = who[marker]
        expect(rec.uid == uid, "%s: UNIQUE_ID %s, the server gave %s %s" % (where, rec.uid,
                                                                            marker, uid))
        code = int(rec.status_line.group(1))
        expect(code == s.status == status and rec.request.group(7) == str(code).encode(),
               "%s: statuses: response line %d, Request: %r, client %s, access log %d" % (
                   where, code, rec.request.group(7), s.status, status))
        if "cgi-bin" in s.path:
            expect(rec.handler == "cgi-script", "%s: Handler %r" % (where, rec.handler))
        check_messages(where, uid, rec.header("mod_security-message"), errmsgs, s.kind)
        if s.kind.status == 403:
            expect(rec.header("mod_security-action") == ["403"], "%s: mod_security-action %r"
                   % (where, rec.header("mod_security-action")))
        if s.method == "POST":
            expect(rec.body is not None, "%s: POST body not logged" % where)
            if s.headers["Content-Type"] == FORM["Content-Type"]:
                expect(rec.body == s.body and rec.count_notes == b"",
                       "%s: body %r..., sent %r..." % (where, rec.body[:60], s.body[:60]))
            else:
                expect(b"multipart fields" in rec.count_notes and
                       rec.body.startswith(b"m=" + marker.encode() + b"&t="),
                       "%s: multipart synthesis %r %r" % (where, rec.count_notes, rec.body))
                expect(len(rec.files) == 1 and rec.files[0].group(2) ==
                       ("note-%s.txt" % marker).encode(), "%s: File lines %r" % (
                           where, [f.group(0) for f in rec.files]))
        else:
            expect(rec.body is None and not rec.files, "%s: a GET with a body" % where)
    uids = [r.uid for r in recs]
    expect(len(set(uids)) == len(uids), "UNIQUE_ID repeated across records")
    missing = expected - set(seen)
    extra = set(seen) - expected
    expect(not missing and not extra, "records: %d missing (e.g. %s), %d not expected (e.g. %s)"
           % (len(missing), [(m, sent[m].kind.name) for m in sorted(missing)[:3]], len(extra),
              [(m, sent[m].kind.name) for m in sorted(extra)[:3]]))
    return seen


def report(what, sent, n_records, elapsed, who, markers, extra=""):
    pids, threads = concurrency_summary(who, markers)
    print("    %s: %d requests in %.1fs (%.0f/s), %d relevant, %d records; served by %d "
          "processes / %d threads%s" % (what, len(sent), elapsed, len(sent) / elapsed,
                                         len(relevant_markers(sent)), n_records, len(pids),
                                         len(threads), extra))
    return pids, threads


def expect_spread(pids, threads, what):
    expect(len(pids) >= 2, "%s: all records came from one process %s" % (what, pids))
    expect(len(threads) >= 8, "%s: records came from only %d threads" % (what, len(threads)))


# ---- 1. Serial Native ----------------------------------------------------------------------------

SERIAL = load_snippet("""
SecAuditEngine RelevantOnly
SecAuditLog "@ROOT@/logs/audit.log"
SecGuardianLog "@ROOT@/logs/guardian.log"
CustomLog "@ROOT@/logs/relevant.log" "%{UNIQUE_ID}e" env=mod_security-relevant
""")


def test_logs_serial_native_concurrent_load():
    with Server(SERIAL, "logs-serial") as srv:
        expect(wait_for(lambda: len(srv.children()) >= 3, timeout=10),
               "expected 2 worker children + the cgid daemon: %r" % srv.children())
        sent, elapsed, who = drive(srv, 8.0)
        data = (srv.root / "logs" / "audit.log").read_bytes()
        started = time.time()
        recs = parse_native(data)
        expected = relevant_markers(sent)
        check_native(recs, sent, who, error_messages(srv), expected)
        pids, threads = report("Serial Native RelevantOnly", sent, len(recs), elapsed, who,
                               expected, "; %d KiB parsed in %.2fs" % (
                                   len(data) // KiB, time.time() - started))
        expect_spread(pids, threads, "Serial")
        expect(len(recs) == len(expected), "records %d != relevant %d" % (len(recs),
                                                                         len(expected)))
        mode = stat.S_IMODE(os.stat(srv.root / "logs" / "audit.log").st_mode)
        expect(mode == 0o640, "audit.log mode %o" % mode)
        # The guardian log saw every request, relevant or not, exactly once.
        lines = guardian_lines(srv)
        by_marker = {}
        for uid, ms in lines.items():
            expect(len(ms) == 1, "%d guardian lines for %s" % (len(ms), uid))
            mk = MARKER_RE.search(ms[0].group(6))
            expect(mk and mk.group(1) in sent, "guardian line for an unknown request: %r"
                   % ms[0].group(0))
            by_marker[mk.group(1)] = ms[0]
        expect(set(by_marker) == set(sent), "guardian: %d lines for %d requests" % (
            len(by_marker), len(sent)))
        for marker, m in by_marker.items():
            s, w = sent[marker], who[marker]
            expect(m.group(11) == w[2] and m.group(7) == str(s.status) and
                   m.group(6) == "%s %s HTTP/1.1" % (s.method, s.path) and
                   m.group(9) == s.headers["Referer"] and m.group(10) == UA,
                   "guardian line %r for %s (server id %s)" % (m.group(0), marker, w[2]))
            d = int(m.group(14))
            expect(0 < d <= w[4] and int(m.group(13)) == d // 1000000,
                   "guardian %%T %s %%D %d, access log %%D %d" % (m.group(13), d, w[4]))
        print("    guardian under load: %d lines, one per request" % len(by_marker))
        # mod_security-relevant (§1.3) is set on exactly the audited requests.
        flagged = (srv.root / "logs" / "relevant.log").read_text().split()
        expect(sorted(flagged) == sorted(r.uid for r in recs),
               "env=mod_security-relevant: %d lines, %d records" % (len(flagged), len(recs)))


def test_logs_serial_engine_on_logs_everything():
    with Server(load_snippet('SecAuditEngine On\nSecAuditLog "@ROOT@/logs/audit.log"\n'),
                "logs-on") as srv:
        sent, elapsed, who = drive(srv, 2.0, seed=2)
        recs = parse_native((srv.root / "logs" / "audit.log").read_bytes())
        check_native(recs, sent, who, error_messages(srv), set(sent))
        report("Serial Native On", sent, len(recs), elapsed, who, set(sent))
        expect(len(recs) == len(sent), "records %d != requests %d" % (len(recs), len(sent)))


def test_logs_serial_engine_off_logs_nothing():
    with Server(load_snippet('SecAuditEngine Off\nSecAuditLog "@ROOT@/logs/audit.log"\n'),
                "logs-off") as srv:
        sent, elapsed, who = drive(srv, 1.5, seed=3)
        size = (srv.root / "logs" / "audit.log").stat().st_size
        report("Serial Native Off", sent, 0, elapsed, who, set(sent))
        expect(size == 0, "SecAuditEngine Off wrote %d bytes" % size)
        # The rules still ran: the error log has the denials.
        expect(len(error_messages(srv)) >= len(relevant_markers(sent)) > 0,
               "rules did not log under SecAuditEngine Off")


# ---- 2. JSON -------------------------------------------------------------------------------------

def check_json_lines(text, sent, who, errmsgs, expected):
    seen = {}
    lines = text.split("\n")
    expect(lines[-1] == "", "JSON log does not end with a newline")
    for i, raw in enumerate(lines[:-1]):
        where = "JSON line %d" % (i + 1)
        try:
            obj = json.loads(raw)
        except ValueError as err:
            raise AssertionError("%s does not parse (%s): %r" % (where, err, raw[:200]))
        for path in (("transaction", "transaction_id"), ("request", "request_line"),
                     ("response", "status"), ("audit_data", "messages")):
            node = obj
            for key in path:
                expect(isinstance(node, dict) and key in node, "%s: no %s" % (where,
                                                                              ".".join(path)))
                node = node[key]
        line = obj["request"]["request_line"]
        mk = MARKER_RE.search(line)
        expect(mk, "%s: no marker in %r" % (where, line))
        marker = mk.group(1)
        expect(marker in sent and marker not in seen, "%s: unknown or repeated %s" % (where,
                                                                                   marker))
        seen[marker] = obj
        s = sent[marker]
        pid, tid, uid, status, _ = who[marker]
        expect(line == "%s %s HTTP/1.1" % (s.method, s.path), "%s: request_line %r" % (where,
                                                                                      line))
        expect(obj["transaction"]["transaction_id"] == uid, "%s: transaction_id %r, server %s"
               % (where, obj["transaction"]["transaction_id"], uid))
        expect(obj["response"]["status"] == s.status == status, "%s: status %r, client %s"
               % (where, obj["response"]["status"], s.status))
        headers = obj["request"].get("headers", {})
        expect(headers.get("X-Marker") == marker, "%s: X-Marker %r" % (where,
                                                                      headers.get("X-Marker")))
        msgs = obj["audit_data"]["messages"]
        check_messages(where, uid, msgs, errmsgs, s.kind)
        expect(obj["audit_data"]["action"]["intercepted"] == (s.status == 403),
               "%s: action %r" % (where, obj["audit_data"]["action"]))
        if s.method == "POST":
            body = obj["request"].get("body")
            expect(isinstance(body, list) and body and marker in body[0],
                   "%s: request.body %r" % (where, body))
            if s.headers["Content-Type"] == FORM["Content-Type"]:
                expect(body[0].encode() == s.body and obj["request"]["body_length"] ==
                       len(s.body) and obj["request"]["body_truncated"] is False,
                       "%s: body differs" % where)
            else:
                info = obj.get("uploads", {}).get("info", [])
                expect(len(info) == 1 and info[0]["file_name"] == "note-%s.txt" % marker,
                       "%s: uploads %r" % (where, obj.get("uploads")))
    missing, extra = expected - set(seen), set(seen) - expected
    expect(not missing and not extra, "JSON records: %d missing, %d not expected"
           % (len(missing), len(extra)))
    return seen


def test_logs_json_concurrent_load():
    # With the debug log at level 4 as well: its lines must stay whole under the same load,
    # and each request's "Transaction finished" line states the relevance the engine decided.
    snippet = load_snippet('SecAuditEngine RelevantOnly\nSecAuditLogFormat JSON\n'
                           'SecAuditLog "@ROOT@/logs/audit.json"\n'
                           'SecFilterDebugLog "@ROOT@/logs/debug.log"\nSecFilterDebugLevel 4\n')
    with Server(snippet, "logs-json") as srv:
        sent, elapsed, who = drive(srv, 4.0, seed=4)
        text = (srv.root / "logs" / "audit.json").read_bytes().decode("utf-8")
        expected = relevant_markers(sent)
        seen = check_json_lines(text, sent, who, error_messages(srv), expected)
        pids, threads = report("JSON RelevantOnly", sent, len(seen), elapsed, who, expected)
        expect_spread(pids, threads, "JSON")
        expect(len(seen) == len(expected), "records %d != relevant %d" % (len(seen),
                                                                         len(expected)))
        lines = debug_lines(srv)
        uid_marker = {w[2]: m for m, w in who.items()}
        finished = {}
        for m in lines:
            expect(m.group(3) in uid_marker, "debug line with an unknown rid: %r" % m.group(0))
            marker = uid_marker[m.group(3)]
            expect(MARKER_RE.search(m.group(4)) and MARKER_RE.search(m.group(4)).group(1) ==
                   marker, "debug line's uri %r is not the request of rid %s" % (m.group(4),
                                                                                 m.group(3)))
            f = re.match(r"Transaction finished: status (\d+), \w+, \d+ match\(es\), "
                         r"relevant=([01])$", m.group(6))
            if f:
                expect(marker not in finished, "two finish lines for %s" % marker)
                finished[marker] = (int(f.group(1)), f.group(2) == "1")
        expect(set(finished) == set(sent), "debug: %d finish lines for %d requests" % (
            len(finished), len(sent)))
        for marker, (status, relevant) in finished.items():
            s = sent[marker]
            expect(status == s.status and relevant == s.kind.relevant,
                   "debug says %s: status %d relevant=%s; client %s, kind %s" % (
                       marker, status, relevant, s.status, s.kind.name))
        print("    debug log under load: %d lines, all whole, one finish line per request"
              % len(lines))


# ---- 3. Concurrent -------------------------------------------------------------------------------

INDEX_RE = re.compile(r'^(\S+) (\S+) (\S+) (\S+) \[([^\]]+)\] "(.*)" (\d{3}|-) (\d+|-) '
                      r'"(.*)" "(.*)" (\S+) "(-)" (\S+) (0) (\d+) md5:([0-9a-f]{32})( L)?$')
PART_RE = re.compile(rb"^--([0-9a-f]{8})-([A-Z])--$", re.M)


def parse_parts(entry):
    """{letter: bytes} of a 2.x-style entry; one boundary, letters in A..Z order, A first and
    Z last."""
    marks = list(PART_RE.finditer(entry))
    expect(marks and marks[0].start() == 0, "entry does not start with a part boundary")
    expect(len({m.group(1) for m in marks}) == 1, "entry mixes boundaries")
    letters = [m.group(2).decode() for m in marks]
    expect(letters[0] == "A" and letters[-1] == "Z" and letters == sorted(letters) and
           len(set(letters)) == len(letters), "part letters %r" % letters)
    expect(entry[marks[-1].end():] == b"\n\n", "entry does not end after Z")
    parts = {}
    for a, b in zip(marks, marks[1:]):
        parts[a.group(2).decode()] = entry[a.end() + 1:b.start()]
    return parts


def test_logs_concurrent_storage_dir():
    snippet = load_snippet('SecAuditEngine RelevantOnly\nSecAuditLogType Concurrent\n'
                           'SecAuditLogStorageDir "@ROOT@/data/audit"\n'
                           'SecAuditLog "@ROOT@/logs/index"\n')
    with Server(snippet, "logs-concurrent",
                prepare=lambda s: child_owned_dir(s, "data/audit")) as srv:
        sent, elapsed, who = drive(srv, 4.0, seed=5)
        errmsgs = error_messages(srv)
        storage = srv.root / "data" / "audit"
        lines = (srv.root / "logs" / "index").read_text().split("\n")
        expect(lines[-1] == "", "index does not end with a newline")
        seen = {}
        child_uid = pwd.getpwnam(CHILD_USER).pw_uid if running_as_root() else os.geteuid()
        for i, line in enumerate(lines[:-1]):
            where = "index line %d" % (i + 1)
            m = INDEX_RE.match(line)
            expect(m, "%s does not parse: %r" % (where, line))
            mk = MARKER_RE.search(m.group(6))
            expect(mk and mk.group(1) in sent and mk.group(1) not in seen,
                   "%s: unknown or repeated request %r" % (where, m.group(6)))
            marker = mk.group(1)
            s = sent[marker]
            pid, tid, uid, status, _ = who[marker]
            expect(m.group(11) == uid, "%s: unique id %s, server %s" % (where, m.group(11), uid))
            expect(m.group(7) == str(s.status), "%s: status %s" % (where, m.group(7)))
            expect(m.group(9) == s.headers["Referer"] and m.group(10) == UA,
                   "%s: referer/UA %r %r" % (where, m.group(9), m.group(10)))
            expect(m.group(17) is None, "%s: marked truncated" % where)
            rel = m.group(13)
            # Relative to SecAuditLogStorageDir (2.x writes it with a leading slash).
            expect(re.fullmatch(r"/\d{8}/\d{8}-\d{4}/\d{8}-\d{6}-" + re.escape(uid), rel),
                   "%s: entry path %r" % (where, rel))
            expect(not Path(rel).exists(), "%s: %r exists outside the storage dir" % (where,
                                                                                     rel))
            path = Path(str(storage) + rel)
            expect(path.is_file(), "%s: %s does not exist" % (where, path))
            entry = path.read_bytes()
            expect(len(entry) == int(m.group(15)), "%s: size %s, file has %d" % (
                where, m.group(15), len(entry)))
            expect(hashlib.md5(entry).hexdigest() == m.group(16), "%s: md5 differs" % where)
            st = path.stat()
            expect(stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == child_uid,
                   "%s: entry mode %o owner %d" % (where, stat.S_IMODE(st.st_mode), st.st_uid))
            for d in (path.parent, path.parent.parent):
                mode = stat.S_IMODE(d.stat().st_mode)
                expect(mode == 0o750, "%s: directory %s mode %o" % (where, d, mode))
            parts = parse_parts(entry)
            a = parts["A"].decode().split()
            expect(a[2] == uid, "%s: part A %r" % (where, parts["A"]))
            expect(parts["B"].split(b"\n", 1)[0].decode() == "%s %s HTTP/1.1" % (
                s.method, s.path), "%s: part B request line" % where)
            expect(("X-Marker: %s\n" % marker).encode() in parts["B"], "%s: X-Marker" % where)
            msgs = [l[len("Message: "):] for l in parts["H"].decode().splitlines()
                    if l.startswith("Message: ")]
            check_messages(where, uid, msgs, errmsgs, s.kind)
            if s.method == "POST":
                expect("C" in parts and marker.encode() in parts["C"], "%s: no part C" % where)
            seen[marker] = rel
        files = [p for p in storage.rglob("*") if p.is_file()]
        expected = relevant_markers(sent)
        pids, threads = report("Concurrent RelevantOnly", sent, len(seen), elapsed, who,
                               expected, "; %d entry files" % len(files))
        expect_spread(pids, threads, "Concurrent")
        expect(set(seen) == expected, "index: %d missing, %d not expected" % (
            len(expected - set(seen)), len(set(seen) - expected)))
        expect(len(files) == len(seen), "%d entry files for %d index lines" % (len(files),
                                                                               len(seen)))


# ---- 4. Piped SecAuditLog ------------------------------------------------------------------------

def test_logs_piped_audit_log():
    out_dir = Path(tempfile.mkdtemp(prefix="parapet-logs-pipe-"))
    out = out_dir / "audit-from-pipe.log"
    script = "#!/bin/sh\n# Appends what Parapet pipes to it.\nexec cat >> '%s'\n" % out
    snippet = load_snippet('SecAuditEngine RelevantOnly\n'
                           'SecAuditLog "|@ROOT@/bin/append-audit.sh"\n')

    def prepare(srv):
        os.chmod(srv.root / "bin" / "append-audit.sh", 0o755)
    try:
        with Server(snippet, "logs-pipe", prepare=prepare,
                    files={"bin/append-audit.sh": script}) as srv:
            sent, elapsed, who = drive(srv, 3.0, seed=6)
            errmsgs = error_messages(srv)
            expected = relevant_markers(sent)
            # Every record is in the pipe by now (who.log is written after the audit log);
            # stop at once: what the program has not read yet must be drained, not lost.
            at_stop = out.stat().st_size if out.exists() else 0
            stop_started = time.time()
        stop_s = time.time() - stop_started
        # Apache is gone (its pipe closed, the program drained and exited): the file is final.
        data = out.read_bytes()
        print("    pipe: %d KiB on disk when Apache was told to stop, %d KiB after (stop took "
              "%.1fs)" % (at_stop // KiB, len(data) // KiB, stop_s))
        recs = parse_native(data)
        check_native(recs, sent, who, errmsgs, expected)
        pids, threads = report("piped Serial Native", sent, len(recs), elapsed, who,
                               expected, "; %d KiB through the pipe" % (len(data) // KiB))
        expect_spread(pids, threads, "pipe")
        big = [r for r in recs if r.body is not None and len(r.body) > 16 * KiB]
        expect(big, "no record larger than PIPE_BUF went through the pipe")
        expect(len(recs) == len(expected), "records %d != relevant %d" % (len(recs),
                                                                         len(expected)))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


# ---- 5-9. One server for the single-request checks -----------------------------------------------

MISC = Group("logs-misc", snippet=MPM_AND_WHO + RULES + """
SecFilterSelective ARGS "limitprobe" "pass,log"
SecAuditEngine RelevantOnly
SecAuditLog "@ROOT@/logs/audit.log"
SecAuditLogRelevantStatus "^5"
SecGuardianLog "@ROOT@/logs/guardian.log"
SecFilterDebugLog "@ROOT@/logs/debug.log"
SecFilterDebugLevel 4
SecUploadKeepFiles RelevantOnly
<Location /off>
    SecFilterEngine Off
</Location>
<Location /dbg0>
    SecFilterDebugLevel 0
</Location>
<Location /dbg1>
    SecFilterDebugLevel 1
</Location>
""", files={"htdocs/off/index.html": "engine off\n", "htdocs/dbg0/index.html": "dbg0\n",
            "htdocs/dbg1/index.html": "dbg1\n"})

_seq = [0]


def new_marker():
    _seq[0] += 1
    return "t99n%d%d" % (os.getpid() % 1000, _seq[0])


def send(srv, method, path, body=None, headers=None):
    """One request with a fresh marker in m=; returns (marker, response, unique id)."""
    marker = new_marker()
    sep = "&" if "?" in path else "?"
    hdrs = {"X-Marker": marker, "User-Agent": UA}
    hdrs.update(headers or {})
    resp = srv.request(method, "%s%sm=%s" % (path, sep, marker), body=body, headers=hdrs)
    line = wait_for(lambda: read_who(srv).get(marker), timeout=10)
    expect(line, "no who.log line for %s" % marker)
    expect(re.fullmatch(r"[A-Za-z0-9@_-]{19,}", line[2]), "UNIQUE_ID %r: is mod_unique_id "
           "loaded?" % line[2])
    return marker, resp, line[2]


def records_for(srv, uid):
    try:
        data = (srv.root / "logs" / "audit.log").read_bytes()
    except OSError:
        return []
    return [r for r in parse_native(data) if r.uid == uid]


@MISC.test
def test_logs_body_limit(srv):
    limit = body_limit()
    body = ("p=limitprobe&pad=" + "L" * (200 * KiB)).encode()
    marker, resp, uid = send(srv, "POST", "/index.html", body=body, headers=FORM)
    expect(resp.status == 200, "status %d" % resp.status)
    recs = records_for(srv, uid)
    expect(len(recs) == 1, "%d records for the 200 KB request" % len(recs))
    rec = recs[0]
    expect(rec.body is not None and len(rec.body) <= limit, "logged %s bytes, limit %d" % (
        None if rec.body is None else len(rec.body), limit))
    expect(rec.body == body[:len(rec.body)], "logged body is not the start of the sent one")
    expect(rec.count_notes == b" (truncated; %d bytes)" % len(body),
           "count line notes %r" % rec.count_notes)
    print("    200 KB body: record holds %d bytes (limit %d), count line %r" % (
        len(rec.body), limit, (b"%d" % len(rec.body) + rec.count_notes).decode()))


def frame_by_boundary(data):
    """The UNIQUE_ID lines of the records a reader finds when it frames them by boundary alone
    (the opening line names it, the record runs to its own closing line; no body count)."""
    uids, close, want_uid = [], None, False
    for text in data.split(b"\n")[:-1]:
        if want_uid:
            uids.append(text)
            want_uid = False
        elif close is not None:
            if text == close:
                close = None
        else:
            m = OPEN_RE.match(text)
            expect(m, "audit log line outside any record: %r" % text[:80])
            close, want_uid = b"--" + m.group(1) + b"--", True
    expect(close is None, "last record not closed")
    return uids


@MISC.test
def test_logs_forged_serial_record(srv):
    """Attack run 1.11 (D12): an urlencoded body carrying whole records, in the old layout and
    with a made-up boundary, stays inside the real record."""
    fake = (b'Request: 10.0.0.1 10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /admin HTTP/1.1" '
            b'200 0\nHandler: -\n' + SEP_DASH + b'\nGET /admin HTTP/1.1\n\nHTTP/1.1 200 OK\n')
    body = (b"a=limitprobe&b=\n" + b"=" * 40 + b"\nUNIQUE_ID: FORGED-RECORD\n" + fake +
            b"==deadbeef" + b"=" * 30 + b"\nUNIQUE_ID: FORGED-BOUNDARY\n" + fake +
            b"--deadbeef--\n&id=1+union+select+2")
    _, resp, uid = send(srv, "POST", "/index.html", body=body, headers=FORM)
    expect(resp.status == 403, "status %d" % resp.status)
    _, resp, uid2 = send(srv, "GET", "/index.html?p=limitprobe")
    recs = records_for(srv, uid)
    expect(len(recs) == 1 and recs[0].body == body, "record of the forging request: %r" % recs)
    uids = frame_by_boundary((srv.root / "logs" / "audit.log").read_bytes())
    forged = [u for u in uids if b"FORGED" in u]
    expect(not forged, "forged records found: %r" % forged)
    expect(b"UNIQUE_ID: " + uid.encode() in uids and b"UNIQUE_ID: " + uid2.encode() in uids,
           "the real records are not framed: %r" % uids)
    print("    %d records framed by boundary, none forged" % len(uids))


@MISC.test
def test_logs_relevant_status(srv):
    _, resp, uid500 = send(srv, "GET", "/cgi-bin/echo.py?status=500")
    expect(resp.status == 500, "CGI status %d" % resp.status)
    _, resp, uid404 = send(srv, "GET", "/no-such-page")
    expect(resp.status == 404, "status %d" % resp.status)
    _, resp, uid200 = send(srv, "GET", "/cgi-bin/echo.py?status=200")
    recs = records_for(srv, uid500)
    expect(len(recs) == 1, "500 without a rule match: %d records" % len(recs))
    expect(int(recs[0].status_line.group(1)) == 500 and recs[0].header("mod_security-message")
           == [], "record of the 500: %r" % recs[0].status_line.group(0))
    expect(records_for(srv, uid404) == [], "the 404 was logged")
    expect(records_for(srv, uid200) == [], "the 200 was logged")


GUARDIAN_RE = re.compile(
    r'^(\S+) (\S+) (\S+) (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
    r'"(.*)" (\d{3}|-) (\d+|-) "(.*)" "(.*)" (\S+) "(.*)" (\d+) (\d+) "(.*)" (\d+)( L)?$')


def guardian_lines(srv):
    out = {}
    text = (srv.root / "logs" / "guardian.log").read_text(errors="replace")
    for line in text.splitlines():
        m = GUARDIAN_RE.match(line)
        expect(m, "guardian line does not parse: %r" % line)
        out.setdefault(m.group(11), []).append(m)
    return out


@MISC.test
def test_logs_guardian(srv):
    reqs = [("GET", "/index.html", 200, None), ("GET", "/index.html?q=<script>", 403, None),
            ("GET", "/cgi-bin/echo.py?sleep=0.3", 200, None),
            ("GET", "/off/index.html?q=<script>", 200, None),   # SecFilterEngine Off
            ("POST", "/index.html", 200, b"a=1&b=2")]
    seen = []
    for method, path, status, body in reqs:
        marker, resp, uid = send(srv, method, path, body=body,
                                 headers=dict(FORM, Referer="http://ref.example/g") if body
                                 else {"Referer": "http://ref.example/g"})
        expect(resp.status == status, "%s %s: %d" % (method, path, resp.status))
        seen.append((marker, uid, method, path, status))
    lines = guardian_lines(srv)
    who = read_who(srv)
    for uid, ms in lines.items():
        expect(len(ms) == 1, "%d guardian lines for %s" % (len(ms), uid))
    for marker, uid, method, path, status in seen:
        ms = lines.get(uid)
        expect(ms, "no guardian line for %s %s (%s)" % (method, path, uid))
        m = ms[0]
        expect(m.group(1) == "127.0.0.1" and m.group(2) == "127.0.0.1", "vhost/host %r %r"
               % (m.group(1), m.group(2)))
        expect(m.group(3) == "-" and m.group(4) == "-", "ident/user %r" % m.group(0))
        sep = "&" if "?" in path else "?"
        expect(m.group(6) == "%s %s%sm=%s HTTP/1.1" % (method, path, sep, marker),
               "request line %r" % m.group(6))
        expect(m.group(7) == str(status), "status %r" % m.group(7))
        expect(m.group(9) == "http://ref.example/g" and m.group(10) == UA,
               "referer/UA %r %r" % (m.group(9), m.group(10)))
        expect((m.group(12), m.group(15), m.group(16), m.group(17)) == ("-", "-", "0", None),
               "placeholders %r" % m.group(0))
        t, d = int(m.group(13)), int(m.group(14))
        access_d = who[marker][4]
        expect(0 < d <= access_d and t == d // 1000000, "%%T %d %%D %d, access log %%D %d"
               % (t, d, access_d))
        if "sleep=0.3" in path:
            expect(d >= 300000, "%%D %d for a request that took 300 ms" % d)
    print("    guardian: %d lines checked; %%D of the 300 ms CGI = %s us" % (
        len(seen), lines[seen[2][1]][0].group(14)))


DEBUG_RE = re.compile(r"^\[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "
                      r"\[([^/\]]+)/sid#(?:0x)?[0-9a-f]+\]\[rid#([^\]]*)\]\[(.*)\]\[(\d)\] (.*)$")


def debug_lines(srv):
    out = []
    for line in (srv.root / "logs" / "debug.log").read_text(errors="replace").splitlines():
        m = DEBUG_RE.match(line)
        expect(m, "debug line does not parse: %r" % line)
        out.append(m)
    return out


@MISC.test
def test_logs_debug_log(srv):
    mk4, resp, uid4 = send(srv, "GET", "/index.html?q=<script>")
    expect(resp.status == 403, "level 4 denial %d" % resp.status)
    _, resp, uid0 = send(srv, "GET", "/dbg0/index.html?q=<script>")
    expect(resp.status == 403, "level 0 denial %d" % resp.status)
    _, resp, uid0b = send(srv, "GET", "/dbg0/index.html?p=passlog")
    _, resp, uid1 = send(srv, "GET", "/dbg1/index.html?q=<script>")
    expect(resp.status == 403, "level 1 denial %d" % resp.status)
    lines = debug_lines(srv)
    known = {w[2] for w in read_who(srv).values()}
    unknown = [m.group(0) for m in lines if m.group(3) not in known]
    expect(not unknown, "debug lines with a rid that is no request's UNIQUE_ID: %r"
           % unknown[:3])
    by = {}
    for m in lines:
        by.setdefault(m.group(3), []).append(m)
    l4 = by.get(uid4, [])
    expect(l4 and {m.group(5) for m in l4} >= {"1", "4"}, "level 4: lines %r" % [
        m.group(0) for m in l4])
    expect(all(m.group(4) == "/index.html?q=<script>&m=" + mk4 for m in l4),
           "uri field %r" % l4[0].group(4))
    expect(all(m.group(2) == "127.0.0.1" for m in lines), "host field %r" % lines[0].group(2))
    expect(any(m.group(5) == "1" and m.group(6).startswith(MSG_SCRIPT) for m in l4),
           "level 4: no denial line")
    expect(uid0 not in by and uid0b not in by, "SecFilterDebugLevel 0 wrote: %r" % [
        m.group(0) for m in by.get(uid0, []) + by.get(uid0b, [])])
    l1 = by.get(uid1, [])
    expect(l1 and all(m.group(5) == "1" for m in l1), "level 1 lines %r" % [m.group(0)
                                                                            for m in l1])
    expect(any(m.group(6).startswith(MSG_SCRIPT) for m in l1), "level 1: no denial line")
    errs = error_messages(srv)
    expect(any(e.startswith(MSG_SCRIPT) for e in errs.get(uid1, [])),
           "level-1 denial not in the error log: %r" % errs.get(uid1))
    expect(any(e.startswith(MSG_SCRIPT) for e in errs.get(uid0, [])),
           "denial at debug level 0 not in the error log")
    print("    debug: %d lines for the level-4 request, %d for level 1, 0 for level 0" % (
        len(l4), len(l1)))


def uploaded_files(srv, uid):
    return sorted(p for p in (srv.root / "data").iterdir() if uid in p.name)


@MISC.test
def test_logs_keep_files_relevant_only(srv):
    cases = [("passlog", True, [MSG_PASS], 200), ("plain", False, [], 200),
             ("quietlog", False, [], 200), ("<script>", True, [MSG_SCRIPT], 403)]
    results = []
    for text, keep, msgs, status in cases:
        marker = new_marker()
        ctype, body, content = multipart(marker, text)
        resp = srv.request("POST", "/cgi-bin/echo.py?m=%s" % marker, body=body,
                           headers={"Content-Type": ctype, "X-Marker": marker})
        expect(resp.status == status, "%s upload: %d %r" % (text, resp.status, resp.body[:200]))
        line = wait_for(lambda: read_who(srv).get(marker))
        expect(line, "no who.log line for %s" % marker)
        uid = line[2]
        if status == 200:
            expect(resp.json()["unique_id"] == uid, "CGI saw UNIQUE_ID %r, who.log %r" % (
                resp.json()["unique_id"], uid))
        results.append((text, keep, msgs, uid, content))
    # A 500 (SecAuditLogRelevantStatus) makes an upload relevant as well.
    marker = new_marker()
    ctype, body, content = multipart(marker, "plain")
    resp = srv.request("POST", "/cgi-bin/echo.py?status=500&m=%s" % marker, body=body,
                       headers={"Content-Type": ctype})
    expect(resp.status == 500, "upload to the 500 CGI: %d" % resp.status)
    line = wait_for(lambda: read_who(srv).get(marker))
    expect(line, "no who.log line for %s" % marker)
    results.append(("status 500", True, [], line[2], content))
    for text, keep, msgs, uid, content in results:
        if keep:
            files = uploaded_files(srv, uid)
            expect(len(files) == 1 and files[0].read_bytes() == content,
                   "%s: kept files %r" % (text, files))
            mode = stat.S_IMODE(files[0].stat().st_mode)
            expect(mode == 0o640, "%s: kept file mode %o" % (text, mode))
        else:
            expect(wait_for(lambda: not uploaded_files(srv, uid), timeout=5),
                   "%s: file left behind %r" % (text, uploaded_files(srv, uid)))
        recs = records_for(srv, uid)
        expect(len(recs) == (1 if keep else 0), "%s: %d audit records" % (text, len(recs)))
        if keep:
            got = recs[0].header("mod_security-message")
            expect(len(got) == len(msgs) and all(g.startswith(w) for g, w in zip(got, msgs)),
                   "%s: messages %r" % (text, got))
            expect(len(recs[0].files) == 1, "%s: File lines %r" % (text, recs[0].files))
    quiet_uid = results[2][3]
    expect(any(e.startswith(MSG_QUIET) for e in error_messages(srv).get(quiet_uid, [])),
           "the pass,log,noauditlog match was not logged to the error log")


# ---- debug level 0 for the whole server ---------------------------------------------------------

def test_logs_debug_level_zero_writes_nothing():
    snippet = MPM_AND_WHO + RULES + ('SecFilterDebugLog "@ROOT@/logs/debug.log"\n'
                                     'SecFilterDebugLevel 0\n')
    with Server(snippet, "logs-debug0") as srv:
        sent, elapsed, _ = drive(srv, 1.0, seed=7, threads=8)
        size = (srv.root / "logs" / "debug.log").stat().st_size
        denials = sum(1 for m in error_messages(srv).values() for e in m
                      if e.startswith("Access denied"))
        print("    debug level 0: %d requests (%d denials in the error log), debug.log %d "
              "bytes" % (len(sent), denials, size))
        expect(size == 0, "SecFilterDebugLevel 0 wrote %d bytes" % size)
        expect(denials > 0, "no denial reached the error log")
