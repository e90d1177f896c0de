#!/usr/bin/env python3
"""Soak test: Apache + Parapet under sustained mixed traffic, then the disk-full fault test.

Usage: soak.py [SECONDS] (default 600; `make soak SOAK_SECONDS=120`).

One Apache (tests/e2e/harness.py, event MPM) runs a 1.9 configuration: SecFilterEngine On,
SecFilterScanPOST On, SecFilterDefaultAction "deny,log,status:403", 20 rules of our own plus the
shared 100-rule set (Include), uploads to a private SecUploadDir with SecUploadKeepFiles Off and
an approval script that rejects files containing EVIL. The harness gives Apache one child with
16 threads; the soak raises that to two children of 40 threads (MaxConnectionsPerChild 0,
MaxSpareThreads = MaxRequestWorkers), so 64 client connections are served at once and the set of
processes stays the same for the whole run, which is what makes per-child RSS comparable.
MaxMemFree is lowered to 128 KB (see SNIPPET) so that allocator caches do not pass for a leak.

64 client threads run for the duration: 56 send a weighted mix (benign GETs with arguments,
benign urlencoded POSTs on keep-alive connections, attacks, clean and EVIL multipart uploads,
aborted uploads, chunked POSTs and uploads), 8 are slow clients that send headers and bodies a
byte or a small piece at a time with pauses well inside Apache's Timeout. Every request carries
k=<kind> in its query so the access log can be tallied per kind as well. The run opens with
a warm-up burst (kind "prime"): 96 connections at once, each sending the largest form (plain and
chunked), a two-file upload and a denied upload, so every worker thread's memory reaches its
working size inside the warm-up. No TRACE among the
attacks: httpd answers TRACE in map_to_storage, before any module's fixups (TraceEnable Off is
the remedy, not a rule).

Checks at the end (each a PASS/FAIL line, then `SOAK: N passed, N failed`): every reply had an
expected status and, for the echo CGI, byte-identical bodies (SHA-256); no 5xx, neither seen by a
client nor in the access log; at least 50 concurrent connections were reached; SecUploadDir
(which is also where bodies spill, in nameless files only a descriptor shows) is empty after a grace period; no child holds
a deleted or upload file open and each is back to its pre-load descriptor count; no zombie or
leftover process; the child processes never changed; total and per-child RSS grew < 5 % from the
first sample after the warm-up (20 % of the run) to the average of the last samples (a sample is
the mean of ten one-second readings: requests in flight swing RSS by MB from second to second);
the error log has no crash line. The least-squares RSS trend is printed too.

Options: --skip-disk-full, --only-disk-full. PARAPET_SOAK_DUMP=FILE writes the per-second RSS
readings and the counts as JSON. PARAPET_BENCH_RULES overrides where ms19-100.conf is.

Standard library only. Everything it starts is stopped by PID; the temporary root is removed.
"""
import argparse
import collections
import json
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import harness  # noqa: E402

DEFAULT_SECONDS = 600
MIXED_THREADS = 56
SLOW_THREADS = 8
SAMPLE_EVERY_S = 10
WARMUP_FRACTION = 0.2
RSS_GROWTH_LIMIT = 0.05
MIN_CONCURRENCY = 50
LEAK_GRACE_S = 10
FD_SLACK = 2
PRIME_CONNECTIONS = 96      # more than MaxRequestWorkers (80): every worker thread gets one
KiB = 1024
MiB = 1024 * 1024
# Largest benign urlencoded body. Past SecUploadInMemoryLimit (128 KiB), so the spill path runs,
# but small enough that the few MB an urlencoded body costs in flight (parsed and normalised
# copies, about 4x its size) do not drown the RSS trend in noise.
FORM_MAX_BYTES = 160 * KiB

SNIPPET = """
# ---- soak: two stable children, 80 threads; none is ever recycled or retired ----
<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 2
    ThreadLimit 40
    ThreadsPerChild 40
    MaxRequestWorkers 80
    MinSpareThreads 1
    MaxSpareThreads 80
    MaxConnectionsPerChild 0
</IfModule>
ListenBacklog 511
# Freed memory each connection's allocator may keep for reuse (event MPM recycles one per
# connection, so about 100 here). At httpd's default of 2048 KB those caches fill over minutes
# as big requests reach them, RSS climbs towards 200 MB without any leak and a 5 % test says
# nothing; at 128 KB they are full within seconds and what still grows is a leak.
MaxMemFree 128

<IfModule mod_security.c>
    SecFilterEngine On
    SecFilterScanPOST On
    SecFilterDefaultAction "deny,log,status:403"
    SecUploadDir "@ROOT@/data/uploads"
    SecUploadKeepFiles Off
    SecUploadApproveScript "@ROOT@/bin/approve.sh"
    SecUploadApproveTimeout 20

    # Our own 20 rules (ids 9000xx), then the shared 100.
    SecFilter "soak-forbidden-token" "id:900001,msg:'soak: forbidden token'"
    SecFilter "<[[:space:]]*script" "id:900002,msg:'soak: script tag'"
    SecFilterSelective ARGS "union.+select" "id:900003,msg:'soak: union select'"
    SecFilterSelective ARGS_NAMES "^(cmd|exec|shell)$" "id:900004,msg:'soak: command argument'"
    SecFilterSelective ARG_debug "^(1|on|true)$" "id:900005,msg:'soak: debug switch'"
    SecFilterSelective POST_PAYLOAD "drop-the-table" "id:900006,msg:'soak: payload keyword'"
    SecFilterSelective HTTP_User-Agent "^evilbot" "id:900007,msg:'soak: bad robot'"
    SecFilterSelective HTTP_X-Soak-Attack "." "id:900008,msg:'soak: attack header'"
    SecFilterSelective COOKIE_session "\\.\\./" "id:900009,msg:'soak: traversal in cookie'"
    SecFilterSelective REQUEST_URI "/forbidden/" "id:900010,msg:'soak: forbidden path'"
    SecFilterSelective HEADERS_NAMES "^X-Evil-" "id:900011,msg:'soak: evil header name'"
    SecFilterSelective FILES_NAMES "\\.(php|phtml|exe)$" "id:900012,msg:'soak: executable upload'"
    SecFilterSelective FILES_SIZES "^[0-9]{9,}$" "id:900013,msg:'soak: upload too large'"
    SecFilterSelective ARGS_VALUES "etc/shadow" "id:900014,msg:'soak: shadow file'"
    SecFilterSelective REQUEST_METHOD "^(PROPFIND|MKCOL)$" "id:900015,msg:'soak: WebDAV method'"
    SecFilterSelective "ARGS|HTTP_Referer" "javascript:" "id:900016,msg:'soak: javascript URI'"
    SecFilterSelective ARG_stage "^one$" "id:900017,chain,msg:'soak: chained stages'"
    SecFilterSelective ARG_next "^two$" "id:900018"
    SecFilterSelective ARG_k "^post$" "id:900019,pass,nolog,setenv:soak-post=1"
    SecFilterSelective REMOTE_ADDR "^10\\.99\\." "id:900020,msg:'soak: never matches'"

    Include "@RULES19@"
</IfModule>
"""

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "hello", "world", "report",
         "summary", "blue", "green", "2024", "42", "page", "item", "north", "south", "tea"]
NAMES = ["name", "page", "item", "note", "lang", "color", "size", "city", "ref", "title"]


def benign_query(rng, kind, n=None):
    pairs = [("k", kind)]
    for _ in range(n if n is not None else rng.randint(1, 6)):
        pairs.append((common.pick(rng, NAMES),
                      "+".join(common.pick(rng, WORDS) for _ in range(rng.randint(1, 4)))))
    return "&".join("%s=%s" % p for p in pairs)


def benign_form(rng, kind, size):
    body = benign_query(rng, kind).encode()
    if size > len(body):
        body += b"&blob=" + b"abcdefghij" * ((size - len(body)) // 10 + 1)
    return body


# ---- the run -------------------------------------------------------------------------------

class Soak:
    def __init__(self, srv, seconds):
        self.srv = srv
        self.port = srv.port
        self.seconds = seconds
        self.lock = threading.Lock()
        self.counts = collections.Counter()    # (kind, status) -> requests
        self.problems = collections.Counter()  # kind -> unexpected outcomes
        self.examples = []                     # first problems, for the report
        self.keepalive_retries = 0
        self.stop = threading.Event()
        self.rss = []                          # (t, {pid: kB})
        self.conn_samples = []
        self.child_sets = []
        self.fd_counts = []                    # (t, {pid: open fds})
        self.rss_seconds = []                  # (t, {pid: kB}) every second
        self.started = None

    def record(self, kind, status, problem=None):
        with self.lock:
            self.counts[(kind, status)] += 1
            if problem is not None:
                self.problems[kind] += 1
                if len(self.examples) < 25:
                    self.examples.append("%s [%s]: %s" % (kind, status, problem))

    # -- validation ------------------------------------------------------------------------

    def expect(self, kind, reply, statuses, body=None, query=None, marker=None):
        """Records one reply: status in statuses; for an echo-CGI 200, the body's SHA-256 and
        length (body) or the query string (query) must match what was sent."""
        problem = None
        if reply.status not in statuses:
            problem = "expected %s, got %d: %r" % (sorted(statuses), reply.status,
                                                   reply.body[:160])
        elif reply.status == 200 and (body is not None or query is not None):
            try:
                got = json.loads(reply.body.decode("utf-8"))
            except ValueError:
                got = None
            if got is None:
                problem = "echo CGI answered no JSON: %r" % reply.body[:160]
            elif body is not None and (got["body_sha256"] != common.sha256(body)
                                       or got["body_length"] != len(body)):
                problem = "body differs at the CGI: sent %d bytes, CGI got %s" % (
                    len(body), got["body_length"])
            elif query is not None and got["query"] != query:
                problem = "query differs at the CGI: %r" % got["query"]
        elif reply.status == 200 and marker is not None and marker not in reply.body:
            problem = "unexpected page: %r" % reply.body[:160]
        self.record(kind, reply.status, problem)

    # -- request kinds (each sends one request and records it) -------------------------------

    def get_benign(self, rng, state):
        kind = "get"
        query = benign_query(rng, kind)
        headers = []
        if rng.random() < 0.3:
            headers.append(("Cookie", "session=%08x; theme=dark" % rng.getrandbits(32)))
        if rng.random() < 0.3:
            headers.append(("Referer", "http://127.0.0.1/%s.html" % common.pick(rng, WORDS)))
        if rng.random() < 0.5:
            reply = self.keepalive(state, "GET", "/index.html?" + query, headers)
            self.expect(kind, reply, {200}, marker=b"parapet e2e")
        else:
            reply = self.keepalive(state, "GET", "/cgi-bin/echo.py?" + query, headers)
            self.expect(kind, reply, {200}, query=query)

    def post_benign(self, rng, state):
        kind = "post"
        size = (rng.randint(60 * KiB, FORM_MAX_BYTES) if rng.random() < 0.2
                else rng.randint(40, 4000))
        body = benign_form(rng, kind, size)
        reply = self.keepalive(state, "POST", "/cgi-bin/echo.py?k=post", [
            ("Content-Type", "application/x-www-form-urlencoded")], body)
        self.expect(kind, reply, {200}, body=body)

    ATTACKS = [
        ("GET", "/cgi-bin/echo.py?k=attack&q=<script>alert(1)</script>", [], None),
        ("GET", "/index.html?k=attack&id=1+union+all+select+password+from+users", [], None),
        ("GET", "/cgi-bin/echo.py?k=attack&file=../../etc/passwd", [], None),
        ("GET", "/index.html?k=attack&x=1;cat+/etc/shadow", [], None),
        ("GET", "/index.html?k=attack&cmd=ls", [], None),
        ("GET", "/index.html?k=attack&debug=1", [], None),
        ("GET", "/index.html?k=attack&stage=one&next=two", [], None),
        ("GET", "/index.html?k=attack", [("User-Agent", "sqlmap/1.7")], None),
        ("GET", "/index.html?k=attack", [("X-Soak-Attack", "yes")], None),
        ("GET", "/index.html?k=attack", [("X-Evil-Thing", "1")], None),
        ("GET", "/index.html?k=attack", [("Cookie", "session=../../x")], None),
        ("GET", "/index.html?k=attack", [("Referer", "javascript:alert(1)")], None),
        ("GET", "/forbidden/index.html?k=attack", [], None),
        ("GET", "/phpmyadmin/index.php?k=attack", [], None),
        ("GET", "/index.html?k=attack&t=soak-forbidden-token", [], None),
        ("DELETE", "/index.html?k=attack", [], None),
        ("PROPFIND", "/index.html?k=attack", [], None),
        ("POST", "/cgi-bin/echo.py?k=attack", [], b"comment=<script>x</script>"),
        ("POST", "/cgi-bin/echo.py?k=attack", [], b"q=1%27+or+%271%27%3D%271"),
        ("POST", "/cgi-bin/echo.py?k=attack", [], b"a=1&b=drop-the-table&c=3"),
        ("POST", "/cgi-bin/echo.py?k=attack", [], b"x=exec+xp_cmdshell+%27dir%27"),
    ]

    def attack(self, rng, state):
        kind = "attack"
        choice = rng.random()
        if choice < 0.15:
            # An attack in a multipart field, beside a clean file.
            body, ctype = common.multipart(rng, [("k", "attack"), ("comment",
                                                  "1 union select card from cards")],
                                           [("upload", "clean.bin",
                                             common.random_bytes(rng, rng.randint(1, 20) * KiB))])
            reply = common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=attack",
                                    [("Content-Type", ctype)], body)
        elif choice < 0.25:
            # A clean file under a forbidden name (FILES_NAMES): approved, then denied.
            body, ctype = common.multipart(rng, [("k", "attack")], [
                ("upload", "shell.php", common.random_bytes(rng, rng.randint(1, 100) * KiB))])
            reply = common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=attack",
                                    [("Content-Type", ctype)], body)
        else:
            method, target, headers, body = common.pick(rng, self.ATTACKS)
            if body is not None:
                headers = headers + [("Content-Type", "application/x-www-form-urlencoded")]
            reply = common.exchange(self.port, method, target, headers, body or b"")
        self.expect(kind, reply, {403})

    def upload_body(self, rng, kind, evil=False):
        """(body, content type) of an upload of 1-3 files; sizes stay mostly in memory, mostly
        spill, or reach 2 MB. With evil, one file contains EVIL."""
        files = []
        for i in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
            r = rng.random()
            size = (rng.randint(1, 40 * KiB) if r < 0.4 else
                    rng.randint(64 * KiB, 512 * KiB) if r < 0.9 else rng.randint(1 * MiB, 2 * MiB))
            files.append(["file%d" % i, "data-%d.bin" % rng.randint(0, 9999),
                          common.random_bytes(rng, size)])
        if evil:
            f = common.pick(rng, files)
            pos = rng.randrange(len(f[2]) + 1)
            f[2] = f[2][:pos] + b"EVIL" + f[2][pos:]
        fields = [("k", kind), ("title", "+".join(rng.sample(WORDS, 3)))]
        return common.multipart(rng, fields, [tuple(f) for f in files])

    def upload_clean(self, rng, state):
        kind = "upload"
        body, ctype = self.upload_body(rng, kind)
        reply = common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=upload",
                                [("Content-Type", ctype)], body)
        self.expect(kind, reply, {200}, body=body)

    def upload_evil(self, rng, state):
        kind = "upload_evil"
        body, ctype = self.upload_body(rng, kind, evil=True)
        reply = common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=upload_evil",
                                [("Content-Type", ctype)], body)
        self.expect(kind, reply, {403})

    def upload_aborted(self, rng, state):
        """Headers and part of a multipart body (urlencoded now and then, chunked now and
        then), then a FIN or a RST. There is no reply to check; the access log has one line."""
        chunked = rng.random() < 0.25
        kind = "abort_chunked" if chunked else "abort_upload"
        if rng.random() < 0.15 and not chunked:
            kind = "abort_post"
            body = benign_form(rng, kind, rng.randint(2 * KiB, 400 * KiB))
            ctype = "application/x-www-form-urlencoded"
        else:
            body, ctype = self.upload_body(rng, kind)
        headers = [("Content-Type", ctype)]
        if chunked:
            pieces = [body[i:i + 16 * KiB] for i in range(0, len(body), 16 * KiB)]
            payload = common.chunk_frames(pieces)[:-5]          # never the last chunk
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            payload = body
            headers.append(("Content-Length", str(len(body))))
        cut = rng.randint(0, len(payload) - 1)
        sock = common.connect(self.port)
        try:
            sock.sendall(common.request_head(self.port, "POST", "/cgi-bin/echo.py?k=" + kind,
                                             headers) + payload[:cut])
            time.sleep(rng.uniform(0, 0.3))
        except OSError:
            pass
        finally:
            common.abort(sock, reset=rng.random() < 0.5)
        self.record(kind, "aborted")

    def chunked(self, rng, state):
        r = rng.random()
        if r < 0.6:
            kind = "chunked_post"
            body = benign_form(rng, kind, rng.randint(100, FORM_MAX_BYTES))
            ctype = "application/x-www-form-urlencoded"
        elif r < 0.8:
            kind = "chunked_upload"
            body, ctype = self.upload_body(rng, kind)
        else:
            kind = "chunked_attack"
            body = b"k=chunked_attack&q=" + b"x" * rng.randint(0, 5000) + b"&c=<scr" + b"ipt>"
            ctype = "application/x-www-form-urlencoded"
        pieces, off = [], 0
        while off < len(body):
            n = rng.randint(1, 32 * KiB)
            pieces.append(body[off:off + n])
            off += n
        reply = common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=" + kind,
                                [("Content-Type", ctype)], chunks=pieces)
        if kind == "chunked_attack":
            self.expect(kind, reply, {403})
        else:
            self.expect(kind, reply, {200}, body=body)

    # -- slow clients ----------------------------------------------------------------------

    def slow(self, rng, state):
        """Headers a byte at a time, then the body slowly: each pause is at most a few tenths
        of a second (Apache's Timeout is 60 s), a whole request takes 2-8 s."""
        r = rng.random()
        ctype = "application/x-www-form-urlencoded"
        if r < 0.25:
            kind, method, statuses = "slow_get", "GET", {200}
            query = benign_query(rng, kind, 3)
            head = common.request_head(self.port, method, "/cgi-bin/echo.py?" + query,
                                       [("Connection", "close")])
            body, piece, pause = b"", 1, 0
        elif r < 0.5:
            kind, method, statuses = "slow_post", "POST", {200}
            body = benign_form(rng, kind, rng.randint(100, 400))
            piece, pause = 1, 0.01
        elif r < 0.75:
            kind, method, statuses = "slow_upload", "POST", {200}
            body, ctype = common.multipart(rng, [("k", kind)], [
                ("file", "slow.bin", common.random_bytes(rng, rng.randint(8, 100) * KiB))])
            piece, pause = 2 * KiB, 0.05
        elif r < 0.9:
            kind, method, statuses = "slow_attack", "POST", {403}
            body = b"k=slow_attack&q=" + b"y" * rng.randint(0, 200) + b"&z=1+union+select+1"
            piece, pause = 1, 0.01
        else:
            return self.slow_abort(rng)
        if method == "POST":
            head = common.request_head(self.port, method, "/cgi-bin/echo.py?k=" + kind, [
                ("Content-Type", ctype), ("Content-Length", str(len(body))),
                ("Connection", "close")])
            query = None
        sock = common.connect(self.port)
        try:
            common.send_slowly(sock, head, 1, 0.015, rng)
            if body:
                common.send_slowly(sock, body, piece, pause, rng)
            reply = common.read_reply(sock, method)
        finally:
            sock.close()
        if kind == "slow_get":
            self.expect(kind, reply, statuses, query=query)
        else:
            self.expect(kind, reply, statuses, body=body if 200 in statuses else None)

    def slow_abort(self, rng):
        kind = "slow_abort"
        body, ctype = common.multipart(rng, [("k", kind)], [
            ("file", "slow.bin", common.random_bytes(rng, rng.randint(64, 256) * KiB))])
        head = common.request_head(self.port, "POST", "/cgi-bin/echo.py?k=" + kind, [
            ("Content-Type", ctype), ("Content-Length", str(len(body)))])
        sock = common.connect(self.port)
        try:
            common.send_slowly(sock, head, 4, 0.02, rng)
            common.send_slowly(sock, body[:rng.randint(1, len(body) - 1)], 8 * KiB, 0.05, rng)
        except OSError:
            pass
        finally:
            common.abort(sock, reset=rng.random() < 0.5)
        self.record(kind, "aborted")

    # -- keep-alive connection per thread ---------------------------------------------------

    def keepalive(self, state, method, target, headers, body=None):
        """A request on the thread's persistent connection; one retry on a fresh connection if
        the server had closed the idle one (KeepAliveTimeout, MaxKeepAliveRequests)."""
        hdrs = dict(headers)
        hdrs["User-Agent"] = common.USER_AGENT
        while True:
            fresh = state.get("conn") is None
            if fresh:
                state["conn"] = common.http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=common.CLIENT_TIMEOUT_S)
            conn = state["conn"]
            try:
                conn.request(method, target, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except (common.http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError):
                conn.close()
                state["conn"] = None
                if fresh:
                    raise
                with self.lock:
                    self.keepalive_retries += 1
                continue
            if resp.will_close:
                conn.close()
                state["conn"] = None
            return common.Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)

    # -- threads ---------------------------------------------------------------------------

    MIX = [("get", get_benign, 25), ("post", post_benign, 15), ("attack", attack, 15),
           ("upload", upload_clean, 12), ("upload_evil", upload_evil, 5),
           ("abort", upload_aborted, 8), ("chunked", chunked, 12)]

    def worker(self, seed, slow):
        rng = common.new_rng(seed)
        state = {}
        fns = [m[1] for m in self.MIX]
        weights = [m[2] for m in self.MIX]
        while not self.stop.is_set():
            fn = Soak.slow if slow else rng.choices(fns, weights)[0]
            try:
                fn(self, rng, state)
            except Exception as err:  # a broken exchange is a finding, not a crash of the run
                name = "slow" if slow else fn.__name__
                self.record(name, "error:" + type(err).__name__,
                            "%s: %s" % (err, traceback.format_exc(limit=-2).strip()
                                        .splitlines()[-3:]))
                if state.get("conn") is not None:
                    state["conn"].close()
                    state["conn"] = None
        if state.get("conn") is not None:
            state["conn"].close()

    def sampler(self):
        """Every second: established connections, the set of children and their RSS. Every
        SAMPLE_EVERY_S the window's readings become one RSS sample, their mean per child and
        of the total: what requests in flight hold swings RSS by several MB from one second to
        the next, a leak moves the mean. The window's lowest and highest totals are kept."""
        window = []
        next_sample = time.time() + SAMPLE_EVERY_S
        while not self.stop.wait(1.0):
            now = time.time()
            self.conn_samples.append(common.established_connections(self.port) or 0)
            self.child_sets.append(frozenset(self.srv.children()))
            window.append(self.srv.children_rss_kb())
            self.rss_seconds.append((now - self.started, window[-1]))
            if now < next_sample:
                continue
            next_sample += SAMPLE_EVERY_S
            t = now - self.started
            pids = set().union(*window)
            mean = {pid: sum((r.get(pid) or 0) for r in window) / len(window) for pid in pids}
            totals = [sum(v for v in r.values() if v) for r in window]
            self.rss.append((t, mean, sum(totals) / len(totals), min(totals), max(totals)))
            window = []
            self.fd_counts.append((t, {pid: len(common.dir_entries("/proc/%d/fd" % pid))
                                       for pid in pids}))
            print("  t=%4.0fs  RSS total %7.0f kB (%d..%d)  %s  conns %d  requests %d" % (
                t, self.rss[-1][2], min(totals), max(totals),
                " ".join("%d:%.0f" % kv for kv in sorted(mean.items())),
                self.conn_samples[-1], sum(self.counts.values())), flush=True)

    def prime(self, seed):
        """One connection of the warm-up burst: the largest form, plain and chunked, a
        two-file upload and a denied one. PRIME_CONNECTIONS of these at once occupy every
        worker thread, so each one's allocator cache and malloc arena reaches its working size
        at the start instead of whenever a big request happens to land on it; the RSS baseline
        after the warm-up is then steady state, not half-way there."""
        rng = common.new_rng(seed)
        kind = "prime"
        try:
            body = benign_form(rng, kind, FORM_MAX_BYTES)
            form = [("Content-Type", "application/x-www-form-urlencoded")]
            self.expect(kind, common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=prime",
                                              form, body), {200}, body=body)
            pieces = [body[i:i + 8 * KiB] for i in range(0, len(body), 8 * KiB)]
            self.expect(kind, common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=prime",
                                              form, chunks=pieces), {200}, body=body)
            body, ctype = common.multipart(rng, [("k", kind)], [
                ("a", "a.bin", common.random_bytes(rng, 256 * KiB)),
                ("b", "b.bin", common.random_bytes(rng, 256 * KiB))])
            self.expect(kind, common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=prime",
                                              [("Content-Type", ctype)], body), {200}, body=body)
            body, ctype = common.multipart(rng, [("k", kind), ("q", "1 union select 2")], [
                ("a", "a.bin", common.random_bytes(rng, 64 * KiB))])
            self.expect(kind, common.exchange(self.port, "POST", "/cgi-bin/echo.py?k=prime",
                                              [("Content-Type", ctype)], body), {403})
        except Exception as err:  # recorded like any other broken exchange
            self.record(kind, "error:" + type(err).__name__, str(err))

    def run(self):
        self.started = time.time()
        sampler = threading.Thread(target=self.sampler, daemon=True)
        sampler.start()
        burst = [threading.Thread(target=self.prime, args=(9000 + i,), daemon=True)
                 for i in range(PRIME_CONNECTIONS)]
        for t in burst:
            t.start()
        for t in burst:
            t.join(2 * common.CLIENT_TIMEOUT_S)
        print("  warm-up burst: %d connections done in %.1f s" % (
            PRIME_CONNECTIONS, time.time() - self.started), flush=True)
        threads = [threading.Thread(target=self.worker, args=(1000 + i, False), daemon=True)
                   for i in range(MIXED_THREADS)]
        threads += [threading.Thread(target=self.worker, args=(5000 + i, True), daemon=True)
                    for i in range(SLOW_THREADS)]
        for t in threads:
            t.start()
        # The sampler's last RSS sample is taken at t = seconds (it stops with the load).
        time.sleep(max(0, self.started + self.seconds + 0.5 - time.time()))
        self.stop.set()
        deadline = time.time() + 2 * common.CLIENT_TIMEOUT_S
        for t in threads:
            t.join(max(0.1, deadline - time.time()))
        sampler.join(5)
        self.elapsed = time.time() - self.started
        return [t for t in threads if t.is_alive()]


# ---- reporting -----------------------------------------------------------------------------

ACCESS_RE = re.compile(r'^\S+ \[[^\]]*\] "(?P<line>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) ')
KIND_RE = re.compile(r"[?&]k=([a-z_]+)")


def access_tally(lines):
    tally = collections.Counter()
    for line in lines:
        m = ACCESS_RE.match(line)
        if not m:
            tally[("?unparsed", "-")] += 1
            continue
        k = KIND_RE.search(m.group("line"))
        tally[(k.group(1) if k else "-", int(m.group("status")))] += 1
    return tally


def print_table(title, tally):
    print(title)
    kinds = sorted({k for k, _ in tally})
    for kind in kinds:
        row = sorted(((s, n) for (k, s), n in tally.items() if k == kind), key=lambda x: str(x[0]))
        print("    %-16s %7d   %s" % (kind, sum(n for _, n in row),
                                      "  ".join("%s: %d" % (s, n) for s, n in row)))
    print("    %-16s %7d" % ("total", sum(tally.values())))


def rss_growth(samples, seconds):
    """Baseline: the first sample after the warm-up; final: the average of the last samples
    (at least 3, or a tenth of the run's). Returns (t0, tail times, total base, total final,
    {pid: (base, final)}) or None when there are too few samples."""
    # A sample covers the SAMPLE_EVERY_S before its time: the first one wholly after the warm-up.
    after = [s for s in samples if s[0] - SAMPLE_EVERY_S >= WARMUP_FRACTION * seconds - 1]
    if len(after) < 2:
        return None
    base = after[0]
    tail = after[1:][-max(3, len(samples) // 10):]
    per_pid = {}
    for pid, kb in base[1].items():
        vals = [s[1].get(pid) for s in tail]
        if kb and all(vals):
            per_pid[pid] = (kb, sum(vals) / len(vals))
    return base[0], [s[0] for s in tail], base[2], sum(s[2] for s in tail) / len(tail), per_pid


def rss_slope(readings, seconds):
    """Least-squares slope of the total RSS after the warm-up, in kB per minute (for the
    report: with one reading a second it shows a trend the 10 s samples hide in noise)."""
    pts = [(t, sum(v for v in r.values() if v)) for t, r in readings
           if t >= WARMUP_FRACTION * seconds]
    if len(pts) < 10:
        return None
    mx = sum(t for t, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((t - mx) ** 2 for t, _ in pts)
    return 60 * sum((t - mx) * (y - my) for t, y in pts) / sxx if sxx else None


def fd_counts(pids):
    return {pid: len(common.dir_entries("/proc/%d/fd" % pid)) for pid in pids}


def report(soak, checks, srv, uploads):
    print("\n== soak: %d s of load, %d client threads (%d slow) ==" % (
        soak.seconds, MIXED_THREADS + SLOW_THREADS, SLOW_THREADS))
    # The grace period first: what the children still do (a last log line, a last cleanup)
    # is over before anything is counted.
    left = common.wait_empty(uploads, LEAK_GRACE_S)
    time.sleep(1)
    total = sum(soak.counts.values())
    print_table("requests by kind and client-side status (%d in %.0f s, %.1f/s; %d keep-alive "
                "re-connects):" % (total, soak.elapsed, total / soak.elapsed,
                                   soak.keepalive_retries), soak.counts)
    log_tally = access_tally(srv.access_log_lines())
    print_table("access log by kind and status:", log_tally)
    if soak.examples:
        print("first unexpected outcomes:")
        for e in soak.examples:
            print("    " + e)

    kinds_seen = {k for (k, _) in soak.counts}
    wanted = {"get", "post", "attack", "upload", "upload_evil", "abort_upload", "abort_chunked",
              "chunked_post", "chunked_upload", "chunked_attack", "slow_get", "slow_post",
              "slow_upload", "slow_attack", "slow_abort"}
    checks.check("soak: every request kind ran", wanted <= kinds_seen,
                 "missing: %s" % sorted(wanted - kinds_seen) if wanted - kinds_seen else
                 "%d kinds" % len(kinds_seen))
    bad = sum(soak.problems.values())
    checks.check("soak: every reply had the expected status and body", bad == 0,
                 "%d unexpected of %d (%s)" % (bad, total, dict(soak.problems)))
    client_5xx = sum(n for (k, s), n in soak.counts.items() if isinstance(s, int) and s >= 500)
    log_5xx = {ks: n for ks, n in log_tally.items() if isinstance(ks[1], int) and ks[1] >= 500}
    checks.check("soak: no 5xx (client side and access log)", client_5xx == 0 and not log_5xx,
                 "client %d, access log %s" % (client_5xx, log_5xx or 0))
    peak = max(soak.conn_samples) if soak.conn_samples else 0
    mean = sum(soak.conn_samples) / len(soak.conn_samples) if soak.conn_samples else 0
    checks.check("soak: >= %d concurrent connections" % MIN_CONCURRENCY, peak >= MIN_CONCURRENCY,
                 "peak %d, mean %.1f established (sampled each second)" % (peak, mean))

    spill = [n for n in left if n.startswith("parapet-body-")]
    checks.check("soak: SecUploadDir empty after %d s" % LEAK_GRACE_S, not left,
                 "%d left: %s" % (len(left), left[:5]) if left else str(uploads))
    checks.check("soak: no parapet-body-* spill file left", not spill,
                 "%d left" % len(spill) if spill else "spill dir = SecUploadDir")
    held = common.open_files(srv.children(), under=uploads)
    checks.check("soak: no child holds a deleted or upload file open", not held,
                 "; ".join(held[:5]))
    leftovers = common.group_leftovers(srv)
    checks.check("soak: no zombie or leftover process (CGI, approval script)", not leftovers,
                 "; ".join(leftovers[:5]))

    sets = set(soak.child_sets)
    checks.check("soak: child processes never changed", len(sets) == 1,
                 "children %s" % sorted(next(iter(sets))) if len(sets) == 1 else
                 "%d different sets: %s" % (len(sets), [sorted(s) for s in sets][:4]))

    print("RSS samples (kB; each the mean of %d one-second readings, lowest..highest total):"
          % SAMPLE_EVERY_S)
    for t, rss, total, low, high in soak.rss:
        print("    t=%4.0fs total %7.0f (%d..%d)  %s" % (
            t, total, low, high, " ".join("%d:%.0f" % kv for kv in sorted(rss.items()))))
    fds_after = fd_counts(srv.children())
    grown = {pid: (soak.fds_before.get(pid), n) for pid, n in fds_after.items()
             if soak.fds_before.get(pid) is None or n > soak.fds_before[pid] + FD_SLACK}
    checks.check("soak: open descriptors per child back to the pre-load count", not grown,
                 "before %s, after %s, at load's end %s" % (
                     soak.fds_before, fds_after, soak.fd_counts[-1][1] if soak.fd_counts else {}))
    g = rss_growth(soak.rss, soak.seconds)
    if g is None:
        checks.check("soak: RSS flat", False, "too few samples (%d) for a warm-up and a tail"
                     % len(soak.rss))
    else:
        t0, tails, base, final, per_pid = g
        growth = (final - base) / base
        checks.check("soak: total RSS growth < %d %%" % (RSS_GROWTH_LIMIT * 100),
                     growth < RSS_GROWTH_LIMIT,
                     "%d kB at t=%.0fs -> %.0f kB (avg of t=%s): %+.2f %%" % (
                         base, t0, final, ",".join("%.0f" % t for t in tails), 100 * growth))
        slope = rss_slope(soak.rss_seconds, soak.seconds)
        if slope is not None:
            print("RSS trend after the warm-up (least squares, 1 s readings): %+.0f kB/min total"
                  % slope)
        worst = {pid: (f - b) / b for pid, (b, f) in per_pid.items()}
        checks.check("soak: per-child RSS growth < %d %%" % (RSS_GROWTH_LIMIT * 100),
                     per_pid and all(v < RSS_GROWTH_LIMIT for v in worst.values()),
                     " ".join("%d: %d->%.0f kB %+.2f%%" % (pid, *per_pid[pid], 100 * v)
                              for pid, v in sorted(worst.items())))

    errlog = srv.error_log()
    crashes = common.crash_lines(errlog)
    checks.check("soak: no crashed child in the error log", not crashes, "; ".join(crashes[:3]))
    summarize_error_log(errlog)


def summarize_error_log(text):
    kinds = collections.Counter()
    other = collections.Counter()
    for line in text.splitlines():
        m = re.match(r"^\[[^\]]*\] \[([^\]]*)\]", line)
        level = m.group(1) if m else "?"
        if "mod_security: Access denied" in line:
            kinds["parapet denials (%s)" % level] += 1
        else:
            kinds[level] += 1
            msg = re.sub(r"^(\[[^\]]*\] ){2,5}", "", line)
            msg = re.sub(r"/[^\s:()]+", "<path>", msg)
            msg = re.sub(r"\[unique_id \"[^\"]*\"\]|[0-9a-f]{6,}|\d+", "#", msg)
            other[msg[:150]] += 1
    print("error log: %s" % dict(kinds))
    for msg, n in other.most_common(8):
        print("    %6d  %s" % (n, msg))


def run_soak(seconds, checks):
    if not common.RULES_19.exists():
        checks.check("soak: shared rule set present", False,
                     "%s is missing (set PARAPET_BENCH_RULES)" % common.RULES_19)
        return
    snippet = SNIPPET.replace("@RULES19@", str(common.RULES_19))
    srv = harness.Apache(snippet, name="soak")
    try:
        srv.prepare()
        common.install_approve_script(srv)
        uploads = srv.path("data/uploads")
        uploads.mkdir()
        common.give_to_children(uploads)
        srv.start()
        print("apache on 127.0.0.1:%d, root %s, parent %d, children %s" % (
            srv.port, srv.root, srv.proc.pid, sorted(srv.children())), flush=True)
        rss0 = srv.children_rss_kb()
        print("  t=   0s  RSS total %7d kB  %s (before load)" % (
            sum(v for v in rss0.values() if v), " ".join("%d:%d" % kv for kv in
                                                      sorted(rss0.items()))), flush=True)
        soak = Soak(srv, seconds)
        soak.fds_before = fd_counts(srv.children())
        stuck = soak.run()
        checks.check("soak: every client thread finished", not stuck,
                     "%d still running" % len(stuck) if stuck else "")
        report(soak, checks, srv, uploads)
        if os.environ.get("PARAPET_SOAK_DUMP"):
            Path(os.environ["PARAPET_SOAK_DUMP"]).write_text(json.dumps(
                {"seconds": seconds, "rss": soak.rss_seconds, "counts": [
                    [k, str(s), n] for (k, s), n in soak.counts.items()]}))
    except harness.StartError as err:
        checks.check("soak: apache started", False, str(err)[:2000])
    finally:
        srv.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seconds", nargs="?", default="", help="load duration (default 600)")
    parser.add_argument("--skip-disk-full", action="store_true")
    parser.add_argument("--only-disk-full", action="store_true")
    args = parser.parse_args()
    seconds = int(args.seconds) if args.seconds.strip() else DEFAULT_SECONDS
    checks = common.Checks()
    if not args.only_disk_full:
        run_soak(seconds, checks)
    if not args.skip_disk_full:
        import test_disk_full
        test_disk_full.run(checks)
    checks.summary()
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
