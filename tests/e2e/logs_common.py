"""What the log tests share (test_logs.py, test_logs_misc.py): the servers' configuration, the
traffic the load tests drive and what the server says about it, strict parsers of the audit,
guardian and debug logs, and the checks of records against what was sent.

Logs end to end: audit (Serial Native, JSON, Concurrent, piped), guardian and debug logs
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
import os
import pwd
import random
import re
import threading
import time

from harness import CHILD_USER, REPO, Apache, running_as_root, wait_for

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


# ---- the guardian and debug logs, line by line ----------------------------------------------

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


DEBUG_RE = re.compile(r"^\[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "
                      r"\[([^/\]]+)/sid#(?:0x)?[0-9a-f]+\]\[rid#([^\]]*)\]\[(.*)\]\[(\d)\] (.*)$")


def debug_lines(srv):
    out = []
    for line in (srv.root / "logs" / "debug.log").read_text(errors="replace").splitlines():
        m = DEBUG_RE.match(line)
        expect(m, "debug line does not parse: %r" % line)
        out.append(m)
    return out
