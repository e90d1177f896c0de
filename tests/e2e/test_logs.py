"""Logs under concurrent load through a real Apache (reference §1.3, §9, §10, §11): Serial
Native, JSON and Concurrent audit logs and a piped SecAuditLog, with two event-MPM children of
16 threads each and 32 client threads; every record is parsed back and matched to its request.
What they share is in logs_common.py; the single-request checks are in test_logs_misc.py.
"""

import hashlib
import json
import os
import pwd
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

from harness import CHILD_USER, running_as_root, wait_for
from logs_common import (check_messages, check_native, child_owned_dir, debug_lines, drive,
                         error_messages, expect, expect_spread, FORM, guardian_lines, KiB,
                         load_snippet, MARKER_RE, parse_native, relevant_markers, report, Server,
                         UA)


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
