"""Work and memory per request through real Apache (src/engine/body/dispatch.c, input.c).

SecRequestBodyNoFilesLimit: multipart form data past 1 MiB is refused with 413 while it
arrives, and the worker's peak memory does not follow the body (attack run D7: 150 MB of
fields took a worker to 308 MB).

SecRequestBodyLimit: a body over 12.5 MiB is refused with 413 by its Content-Length before a
byte is kept, or, chunked, when the bytes pass the limit; the rest is not read or spooled
(attack run D9: 200 MB spooled before a 403). A rule that reads only the request line refuses
the request before the body is read at all.

The spool: the bodies of one keep-alive connection go to one nameless file in turn, and each
reaches the application exactly as sent, never with the previous body's bytes (these tests
turn SecRequestBodyMemoryBudget off, so every body past the in-memory limit spools).

SecRequestBodyMemoryBudget: bodies of known length up to 16 MiB are held in the connection's
memory region instead while the worker's budget allows; past the budget they spool, and the
memory goes back to the system when the connection ends.
"""
import hashlib
import http.client
import json
import os
import re
import socket
import threading
import time

from harness import Group, rss_kb, wait_for

KiB = 1024
MiB = 1024 * KiB
BOUNDARY = b"LimitsBoundary7"


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def raw_post(srv, path, headers, pieces, timeout=60):
    """POST with a body sent piece by piece on a raw socket; the server may answer and close
    before the body is all sent (sending then stops). Returns (status, response bytes,
    body bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
        head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
        s.sendall(head.encode())
        try:
            for piece in pieces:
                s.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    data = b"".join(chunks)
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data, sent


def field_parts(count, size):
    for i in range(count):
        yield (b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n" % i)
        value = b"v" * size
        for off in range(0, size, 256 * KiB):
            yield value[off:off + 256 * KiB]
        yield b"\r\n"
    yield b"--" + BOUNDARY + b"--\r\n"


LIMITS = Group("limits", snippet="""
SecFilterEngine On
SecFilterScanPOST On
SecUploadDir "@ROOT@/data"
SecRequestBodyMemoryBudget 0
SecFilterSelective QUERY_STRING "union.+select" "deny,log,status:403"
SecFilterSelective ARGS "<script" "deny,log,status:403"
""")


@LIMITS.test
def test_multipart_fields_over_nofiles_limit_413(srv):
    ct = {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode()}
    # Under the limit: a form of 900 KiB passes.
    small = b"".join(field_parts(9, 100 * KiB))
    status, data, _ = raw_post(srv, "/cgi-bin/echo.py", dict(ct, **{"Content-Length": str(len(small))}),
                               [small])
    expect(status == 200, "900 KiB of fields: %r" % data[:200])
    hwm_before = srv.children_rss_kb("VmHWM")
    mark = len(srv.error_log())
    # 12 fields of 1 MiB - 16 (12 MiB, under SecRequestBodyLimit): refused at the first MiB.
    total = sum(len(p) for p in field_parts(12, MiB - 16))
    status, data, sent = raw_post(srv, "/cgi-bin/echo.py",
                                  dict(ct, **{"Content-Length": str(total)}),
                                  field_parts(12, MiB - 16))
    hwm_after = srv.children_rss_kb("VmHWM")
    expect(status == 413, "12 MiB of fields: status %d: %r" % (status, data[:300]))
    text = wait_for(lambda: "SecRequestBodyNoFilesLimit" in srv.error_log()[mark:] and
                    srv.error_log()[mark:]) or srv.error_log()[mark:]
    expect("over SecRequestBodyNoFilesLimit 1048576" in text and "code 413" in text,
           "no log line for the refused form:\n%s" % text[-2000:])
    common = [pid for pid in hwm_before if hwm_before[pid] and hwm_after.get(pid)]
    expect(common, "no Apache child survived the request")
    growth = max(hwm_after[pid] - hwm_before[pid] for pid in common)
    print("    12 MiB of fields: 413 after %d bytes sent; worker VmHWM growth %d KiB"
          % (sent, growth))
    expect(growth < 6 * 1024, "worker peak memory grew by %d KiB" % growth)


def log_after(srv, mark, needle):
    return wait_for(lambda: needle in srv.error_log()[mark:] and srv.error_log()[mark:]) \
        or srv.error_log()[mark:]


def zeros(total, block=256 * KiB):
    left = total
    while left > 0:
        n = min(block, left)
        left -= n
        yield bytes(n)


@LIMITS.test
def test_body_over_limit_413_before_spooling(srv):
    octets = {"Content-Type": "application/octet-stream"}
    # Declared too long: refused before the body is kept.
    mark = len(srv.error_log())
    status, data, _ = raw_post(srv, "/cgi-bin/echo.py",
                               dict(octets, **{"Content-Length": str(200 * MiB)}),
                               zeros(20 * MiB))
    expect(status == 413, "200 MB by Content-Length: status %d: %r" % (status, data[:200]))
    text = log_after(srv, mark, "SecRequestBodyLimit")
    expect("Content-Length 209715200 bytes, over SecRequestBodyLimit 13107200" in text,
           "no log line for the declared length:\n%s" % text[-2000:])
    # Chunked: refused when the bytes pass the limit, having kept no more than that.
    mark = len(srv.error_log())
    resp = srv.request("POST", "/cgi-bin/echo.py", body=zeros(20 * MiB), headers=octets,
                       chunked=True)
    expect(resp.status == 413, "20 MB chunked: status %d" % resp.status)
    text = log_after(srv, mark, "SecRequestBodyLimit")
    seen = re.search(r"Request body of at least (\d+) bytes, over SecRequestBodyLimit 13107200",
                     text)
    expect(seen, "no log line for the chunked body:\n%s" % text[-2000:])
    expect(int(seen.group(1)) <= 13107200 + 64 * KiB, "refused only at %s bytes" % seen.group(1))
    expect(not list(srv.path("data").iterdir()), "spool files left behind")
    # Under the limit a raw body still reaches the application whole.
    resp = srv.request("POST", "/cgi-bin/echo.py", body=bytes(MiB), headers=octets)
    expect(resp.status == 200 and resp.json()["body_length"] == MiB, "1 MiB body: %d" % resp.status)


@LIMITS.test
def test_query_rule_refuses_before_the_body(srv):
    # Attack run 2.31: 200 MB with the attack in the query string. Chunked, so only the rules
    # can stop it before SecRequestBodyLimit (413 at 12.5 MiB): 403 shows they did.
    mark = len(srv.error_log())
    resp = srv.request("POST", "/cgi-bin/echo.py?id=1+union+select+2", body=zeros(200 * MiB),
                       headers={"Content-Type": "application/octet-stream"}, chunked=True)
    expect(resp.status == 403, "attack in the query with a 200 MB body: %d" % resp.status)
    text = log_after(srv, mark, "union.+select")
    expect("code 403" in text and "SecRequestBodyLimit" not in text,
           "refused by the wrong check:\n%s" % text[-2000:])
    expect(not list(srv.path("data").iterdir()), "spool files left behind")


def spool_files(srv):
    """The nameless spool files Apache's processes hold in SecUploadDir: (target, size)."""
    data = str(srv.path("data")) + "/"
    found = []
    for pid in [srv.proc.pid] + srv.children():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            path = "/proc/%d/fd/%s" % (pid, fd)
            try:
                target = os.readlink(path)
                if target.startswith(data) and target.endswith(" (deleted)"):
                    found.append((target, os.stat(path).st_size))
            except OSError:
                continue
    return found


@LIMITS.test
def test_keepalive_bodies_share_a_spool_but_never_its_contents(srv):
    # One keep-alive connection: a 300 KiB body (spilled), a shorter 150 KiB one (spilled into
    # the same file, over the first one's bytes), a 20 KiB one (in memory). Each must reach
    # the application exactly as sent, never with the previous body's tail, and between
    # requests the file holds no more than the last body.
    octets = {"Content-Type": "application/octet-stream"}
    bodies = [os.urandom(300 * KiB), os.urandom(150 * KiB), os.urandom(20 * KiB)]
    # What the connection's file holds once each request has ended (its pool is destroyed
    # just after the answer is written, so this is waited for; briefly: KeepAliveTimeout is 5 s).
    held = [len(bodies[0]), len(bodies[1]), len(bodies[1])]
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    seen = []
    try:
        for body, size in zip(bodies, held):
            conn.request("POST", "/cgi-bin/echo.py", body=body, headers=octets)
            resp = conn.getresponse()
            answer = json.loads(resp.read())
            expect(resp.status == 200, "status %d" % resp.status)
            expect(answer["body_length"] == len(body) and
                   answer["body_sha256"] == hashlib.sha256(body).hexdigest(),
                   "a %d-byte body reached the application as %d bytes (sha %s)"
                   % (len(body), answer["body_length"], answer["body_sha256"][:12]))
            wait_for(lambda: [f[1] for f in spool_files(srv)] == [size], timeout=2)
            seen.append(spool_files(srv))
    finally:
        conn.close()
    for i, (files, size) in enumerate(zip(seen, held)):
        expect([f[1] for f in files] == [size],
               "after body %d the connection should hold one file of %d bytes: %s"
               % (i + 1, size, files))
    expect(seen[0][0][0] == seen[1][0][0] == seen[2][0][0],
           "the connection's bodies went to different files: %s" % seen)
    expect(not list(srv.path("data").iterdir()), "named files in SecUploadDir")
    left = wait_for(lambda: not spool_files(srv), timeout=10)
    expect(left, "the spool outlived its connection: %s" % spool_files(srv))
    print("    keep-alive: 300 KiB, 150 KiB, 20 KiB bodies byte-identical; one spool %s"
          % seen[1][0][0].split("/")[-1])


# 14 MiB: two 5 MB bodies (6 MiB regions: 2 MiB steps) fit, a third does not.
MEMORY = Group("memory", snippet="""
SecFilterEngine On
SecFilterScanPOST On
SecUploadDir "@ROOT@/data"
SecRequestBodyMemoryBudget 14680064
SecFilterSelective ARGS "<script" "deny,log,status:403"
""")


def echo_post(conn, body):
    conn.request("POST", "/cgi-bin/echo.py", body=body,
                 headers={"Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    answer = json.loads(resp.read())
    expect(resp.status == 200, "status %d" % resp.status)
    expect(answer["body_length"] == len(body) and
           answer["body_sha256"] == hashlib.sha256(body).hexdigest(),
           "a %d-byte body reached the application as %d bytes (sha %s)"
           % (len(body), answer["body_length"], answer["body_sha256"][:12]))


FIRST = 200 * KiB
# What a worker may keep after the connections closed (its threads' pools and allocators grow
# too); a region still mapped would be 5 MB of it.
LEFT_KB = 4000


def first_body_spools(srv, conn):
    """A connection's first body past the in-memory limit goes to its spool file."""
    before = len(spool_files(srv))
    echo_post(conn, os.urandom(FIRST))
    expect(wait_for(lambda: len(spool_files(srv)) == before + 1, timeout=2),
           "a connection's first large body did not spool: %s" % spool_files(srv))


def worker_rss(srv):
    """VmRSS of the worker process (the child with the most threads: not cgid's daemon)."""
    def threads(pid):
        try:
            return len(os.listdir("/proc/%d/task" % pid))
        except OSError:
            return 0
    pid = max(srv.children(), key=threads)
    return pid, rss_kb(pid)


@MEMORY.test
def test_bodies_in_memory_within_the_budget(srv):
    # One keep-alive connection: its first large body spools (no region for a single body), then
    # 5 MB, 1 MB and 300 KiB bodies reach the application byte for byte, none through the spool
    # file; the worker holds the connection's region while it is open and gives it back when it
    # closes. Once the connection uses memory, its file is closed.
    pid, rss0 = worker_rss(srv)
    bodies = [os.urandom(5 * 1000 * 1000), os.urandom(1000 * 1000), os.urandom(300 * KiB)]
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        first_body_spools(srv, conn)
        for body in bodies:
            echo_post(conn, body)
            # and the first body's file is closed once the connection uses memory
            sizes = [f[1] for f in spool_files(srv)]
            expect(sizes == [], "spooled within the budget: %s" % sizes)
        rss1 = rss_kb(pid)
    finally:
        conn.close()
    expect(rss1 - rss0 > 4500, "the 5 MB body was not held in the worker: RSS %d -> %d KiB"
           % (rss0, rss1))
    back = wait_for(lambda: rss_kb(pid) - rss0 < LEFT_KB, timeout=10)
    expect(back, "the region outlived its connection: RSS %d -> %d -> %d KiB"
           % (rss0, rss1, rss_kb(pid)))
    expect(not list(srv.path("data").iterdir()), "files in SecUploadDir")
    print("    worker RSS %d -> %d KiB with the connection open -> %d KiB after"
          % (rss0, rss1, rss_kb(pid)))


@MEMORY.test
def test_uploads_past_the_budget_spool(srv):
    # Four connections held open (each with its first large body spooled), a 5 MB upload on
    # each, first one after the other, then all at once: two regions fit in the budget, the
    # other two connections spool to their files.
    # Every body arrives byte for byte; closing the connections frees memory and files.
    pid, rss0 = worker_rss(srv)
    conns = [http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60) for _ in range(4)]
    errors = []

    def upload(conn):
        try:
            echo_post(conn, os.urandom(5 * 1000 * 1000))
        except Exception as err:  # reported below, in the test's thread
            errors.append(err)
    try:
        for conn in conns:
            first_body_spools(srv, conn)
        for conn in conns:
            upload(conn)
        expect(not errors, "sequential uploads: %s" % errors)
        sizes = sorted(f[1] for f in spool_files(srv))
        expect(sizes == [5000000, 5000000],
               "expected two 5 MB bodies in memory (their files closed), two spooled: %s"
               % sizes)
        threads = [threading.Thread(target=upload, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expect(not errors, "concurrent uploads: %s" % errors)
        sizes = sorted(f[1] for f in spool_files(srv))
        expect(sizes == [5000000, 5000000],
               "expected two 5 MB bodies in memory (their files closed), two spooled: %s"
               % sizes)
        rss1 = rss_kb(pid)
    finally:
        for conn in conns:
            conn.close()
    expect(rss1 - rss0 < 14 * 1024 + 2048, "over the budget: RSS %d -> %d KiB" % (rss0, rss1))
    expect(wait_for(lambda: not spool_files(srv), timeout=10), "spool files outlived their "
           "connections: %s" % spool_files(srv))
    back = wait_for(lambda: rss_kb(pid) - rss0 < LEFT_KB, timeout=10)
    expect(back, "regions outlived their connections: RSS %d -> %d -> %d KiB"
           % (rss0, rss1, rss_kb(pid)))
    print("    4 connections x 5 MB: 2 in memory, 2 spooled; RSS %d -> %d -> %d KiB"
          % (rss0, rss1, rss_kb(pid)))
