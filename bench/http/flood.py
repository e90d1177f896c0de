#!/usr/bin/env python3
"""Flood of distinct client addresses through real Apache + Parapet (issue 16 item 5), for the
embedded store (SecDataDir) and for Redis (a private redis-server on a free 127.0.0.1 port,
stopped by PID): every request comes from a new 127.0.0.0/8 source address (loopback accepts
them all), and a CRS 912-style rule writes the IP collection of each (initcol, =+1, expirevar)
with a short SecCollectionTimeout, so the store fills with records that expire.

Measured per tenth of the flood: requests per second, Apache's CPU per request (utime + stime
of every process of the instance, /proc/PID/stat; for Redis also redis-server's), the worker's
RSS, and the store's size (embedded: the records in the LMDB file, read through liblmdb with
ctypes, and the file's allocated bytes; Redis: DBSIZE and used_memory). Flat CPU and RSS and a
size that stops growing once the first records expire are what item 5 asks for; the summary
after each table compares the first tenths with the last ones and the live records with
req/s x TIMEOUT, what expiry should leave.

Then (--part crs) what the Redis store costs per request over the embedded one under OWASP CRS
3.3.4 at PL1 with its own DoS protection on (crs-setup's rule 900700 with CRS's example
thresholds): 901321 initialises IP (%{remote_addr}_%{tx.ua_hash}) and GLOBAL on every request,
910120/949100 read IP, and 912150 writes ip.dos_counter=+1 for every non-static request, so
each request is one load and one write-back. The same keep-alive GETs from 5,000 addresses go to
three Apache instances that differ only in the store (none: collections last one request;
embedded; Redis over TCP; Redis over its Unix socket), in alternating rounds: Apache's CPU per
request, redis-server's, and the instructions per request inside Apache (apache2 -X under
callgrind, counted in ap_run_process_connection, as bench.py counts them).

Usage: bench/http/flood.py [--part flood|crs|all] [--requests N] [--timeout S] [--clients C]
Standard library only; reuses tests/e2e/harness.py for Apache and bench.py's CRS configuration.
"""
import argparse
import ctypes
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
from harness import Apache, free_port, running_as_root, CHILD_USER  # noqa: E402
from bench_setup import CRS_RULES, CRS_SETUP, HEADERS, recommended_conf  # noqa: E402
from bench_callgrind import read_callgrind_total  # noqa: E402

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
        os.chmod(self.dir, 0o755)  # the children (User) reach the socket
        self.port = free_port()
        self.sock = os.path.join(self.dir, "redis.sock")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--unixsocket", self.sock,
             "--unixsocketperm", "777"],
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


class LmdbStat:
    """Records in an LMDB file another process writes (liblmdb through ctypes, read-only)."""
    MDB_NOSUBDIR, MDB_RDONLY = 0x4000, 0x20000

    class Stat(ctypes.Structure):
        _fields_ = [("psize", ctypes.c_uint), ("depth", ctypes.c_uint),
                    ("branch_pages", ctypes.c_size_t), ("leaf_pages", ctypes.c_size_t),
                    ("overflow_pages", ctypes.c_size_t), ("entries", ctypes.c_size_t)]

    def __init__(self, path):
        self.lib = ctypes.CDLL("liblmdb.so.0")
        self.env = ctypes.c_void_p()
        if self.lib.mdb_env_create(ctypes.byref(self.env)):
            raise RuntimeError("mdb_env_create failed")
        self.lib.mdb_env_set_mapsize(self.env, ctypes.c_size_t(256 << 20))
        rc = self.lib.mdb_env_open(self.env, str(path).encode(),
                                   self.MDB_NOSUBDIR | self.MDB_RDONLY, 0o640)
        if rc:
            self.lib.mdb_env_close(self.env)
            raise RuntimeError("mdb_env_open %s: %d" % (path, rc))

    def records(self):
        st = self.Stat()
        return st.entries if self.lib.mdb_env_stat(self.env, ctypes.byref(st)) == 0 else -1

    def close(self):
        self.lib.mdb_env_close(self.env)


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
    try:
        return run_on(kind, args, redis)
    finally:
        if redis:
            redis.stop()


def run_on(kind, args, redis):
    store = ("SecCollectionStore redis://127.0.0.1:%d/0\nSecCollectionStoreTimeout 1000"
             % redis.port if redis else "SecDataDir @ROOT@/data")
    srv = Apache(snippet=RULES.format(timeout=args.timeout, store=store),
                 name="flood-" + kind).start()
    rows = []
    lmdb_stat = None
    try:
        time.sleep(0.5)
        workers = srv.children()
        lmdb = srv.path("data") / "parapet-collections.lmdb"
        if not redis:
            lmdb_stat = LmdbStat(lmdb)
        slice_n = args.requests // 10
        errors = []
        for k in range(10):
            r0 = cpu_seconds([redis.proc.pid]) if redis else 0
            c0, t0 = cpu_seconds(workers), time.time()
            flood(srv, k * slice_n, slice_n, args.clients, errors)
            c1, t1 = cpu_seconds(workers), time.time()
            r1 = cpu_seconds([redis.proc.pid]) if redis else 0
            if redis:
                records = int(redis.cli("DBSIZE") or -1)
                size = "%d keys, %.1f MB used_memory" % (records, redis.used_memory() / 1e6)
            else:
                records = lmdb_stat.records()
                st = os.stat(lmdb)
                size = "%d records, %.1f MB file" % (records, st.st_blocks * 512 / 1e6)
            rss = max(rss_kb(p) for p in workers)
            rows.append({"tenth": k + 1, "rps": slice_n / (t1 - t0),
                         "cpu": (c1 - c0) / slice_n * 1e6, "store_cpu": (r1 - r0) / slice_n * 1e6,
                         "rss": rss, "records": records, "size": size})
            row = rows[-1]
            print("  %s %2d/10: %6.0f req/s  %6.0f us CPU/request%s  RSS %6d kB  store %s"
                  % (kind, k + 1, row["rps"], row["cpu"],
                     " (+%.0f redis-server)" % row["store_cpu"] if redis else "", rss, size),
                  file=sys.stderr, flush=True)
        if errors:
            raise RuntimeError("%s: %d requests failed, e.g. %r" % (kind, len(errors), errors[:3]))
    finally:
        if lmdb_stat:
            lmdb_stat.close()
        srv.stop()
    return rows


def mean(xs):
    return sum(xs) / len(xs)


def summary(kind, rows, timeout):
    """What the table shows, computed from it: CPU per request and RSS early vs late, the live
    records vs what expiry should leave (req/s x TIMEOUT, Redis: TIMEOUT + 1 s of TTL)."""
    cpu = [r["cpu"] for r in rows]
    early, late = mean(cpu[1:4]), mean(cpu[7:10])
    recs = [r["records"] for r in rows[1:]]
    rps = mean([r["rps"] for r in rows[1:]])
    live = rps * (timeout + (1 if kind == "redis" else 0))
    lines = [
        "%s: Apache CPU per request %.0f µs in the first tenth (the store filling up), "
        "%.0f-%.0f µs in tenths 2-10; mean of tenths 2-4 %.0f µs, of tenths 8-10 %.0f µs (%+.0f %%)."
        % (kind, cpu[0], min(cpu[1:]), max(cpu[1:]), early, late, (late / early - 1) * 100),
        "%s: store %d-%d records in tenths 2-10 (%d after the first tenth, %d at the end); "
        "req/s x %d s = %.0f live records expected from expiry."
        % (kind, min(recs), max(recs), recs[0], recs[-1],
           timeout + (1 if kind == "redis" else 0), live),
        "%s: worker RSS %d kB after the first tenth, %d-%d kB in tenths 2-10, %d kB at the end."
        % (kind, rows[0]["rss"], min(r["rss"] for r in rows[1:]), max(r["rss"] for r in rows[1:]),
           rows[-1]["rss"]),
    ]
    if kind == "redis":
        sc = [r["store_cpu"] for r in rows]
        lines.append("%s: redis-server CPU per request %.0f µs in the first tenth, %.0f-%.0f µs "
                     "in tenths 2-10." % (kind, sc[0], min(sc[1:]), max(sc[1:])))
    return lines


# ---- CRS PL1 with DoS protection: what each store costs per request --------------------------

CRS_KINDS = ("none", "embedded", "redis", "redis-unix")
CRS_LABEL = {"none": "no store (collections last one request)",
             "embedded": "embedded (LMDB)", "redis": "Redis, TCP 127.0.0.1",
             "redis-unix": "Redis, Unix socket"}
CRS_SNIPPET = """{store}
Include "@ROOT@/conf/modsecurity.conf"
Include "{setup}"
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1"
SecAction "id:900700,phase:1,nolog,pass,t:none,setvar:'tx.dos_burst_time_slice=60',setvar:'tx.dos_counter_threshold=100',setvar:'tx.dos_block_timeout=600'"
Include {rules}
"""
CRS_PATH = "/index.html?q=shoes&page=2&sort=price&lang=en&ref=home"
CRS_ADDRESSES = 5000
CRS_PER_CONNECTION = 4


def crs_server(kind, redis):
    """An Apache + Parapet + CRS PL1 (DoS protection on) whose store is kind; not started."""
    store = {"none": "", "embedded": "",
             "redis": "SecCollectionStore redis://127.0.0.1:%d/0" % redis.port,
             "redis-unix": "SecCollectionStore redis+unix://%s?db=0" % redis.sock}[kind]
    if kind.startswith("redis"):
        store += "\nSecCollectionStoreTimeout 1000\nSecCollectionKeyPrefix %s:" % kind
    srv = Apache(snippet=CRS_SNIPPET.format(store=store, setup=CRS_SETUP, rules=CRS_RULES),
                 name="flood-crs-" + kind)
    srv.prepare()
    text = recommended_conf(srv.root)
    if kind != "embedded":  # SecDataDir is what selects the embedded store
        text = "\n".join(l for l in text.splitlines() if not l.startswith("SecDataDir"))
    (srv.root / "conf" / "modsecurity.conf").write_text(text + "\n")
    for sub in ("data/modsec", "data/tmp"):
        (srv.root / sub).mkdir(parents=True, exist_ok=True)
        if running_as_root():
            import pwd
            user = pwd.getpwnam(CHILD_USER)
            os.chown(srv.root / sub, user.pw_uid, user.pw_gid)
    return srv


def crs_requests(port, first, count, clients):
    """count GETs over keep-alive connections of CRS_PER_CONNECTION requests, each connection
    from the next of CRS_ADDRESSES source addresses; returns the statuses that were not 200."""
    nxt = [first]
    lock = threading.Lock()
    bad = []
    conns = count // CRS_PER_CONNECTION

    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= first + conns:
                    return
                nxt[0] += 1
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                               source_address=(address(i % CRS_ADDRESSES), 0))
                for _ in range(CRS_PER_CONNECTION):
                    c.putrequest("GET", CRS_PATH, skip_host=True, skip_accept_encoding=True)
                    for name, value in HEADERS:
                        c.putheader(name, value)
                    c.endheaders()
                    r = c.getresponse()
                    r.read()
                    if r.status != 200:
                        bad.append(r.status)
                c.close()
            except OSError as e:
                bad.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return bad


def crs_callgrind(kind, redis, requests):
    """Instructions per request inside Apache (apache2 -X under callgrind, counted in
    ap_run_process_connection), requests GETs from requests / CRS_PER_CONNECTION addresses."""
    srv = crs_server(kind, redis)
    cgout = srv.root / "logs" / "callgrind.out"
    cgout.touch()
    if running_as_root():  # apache2 -X switches to User before callgrind writes it
        import pwd
        user = pwd.getpwnam(CHILD_USER)
        os.chown(cgout, user.pw_uid, user.pw_gid)
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % cgout, "--vgdb=no",
         "--collect-atstart=no", "--toggle-collect=ap_run_process_connection",
         "apache2", "-f", str(srv.conf), "-X"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 900
        while True:
            if proc.poll() is not None:
                raise RuntimeError("apache2 -X under callgrind exited: %s"
                                   % srv.error_log()[-2000:])
            try:
                socket_probe = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)
                socket_probe.request("GET", "/index.html", headers=dict(HEADERS))
                socket_probe.getresponse().read()
                socket_probe.close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("apache2 -X under callgrind did not answer")
                time.sleep(1)
        probe = read_callgrind_total(cgout) if cgout.stat().st_size else 0
        bad = crs_requests(srv.port, 0, requests, 1)
        if bad:
            raise RuntimeError("%s under callgrind: %r" % (kind, bad[:3]))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
        total = read_callgrind_total(cgout)
        srv.stop()
    # The probe request (first, cold) is in the total too: count it as one more request.
    return total / (requests + 1), probe


def crs_cost(args):
    redis = Redis()
    try:
        return crs_measure(args, redis)
    finally:
        redis.stop()


def crs_measure(args, redis):
    servers = {}
    try:
        for kind in CRS_KINDS:
            servers[kind] = crs_server(kind, redis).start()
        time.sleep(1.0)
        for kind, srv in servers.items():  # warm up (and prove every request passes)
            bad = crs_requests(srv.port, 0, 400, 4)
            if bad:
                raise RuntimeError("CRS %s: %d requests not 200: %r; error log:\n%s"
                                   % (kind, len(bad), bad[:3], srv.error_log()[-3000:]))
        cpu = {k: [] for k in CRS_KINDS}
        rcpu = {k: [] for k in CRS_KINDS}
        first = 0
        for rnd in range(args.crs_rounds):
            for kind in CRS_KINDS:
                srv = servers[kind]
                workers = srv.children()
                c0, r0 = cpu_seconds(workers), cpu_seconds([redis.proc.pid])
                bad = crs_requests(srv.port, first, args.crs_requests, args.crs_clients)
                c1, r1 = cpu_seconds(workers), cpu_seconds([redis.proc.pid])
                if bad:
                    raise RuntimeError("CRS %s: %d requests not 200: %r; error log:\n%s"
                                       % (kind, len(bad), bad[:3], srv.error_log()[-3000:]))
                cpu[kind].append((c1 - c0) / args.crs_requests * 1e6)
                rcpu[kind].append((r1 - r0) / args.crs_requests * 1e6 if kind.startswith("redis")
                                  else 0.0)
                print("  crs round %d %-10s %6.0f us Apache CPU/request, %4.0f us redis-server"
                      % (rnd + 1, kind, cpu[kind][-1], rcpu[kind][-1]), file=sys.stderr,
                      flush=True)
            first += args.crs_requests // CRS_PER_CONNECTION
        keys = redis.cli("DBSIZE")
    finally:
        for srv in servers.values():
            srv.stop()
    instr = {}
    for kind in CRS_KINDS:
        instr[kind], _ = crs_callgrind(kind, redis, args.cg_requests)
        print("  crs callgrind %-10s %.0f instructions/request" % (kind, instr[kind]),
              file=sys.stderr, flush=True)
    return cpu, rcpu, instr, keys


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def crs_report(args, cpu, rcpu, instr, keys):
    print("OWASP CRS 3.3.4 at PL1 with DoS protection on (rule 900700: burst time slice 60 s, "
          "counter threshold 100, block 600 s): per request 901321 initialises IP and GLOBAL, "
          "910120/949100 read IP, 912150 writes ip.dos_counter=+1. GET %s with browser headers, "
          "%d requests per connection (keep-alive), connections from %d source addresses in "
          "turn, %d client threads (fewer than Apache's 16 worker threads: mpm_event closes idle keep-alive connections when all are busy); %d requests per store per round, %d rounds alternating "
          "between the stores (medians below); callgrind: apache2 -X, %d requests."
          % (CRS_PATH, CRS_PER_CONNECTION, CRS_ADDRESSES, args.crs_clients, args.crs_requests,
             args.crs_rounds, args.cg_requests))
    print()
    print("| store | Apache CPU µs/request | redis-server CPU µs/request | together | "
          "over no store | instructions/request in Apache | over no store |")
    print("|---|---|---|---|---|---|---|")
    base = median(cpu["none"])
    for kind in CRS_KINDS:
        a, r = median(cpu[kind]), median(rcpu[kind])
        print("| %s | %.0f (%s) | %s | %.0f | %+.0f µs | %s | %s |"
              % (CRS_LABEL[kind], a, ", ".join("%.0f" % x for x in cpu[kind]),
                 "%.0f" % r if kind.startswith("redis") else "-", a + r, a + r - base,
                 format(int(instr[kind]), ","),
                 "%+d" % int(instr[kind] - instr["none"]) if kind != "none" else "-"))
    print()
    e = median(cpu["embedded"])
    for kind in ("redis", "redis-unix"):
        t = median(cpu[kind]) + median(rcpu[kind])
        print("- %s over the embedded store: %+.0f µs/request of Apache CPU, %+.0f µs with "
              "redis-server's, %+.0f %% of the request's CPU; %+d instructions/request inside "
              "Apache (hiredis, the commands and replies; callgrind counts neither the kernel's work "
              "nor redis-server's)."
              % (CRS_LABEL[kind], median(cpu[kind]) - e, t - e, (t / e - 1) * 100,
                 int(instr[kind] - instr["embedded"])))
    print("- Redis held %s keys at the end: the IP records of the %d addresses under each Redis "
          "configuration's key prefix (GLOBAL is read, never written)." % (keys, CRS_ADDRESSES))
    print()


def machine_line(what):
    """The commit measured and the machine's load (other processes inflate CPU per request)."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    return "%s: Parapet `%s`, %d CPUs, load average %.1f / %.1f / %.1f (1 / 5 / 15 min)." % (
        what, commit or "?", os.cpu_count(), *os.getloadavg())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("flood", "crs", "all"), default="all")
    ap.add_argument("--requests", type=int, default=1000000, help="flood requests per store")
    ap.add_argument("--timeout", type=int, default=10, help="SecCollectionTimeout (s)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--crs-requests", type=int, default=8000,
                    help="CRS: requests per store per round")
    ap.add_argument("--crs-rounds", type=int, default=3)
    ap.add_argument("--crs-clients", type=int, default=8)
    ap.add_argument("--cg-requests", type=int, default=100, help="CRS: requests under callgrind")
    args = ap.parse_args()
    if args.part in ("flood", "all"):
        print(machine_line("Flood start"))
        print()
        flood_report(args)
        print(machine_line("Flood end"))
        print()
    if args.part in ("crs", "all"):
        if args.part == "all":
            print("### Redis over the embedded store under CRS PL1")
            print()
        print(machine_line("Start"))
        print()
        crs_report(args, *crs_cost(args))
        print(machine_line("End"))
        print()


def flood_report(args):
    print("%d requests, each from a new 127.0.0.0/8 address, %d client threads, "
          "SecCollectionTimeout %d s (records expire %d s after their last write); one Apache "
          "(mpm_event, 1 process x 16 threads) per store." % (args.requests, args.clients,
                                                               args.timeout, args.timeout))
    print()
    for kind in ("embedded", "redis"):
        rows = run(kind, args)
        extra = " redis-server CPU µs/request |" if kind == "redis" else ""
        print("| %s: tenth | req/s | Apache CPU µs/request |%s worker RSS kB | store size |"
              % (kind, extra))
        print("|---|---|---|---|---|" + ("---|" if extra else ""))
        for r in rows:
            print("| %d | %.0f | %.0f |%s %d | %s |"
                  % (r["tenth"], r["rps"], r["cpu"],
                     " %.0f |" % r["store_cpu"] if extra else "", r["rss"], r["size"]))
        print()
        for line in summary(kind, rows, args.timeout):
            print("- " + line)
        print()


if __name__ == "__main__":
    main()
