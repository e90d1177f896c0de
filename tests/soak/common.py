"""Shared pieces of the soak run (soak.py) and the disk-full fault test (test_disk_full.py).

Reuses tests/e2e/harness.py for Apache itself (generated configuration, free 127.0.0.1 port,
start and stop by PID, child RSS) and adds what long runs need: a raw HTTP/1.1 client that can
send slowly, in chunks or abort half-way, a multipart builder, the approval script, checks on
what Apache's children hold open, and the PASS/FAIL bookkeeping that ends in
`SOAK: N passed, N failed`.

Standard library only.
"""
import hashlib
import http.client
import os
import pwd
import random
import socket
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import harness  # noqa: E402  (tests/e2e/harness.py, imported as is)

# The shared 100-rule 1.9 set (the same file `make bench` uses).
RULES_DIR = Path(os.environ.get("PARAPET_BENCH_RULES", "/work/shared/bench/rules"))
RULES_19 = RULES_DIR / "ms19-100.conf"

# Longer than Apache's Timeout (60 s): a server that hangs shows up as a client timeout.
CLIENT_TIMEOUT_S = 90
USER_AGENT = "parapet-soak/1.0"

# The approval script: one grep, accepts unless the file contains EVIL (reference §6.6).
APPROVE_SCRIPT = """#!/bin/sh
# Soak approval script: rejects a file that contains the word EVIL.
if grep -q EVIL "$1"; then echo "0 evil content"; else echo "1 clean"; fi
"""


# ---- bookkeeping ---------------------------------------------------------------------------

class Checks:
    """PASS/FAIL/SKIP lines as they happen, then `SOAK: N passed, N failed`."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s%s" % (name, (": " + detail) if detail else ""), flush=True)
        else:
            self.failed += 1
            print("FAIL %s%s" % (name, (": " + detail) if detail else ""), flush=True)
        return ok

    def skip(self, name, why):
        self.skipped += 1
        print("SKIP %s: %s" % (name, why), flush=True)

    def summary(self):
        print("SOAK: %d passed, %d failed" % (self.passed, self.failed), flush=True)
        if self.skipped:
            print("SOAK: %d skipped" % self.skipped, flush=True)


# ---- server set-up -------------------------------------------------------------------------

def child_ids():
    """(uid, gid) Apache's children run as: www-data under root, else ourselves."""
    if harness.running_as_root():
        user = pwd.getpwnam(harness.CHILD_USER)
        return user.pw_uid, user.pw_gid
    return os.getuid(), os.getgid()


def give_to_children(path):
    """Makes a directory the children must write to theirs (a no-op when not root)."""
    if harness.running_as_root():
        uid, gid = child_ids()
        os.chown(path, uid, gid)


def install_approve_script(srv):
    """Writes the approval script into the prepared root; returns its path."""
    path = srv.path("bin/approve.sh")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(APPROVE_SCRIPT)
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o755)
    return path


# ---- requests ------------------------------------------------------------------------------

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())


def connect(port, timeout=CLIENT_TIMEOUT_S):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_head(port, method, target, headers=()):
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1:%d" % port,
             "User-Agent: %s" % USER_AGENT]
    lines += ["%s: %s" % (name, value) for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk_frames(pieces):
    """Chunked transfer coding of the pieces, last chunk included."""
    out = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p]
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def read_reply(sock, method="GET"):
    resp = http.client.HTTPResponse(sock, method=method)
    try:
        resp.begin()
        body = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        resp.close()


def send_slowly(sock, data, piece, pause_s, rng=None):
    """Sends data `piece` bytes at a time with a pause after each (a slow client)."""
    for off in range(0, len(data), piece):
        sock.sendall(data[off:off + piece])
        time.sleep(pause_s if rng is None else rng.uniform(0.5 * pause_s, 1.5 * pause_s))


def exchange(port, method, target, headers=(), body=b"", chunks=None):
    """One request on a fresh connection (Connection: close): bytes out, reply back. With
    chunks (a list of bytes) the body goes out in chunked encoding instead of body."""
    headers = list(headers) + [("Connection", "close")]
    if chunks is not None:
        headers.append(("Transfer-Encoding", "chunked"))
        payload = chunk_frames(chunks)
    else:
        if body or method in ("POST", "PUT"):
            headers.append(("Content-Length", str(len(body))))
        payload = body
    sock = connect(port)
    try:
        sock.sendall(request_head(port, method, target, headers) + payload)
        return read_reply(sock, method)
    finally:
        sock.close()


def abort(sock, reset):
    """Closes a client socket: an orderly FIN, or a TCP RST (SO_LINGER 0) when reset."""
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# ---- bodies --------------------------------------------------------------------------------

def random_bytes(rng, size, forbid=b"EVIL"):
    """size random bytes that do not contain `forbid` (it would flip the approval verdict)."""
    while True:
        data = rng.randbytes(size)
        if forbid not in data:
            return data


def multipart(rng, fields=(), files=()):
    """(body, content type) of a well-formed multipart/form-data body. fields: (name, value);
    files: (field name, file name, bytes). The boundary is 128 random bits, so random file
    bytes cannot contain it."""
    boundary = "----parapetsoak%032x" % rng.getrandbits(128)
    b = boundary.encode()
    out = []
    for name, value in fields:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (b, name.encode(), value if isinstance(value, bytes) else value.encode()))
    for name, filename, data in files:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   b"Content-Type: application/octet-stream\r\n\r\n%s\r\n"
                   % (b, name.encode(), filename.encode(), data))
    out.append(b"--%s--\r\n" % b)
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---- what the server holds -----------------------------------------------------------------

def dir_entries(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def wait_empty(path, grace_s):
    """Polls until the directory is empty or the grace period ends; returns what is left."""
    deadline = time.time() + grace_s
    while True:
        left = dir_entries(path)
        if not left or time.time() >= deadline:
            return left
        time.sleep(0.2)


def open_files(pids, under=None):
    """Paths Apache's processes hold open that are deleted, or lie under `under`."""
    found = []
    for pid in pids:
        fd_dir = Path("/proc", str(pid), "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            if target.endswith(" (deleted)") or (under and target.startswith(str(under))):
                found.append("pid %d fd %s -> %s" % (pid, fd, target))
    return found


def proc_state(pid):
    try:
        stat = Path("/proc", str(pid), "stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[0]


def proc_cmdline(pid):
    try:
        return Path("/proc", str(pid), "cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace").strip()
    except OSError:
        return ""


def group_leftovers(srv):
    """Processes of Apache's group besides the parent and its direct children (CGIs, approval
    scripts still running, zombies): list of 'pid state cmdline'."""
    if srv.proc is None:
        return []
    keep = {srv.proc.pid} | set(srv.children())
    out = []
    for pid in harness.processes_in_group(srv.proc.pid):
        if pid not in keep:
            out.append("%d %s %s" % (pid, proc_state(pid), proc_cmdline(pid)[:120]))
    return out


def established_connections(port):
    """Server-side TCP connections on 127.0.0.1:port in state ESTABLISHED (/proc/net/tcp)."""
    want = "0100007F:%04X" % port
    count = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1] == want and fields[3] == "01":
                    count += 1
    except OSError:
        return None
    return count


def crash_lines(error_log):
    """Error-log lines that say a child died badly."""
    bad = ("exit signal", "Segmentation fault", "AH00052", "AH00060", "double free",
           "AddressSanitizer", "core dumped", "possible coredump")
    return [line for line in error_log.splitlines() if any(b in line for b in bad)]


def pick(rng, items):
    return items[rng.randrange(len(items))]


def new_rng(seed):
    return random.Random(seed)
