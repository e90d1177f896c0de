"""Work and memory per request through real Apache (src/engine/body/dispatch.c, input.c).

SecRequestBodyNoFilesLimit: multipart form data past 1 MiB is refused with 413 while it
arrives, and the worker's peak memory does not follow the body (attack run D7: 150 MB of
fields took a worker to 308 MB).
"""
import socket
import time

from harness import Group, wait_for

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
    # 40 fields of 1 MiB - 16 (40 MiB): refused at the first MiB.
    total = sum(len(p) for p in field_parts(40, MiB - 16))
    status, data, sent = raw_post(srv, "/cgi-bin/echo.py",
                                  dict(ct, **{"Content-Length": str(total)}),
                                  field_parts(40, MiB - 16))
    hwm_after = srv.children_rss_kb("VmHWM")
    expect(status == 413, "40 MiB of fields: status %d: %r" % (status, data[:300]))
    text = wait_for(lambda: "SecRequestBodyNoFilesLimit" in srv.error_log()[mark:] and
                    srv.error_log()[mark:]) or srv.error_log()[mark:]
    expect("over SecRequestBodyNoFilesLimit 1048576" in text and "code 413" in text,
           "no log line for the refused form:\n%s" % text[-2000:])
    common = [pid for pid in hwm_before if hwm_before[pid] and hwm_after.get(pid)]
    expect(common, "no Apache child survived the request")
    growth = max(hwm_after[pid] - hwm_before[pid] for pid in common)
    print("    40 MiB of fields: 413 after %d bytes sent; worker VmHWM growth %d KiB"
          % (sent, growth))
    expect(growth < 16 * 1024, "worker peak memory grew by %d KiB" % growth)
