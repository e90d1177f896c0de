"""Logs, one request at a time on one server (reference §9-§11): the audit body limit, a forged
Serial record, relevant statuses, the guardian and debug logs, kept files with RelevantOnly, and
debug level 0. What they share with the load tests is in logs_common.py.
"""

import os
import re
import stat

from harness import Group, wait_for
from logs_common import (body_limit, debug_lines, drive, error_messages, expect, FORM,
                         guardian_lines, KiB, MPM_AND_WHO, MSG_PASS, MSG_QUIET, MSG_SCRIPT,
                         multipart, OPEN_RE, parse_native, read_who, RULES, SEP_DASH, Server, UA)


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
