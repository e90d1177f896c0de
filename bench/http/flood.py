#!/usr/bin/env python3
"""Flood of distinct client addresses through real Apache + Parapet (issue 16 item 5), for the
embedded store (SecDataDir) and for Redis (a private redis-server on a free 127.0.0.1 port,
stopped by PID): every request comes from a new 127.0.0.0/8 source address (loopback accepts
them all), and a CRS 912-style rule writes the IP collection of each (initcol, =+1, expirevar)
with a short SecCollectionTimeout, so the store fills with records that expire.

Measured per tenth of the flood: requests per second, Apache's CPU per request (utime + stime
of every process of the instance, /proc/PID/stat), the worker's RSS, and the store's size (the
LMDB file's allocated bytes / Redis DBSIZE and used_memory). Flat CPU and RSS and a size that
stops growing once the first records expire are what item 5 asks for.

Usage: bench/http/flood.py [--requests N] [--timeout S] [--clients C]
Standard library only; reuses tests/e2e/harness.py for Apache.
"""
import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from harness import Apache, free_port  # noqa: E402

RULES = """SecRuleEngine On
SecCollectionTimeout {timeout}
{store}
SecAction "id:1,phase:1,pass,nolog,initcol:ip=%{{remote_addr}}"
SecAction "id:2,phase:1,pass,nolog,setvar:ip.dos_counter=+1,expirevar:ip.dos_counter={timeout}"
SecRule IP:dos_counter "@gt 100" "id:3,phase:1,deny,status:429,msg:'flood'"
"""


class Redis:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="parapet-flood-redis-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, timeout=10).stdout.strip()

    def used_memory(self):
        for line in self.cli("INFO", "memory").splitlines():
            if line.startswith("used_memory:"):
                return int(line.split(":")[1])
        return -1

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def address(i):
    i += 1 << 16  # skip 127.0.x.x
    return "127.%d.%d.%d" % ((i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF)


def flood(srv, start, count, clients, errors):
    """count requests from addresses start.. over `clients` threads; new connection each."""
    nxt = [start]
    lock = threading.Lock()
    end = start + count

    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= end:
                    return
                nxt[0] += 1
            try:
                c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30,
                                               source_address=(address(i), 0))
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status != 200:
                    errors.append(r.status)
            except OSError as e:
                errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run(kind, args):
    redis = Redis() if kind == "redis" else None
    store = ("SecCollectionStore redis://127.0.0.1:%d/0\nSecCollectionStoreTimeout 1000"
             % redis.port if redis else "SecDataDir @ROOT@/data")
    srv = Apache(snippet=RULES.format(timeout=args.timeout, store=store),
                 name="flood-" + kind).start()
    rows = []
    try:
        time.sleep(0.5)
        workers = srv.children()
        lmdb = srv.path("data") / "parapet-collections.lmdb"
        slice_n = args.requests // 10
        errors = []
        for k in range(10):
            c0, t0 = cpu_seconds(workers), time.time()
            flood(srv, k * slice_n, slice_n, args.clients, errors)
            c1, t1 = cpu_seconds(workers), time.time()
            if redis:
                size = "%s keys, %.1f MB" % (redis.cli("DBSIZE"), redis.used_memory() / 1e6)
            else:
                st = os.stat(lmdb)
                size = "%.1f MB on disk" % (st.st_blocks * 512 / 1e6)
            rss = max(rss_kb(p) for p in workers)
            rows.append((k + 1, slice_n / (t1 - t0), (c1 - c0) / slice_n * 1e6, rss, size))
            print("  %s %2d/10: %6.0f req/s  %6.0f us CPU/request  RSS %6d kB  store %s"
                  % (kind, k + 1, rows[-1][1], rows[-1][2], rss, size), file=sys.stderr)
        if errors:
            raise RuntimeError("%s: %d requests failed, e.g. %r" % (kind, len(errors), errors[:3]))
    finally:
        srv.stop()
        if redis:
            redis.stop()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--timeout", type=int, default=10, help="SecCollectionTimeout (s)")
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    print("%d requests, each from a new 127.0.0.0/8 address, %d client threads, "
          "SecCollectionTimeout %d s (records expire %d s after their last write); one Apache "
          "(mpm_event, 1 process x 16 threads) per store." % (args.requests, args.clients,
                                                               args.timeout, args.timeout))
    print()
    for kind in ("embedded", "redis"):
        rows = run(kind, args)
        print("| %s: tenth | req/s | Apache CPU µs/request | worker RSS kB | store size |" % kind)
        print("|---|---|---|---|---|")
        for r in rows:
            print("| %d | %.0f | %.0f | %d | %s |" % r)
        first, last = rows[0], rows[-1]
        print()
        print("%s: CPU per request first tenth %.0f µs, last %.0f µs (%+.0f %%); RSS %d -> %d kB."
              % (kind, first[2], last[2], (last[2] / first[2] - 1) * 100, first[3], last[3]))
        print()


if __name__ == "__main__":
    main()
