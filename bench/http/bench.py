#!/usr/bin/env python3
"""HTTP benchmark: bare Apache vs Apache + Parapet (1.9 rules) vs Apache + ModSecurity 2.9.7
(the same 100 rules as SecRule), beside Apache + Parapet with those SecRules and OWASP CRS on
both WAFs at PL1 and PL4 (issues 13 and 15; --no-extra leaves them out), then memory growth on large uploads and the engine's
instruction counts under callgrind. Writes bench/RESULTS.md from bench/RESULTS.md.in.

Three Apache instances run side by side, each in its own temporary ServerRoot on a free
127.0.0.1 port, with one generated configuration that differs only in the WAF block. Every
instance runs as a child of this script in its own session and is stopped by PID (SIGTERM,
then SIGKILL by PID for anything of its group still there); nothing is matched by name.
The layout mirrors tests/e2e/harness.py, but the configuration is tuned for measuring (no
access log, unlimited keep-alive, one worker process) and kept here so the harness can evolve.

Order of a run (the method is spelled out in RESULTS.md):
  1. memory: single 10 MB uploads to the fresh workers, then one 1 GiB streamed upload to bare
     Apache and Parapet; worker VmRSS before, VmHWM (reset through clear_refs) after;
  2. statuses: every scenario once per server (200 benign, 403 from both WAFs on the attack
     and on the same attack inside urlencoded and multipart bodies); a mismatch aborts;
  3. throughput: Apache pinned to CPU 0, wrk -t1 -c8 to CPU 1; rounds x scenarios x servers
     (server order rotating); server CPU per request from /proc/PID/stat of every process of
     the instance; any unexpected status during a wrk run aborts;
  4. callgrind: build/bench_rules (N minus 0 iterations), then apache2 -X per configuration;
  5. RESULTS.md from the template.
The module is copied into the run's temporary directory first, so a rebuild of
build/mod_parapet.so in the meantime cannot mix two builds in one run.

Standard library only. Set-up and the Apache instance are in bench_setup.py, the instruction
counts in bench_callgrind.py, the report in bench_report.py.
"""
import argparse
import hashlib
import http.client
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_setup import (
    APACHE_BIN, Abort, BENCH, BOUNDARY, CRS_KINDS, EXTRA, GiB, KiB, LABEL, MODSEC_SO, MiB,
    PARAPET_SO, REFERENCE, RULES_19, RULES_2, SERVERS, Scenario, Server, TEMPLATE, busy_seconds,
    children_cpu_seconds, status_kb,
)
from bench_callgrind import (
    apache_callgrind_phase, configtest_phase, engine_phase,
)
from bench_report import (
    engine_text, extra_report, fmt_int, last_error, load_text, machine, memory_table, targets,
    throughput_table, waf_cost_table, write_results,
)


# ---- request bodies -------------------------------------------------------------------------

def urlencoded_body(size):
    rnd = random.Random(2)
    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed eiusmod tempor "
             "incididunt labore dolore magna aliqua enim minim veniam quis nostrud exercitation "
             "ullamco laboris nisi aliquip commodo consequat duis aute irure reprehenderit "
             "voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat").split()
    fields, i = [], 0
    while len("&".join(fields)) < size:
        value = "+".join(rnd.choice(words) for _ in range(12))
        fields.append("field%02d=%s" % (i, value))
        i += 1
    body = "&".join(fields)[:size]
    return body.rstrip("+&=").encode()


def multipart_parts(file_size, block):
    """(head, tail) around a file part of file_size bytes; block is the content unit."""
    head = ("--{b}\r\n"
            "Content-Disposition: form-data; name=\"description\"\r\n\r\n"
            "Holiday photo from the coast\r\n"
            "--{b}\r\n"
            "Content-Disposition: form-data; name=\"upload\"; filename=\"photo.jpg\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").format(b=BOUNDARY).encode()
    tail = ("\r\n--%s--\r\n" % BOUNDARY).encode()
    assert BOUNDARY.encode() not in block
    return head, tail


def random_block(size, seed):
    data = random.Random(seed).randbytes(size)
    # No line in the file starts with '--': ModSecurity 2.9.7 takes such a line for a possible
    # unmatched boundary (MULTIPART_UNMATCHED_BOUNDARY, which the recommended configuration's
    # rule 200004 denies), and the upload is meant to be benign for every WAF.
    while b"\n--" in data:
        data = data.replace(b"\n--", b"\n-x")
    assert BOUNDARY.encode() not in data
    return data


def write_multipart(path, file_size, seed):
    block = random_block(min(file_size, MiB), seed)
    head, tail = multipart_parts(file_size, block)
    with open(path, "wb") as f:
        f.write(head)
        left = file_size
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
        f.write(tail)


class StreamedMultipart:
    """A multipart body of one huge file part generated on the fly (never held in memory)."""

    def __init__(self, file_size, block=MiB):
        self.file_size = file_size
        self.block = random_block(block, 7)
        self.head, self.tail = multipart_parts(file_size, self.block)
        self.length = len(self.head) + file_size + len(self.tail)

    def __iter__(self):
        yield self.head
        left = self.file_size
        while left:
            n = min(left, len(self.block))
            yield self.block if n == len(self.block) else self.block[:n]
            left -= n
        yield self.tail


# ---- scenarios --------------------------------------------------------------------------------


def write_bodies(bodies):
    """The request bodies of post2k, mp100k and mp10m (also for build/bench_rules:
    PP_BENCH_BODY=DIR/multipart-100k.bin is the mp100k request on the engine alone)."""
    (bodies / "form-2k.txt").write_bytes(urlencoded_body(2 * KiB))
    write_multipart(bodies / "multipart-100k.bin", 100 * KiB, 1)
    write_multipart(bodies / "multipart-10m.bin", 10 * MiB, 3)


def make_scenarios(tmp, args):
    bodies = tmp / "bodies"
    bodies.mkdir()
    write_bodies(bodies)
    mp = "multipart/form-data; boundary=" + BOUNDARY
    d = args.duration
    scenarios = [
        Scenario("get5", "GET, 5 arguments", "GET",
                 "/search.html?q=shoes&page=2&sort=price&lang=en&ref=home", duration=d),
        Scenario("post2k", "POST 2 KB urlencoded", "POST", "/search.html",
                 bodies / "form-2k.txt", "application/x-www-form-urlencoded", duration=d),
        Scenario("mp100k", "POST 100 KB multipart (1 file)", "POST", "/search.html",
                 bodies / "multipart-100k.bin", mp, duration=d),
        Scenario("mp10m", "POST 10 MB multipart (1 file)", "POST", "/search.html",
                 bodies / "multipart-10m.bin", mp, duration=args.duration_large),
        Scenario("attack", "GET attack (UNION SELECT, rule 300001)", "GET",
                 "/search.html?q=1+union+select+password+from+users&page=2&sort=asc&lang=en"
                 "&ref=home", attack=True, duration=d),
        # Made for backtracking (checked, not assumed: the per-request CPU is the measure):
        # 1,800 bytes of '--x' runs for CRS's comment and SQL regexes (942440's '--[^-]*?-',
        # lazy scans that restart at every '--'), after a quote and an unclosed bracket.
        Scenario("redos", "GET crafted to backtrack (CRS)", "GET",
                 "/search.html?q=%27(" + "--x" * 600 + "&page=2&sort=price&lang=en&ref=home",
                 duration=d, only=("bare", "parapet-crs", "modsec-crs")),
    ]
    for sc in scenarios:
        sc.script = tmp / ("wrk-%s.lua" % sc.key)
        sc.script.write_text(sc.lua())
    return scenarios


def send(port, method, path, headers, body=None, length=None, timeout=600):
    """One request with http.client; body is bytes, a file path or an iterable of bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if isinstance(body, Path):
            length = body.stat().st_size
        elif isinstance(body, bytes):
            length = len(body)
        if body is not None:
            conn.putheader("Content-Length", str(length))
        conn.endheaders()
        if isinstance(body, Path):
            with open(body, "rb") as f:
                while True:
                    piece = f.read(MiB)
                    if not piece:
                        break
                    conn.send(piece)
        elif isinstance(body, bytes):
            conn.send(body)
        elif body is not None:
            for piece in body:
                conn.send(piece)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def body_attacks(scenarios):
    """Checked, not measured: the attack inside a urlencoded and a multipart body, so a WAF
    that skipped body inspection could not pass for a fast one."""
    form = next(sc for sc in scenarios if sc.key == "post2k")
    mp = next(sc for sc in scenarios if sc.key == "mp100k")
    payload = "1 union select password from users"
    head, tail = multipart_parts(16, b"x")
    mp_body = head.replace(b"Holiday photo from the coast", payload.encode()) + b"0" * 16 + tail
    return [
        (Scenario("post-attack", "POST urlencoded attack", "POST", form.path,
                  content_type=form.content_type, attack=True),
         Path(form.body_file).read_bytes() + b"&comment=" + payload.replace(" ", "+").encode()),
        (Scenario("mp-attack", "POST multipart attack", "POST", mp.path,
                  content_type=mp.content_type, attack=True), mp_body),
    ]


def precheck(servers, scenarios, excluded, attacks):
    """Every scenario once per configuration, then the body attacks. CRS configurations:
    ModSecurity's status is the expected one (at PL4 CRS refuses some benign requests, e.g. the
    form's blanks by 920273), and Parapet + CRS must give the same; one that does not is left
    out of the measurement (excluded[kind] says why) instead of being measured on different
    work."""
    checks = [(sc, Path(sc.body_file) if sc.body_file else None) for sc in scenarios]
    for sc, body in checks + attacks:
        for ms in ("modsec-crs", "modsec-crs4"):
            if ms in servers and sc.runs_on(ms):
                status = send(servers[ms].port, sc.method, sc.path, sc.headers(), body)
                if status not in (200, 403):
                    raise Abort("%s answered %d to '%s'\n%s" % (LABEL[ms], status, sc.title,
                                                               servers[ms].logs()))
                sc.expect[ms] = sc.expect["parapet" + ms[6:]] = status
        for kind in list(servers):
            if not sc.runs_on(kind) or kind in excluded:
                continue
            srv = servers[kind]
            status = send(srv.port, sc.method, sc.path, sc.headers(), body)
            if status != sc.expected(kind):
                if kind in EXTRA:
                    excluded[kind] = ("answered %d where %s answered %d to '%s'" % (
                        status, "ModSecurity" if kind in CRS_KINDS else "the rules expect",
                        sc.expected(kind), sc.title))
                    continue
                raise Abort("%s answered %d (expected %d) to '%s'; the run is invalid.\n%s" % (
                    LABEL[kind], status, sc.expected(kind), sc.title, srv.logs()))


# ---- wrk ------------------------------------------------------------------------------------

WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def run_wrk(srv, sc, duration, client_cpu):
    cmd = ["wrk", "-t1", "-c%d" % sc.connections, "-d%ds" % duration, "--timeout", "60s",
           "-s", str(sc.script), "http://127.0.0.1:%d%s" % (srv.port, sc.path)]
    if client_cpu is not None:
        cmd = ["taskset", "-c", str(client_cpu)] + cmd
    worker = srv.worker()
    srv.reset_peak(worker)
    rss0 = status_kb(worker, "VmRSS")
    busy0, wrk0, t0 = busy_seconds(), children_cpu_seconds(), time.time()
    cpu0 = srv.cpu_seconds()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    # In-flight requests are answered (or abandoned) once wrk closes its connections.
    time.sleep(0.2)
    cpu1 = srv.cpu_seconds()
    busy1, wrk1, t1 = busy_seconds(), children_cpu_seconds(), time.time()
    # What the rest of the machine (anything but this server and wrk) used meanwhile.
    foreign = (busy1 - busy0) - (cpu1 - cpu0) - (wrk1 - wrk0)
    foreign_share = max(0.0, foreign) / ((t1 - t0) * (os.cpu_count() or 1))
    hwm = status_kb(worker, "VmHWM")
    out = res.stdout + res.stderr
    m = WRK_REQUESTS.search(out)
    if res.returncode != 0 or not m:
        raise Abort("wrk failed on %s / %s:\n%s" % (LABEL[srv.kind], sc.title, out))
    requests = int(m.group(1))
    seconds = float(m.group(2)) * UNIT_S[m.group(3)]
    non2xx = int(WRK_NON2XX.search(out).group(1)) if WRK_NON2XX.search(out) else 0
    errs = WRK_ERRORS.search(out)
    errors = sum(int(x) for x in errs.groups()) if errs else 0
    expected_non2xx = requests if sc.expected(srv.kind) >= 300 else 0
    if requests == 0 or non2xx != expected_non2xx:
        raise Abort("%s / %s: %d of %d answers were not %d; the run is invalid.\n%s\n%s" % (
            LABEL[srv.kind], sc.title, abs(non2xx - expected_non2xx), requests,
            sc.expected(srv.kind), out, srv.logs()))
    if errors > requests // 100 + 8:
        raise Abort("%s / %s: %d socket errors in %d requests:\n%s" % (
            LABEL[srv.kind], sc.title, errors, requests, out))
    return {"rps": requests / seconds, "requests": requests, "errors": errors,
            "cpu_us": (cpu1 - cpu0) * 1e6 / requests, "rss0": rss0, "hwm": hwm,
            "foreign": foreign_share}


# ---- phases ----------------------------------------------------------------------------------

def throughput_phase(servers, scenarios, args, client_cpu, log):
    kinds = tuple(servers)
    results = {(sc.key, k): [] for sc in scenarios for k in kinds if sc.runs_on(k)}
    for kind in kinds:                                     # warm-up, not recorded
        run_wrk(servers[kind], scenarios[0], 1, client_cpu)
    for rnd in range(args.rounds):
        order = kinds[rnd % len(kinds):] + kinds[:rnd % len(kinds)]
        for sc in scenarios:
            for kind in order:
                if not sc.runs_on(kind):
                    continue
                r = run_wrk(servers[kind], sc, sc.duration, client_cpu)
                results[(sc.key, kind)].append(r)
                log("  round %d  %-7s %-8s %9.1f req/s %9.1f us CPU/req  (other load %2.0f %%)"
                    % (rnd + 1, sc.key, kind, r["rps"], r["cpu_us"], 100 * r["foreign"]))
    return results


def summarize(results, scenarios):
    rows = []
    for sc in scenarios:
        row = {"scenario": sc}
        kinds = [k for (key, k) in results if key == sc.key]
        for kind in kinds:
            runs = results[(sc.key, kind)]
            row[kind] = {"rps": statistics.median(r["rps"] for r in runs),
                         "cpu_us": statistics.median(r["cpu_us"] for r in runs),
                         "cpu_min": min(r["cpu_us"] for r in runs),
                         "cpu_max": max(r["cpu_us"] for r in runs),
                         "hwm_growth": max(r["hwm"] - r["rss0"] for r in runs),
                         "requests": sum(r["requests"] for r in runs)}
        # Ratios pair the runs of one round (measured back to back), then take the median.
        base = results[(sc.key, "bare")]
        row["ratio"] = {}
        for kind in kinds:
            if kind == "bare":
                continue
            runs = results[(sc.key, kind)]
            row["ratio"][kind] = {
                "rps": statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, base)),
                "cpu": statistics.median(r["cpu_us"] / b["cpu_us"] for r, b in zip(runs, base))}
        if "parapet" in kinds and "modsec" in kinds:
            row["ratio"]["p_vs_m"] = statistics.median(
                p["cpu_us"] / m["cpu_us"]
                for p, m in zip(results[(sc.key, "parapet")], results[(sc.key, "modsec")]))
        rows.append(row)
    return rows


def memory_phase(servers, scenarios, args, log):
    """RSS of the worker before / peak during / after single large uploads."""
    mp10 = next(sc for sc in scenarios if sc.key == "mp10m")
    out = {}
    plan = [("10 MB multipart (single request, repeated 3x)", "mp10m", SERVERS)]
    if args.gigabyte:
        plan.append(("1 GiB multipart (streamed once)", "mp1g", ("bare", "parapet")))
    for title, key, kinds in plan:
        for kind in kinds:
            srv = servers[kind]
            pid = srv.worker()
            srv.reset_peak(pid)
            rss0 = status_kb(pid, "VmRSS")
            anon0 = status_kb(pid, "RssAnon")
            t0 = time.time()
            if key == "mp10m":
                for _ in range(3):
                    status = send(srv.port, "POST", mp10.path, mp10.headers(),
                                  Path(mp10.body_file))
                    if status != 200:
                        break
                nbytes = 3 * Path(mp10.body_file).stat().st_size
            else:
                body = StreamedMultipart(GiB)
                status = send(srv.port, "POST", mp10.path, mp10.headers(), iter(body),
                              length=body.length)
                nbytes = body.length
            secs = time.time() - t0
            time.sleep(0.3)
            hwm, rss1 = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
            anon1 = status_kb(pid, "RssAnon")
            left = srv.leftover_files()
            if status != 200:
                raise Abort("%s answered %d to the %s upload\n%s" % (LABEL[kind], status, title,
                                                                     srv.logs()))
            out[(key, kind)] = {"title": title, "rss0": rss0, "hwm": hwm, "rss1": rss1,
                                "anon0": anon0, "anon1": anon1, "secs": secs,
                                "mbps": nbytes / MiB / secs, "left": left}
            log("  %-40s %-8s RSS %d -> peak %d -> %d KiB (%.1f s) leftover files: %d" % (
                title, kind, rss0, hwm, rss1, secs, len(left)))
    return out


# ---- main ---------------------------------------------------------------------------------------

SCENARIO_KEYS = ("get5", "post2k", "mp100k", "mp10m", "attack", "redos")


def split_list(text):
    return tuple(x.strip() for x in text.split(",") if x.strip())


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median reported)")
    ap.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    ap.add_argument("--duration-large", type=int, default=4,
                    help="seconds per wrk run of the 10 MB scenario")
    ap.add_argument("--cg-iterations", type=int, default=2000)
    ap.add_argument("--cg-requests", type=int, default=200,
                    help="requests per apache2 -X callgrind run (0 skips it)")
    ap.add_argument("--no-gigabyte", dest="gigabyte", action="store_false",
                    help="skip the 1 GiB streamed upload")
    ap.add_argument("--no-extra", dest="extra", action="store_false",
                    help="only bare / Parapet (1.9 rules) / ModSecurity: no SecRule form, no CRS")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 round of 1 s, no 1 GiB, small callgrind runs")
    ap.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    ap.add_argument("--scenarios", default=None,
                    help="focused run: only these scenarios (comma-separated keys: get5, post2k, "
                         "mp100k, mp10m, attack, redos); only their statuses are checked and "
                         "their throughput measured (no upload-memory or callgrind phase; the "
                         "workers' VmRSS after start-up and after the runs is printed), a table "
                         "is printed and RESULTS.md is left alone")
    ap.add_argument("--bodies", type=Path, default=None, metavar="DIR",
                    help="only write the request bodies (form-2k.txt, multipart-100k.bin, "
                         "multipart-10m.bin) into DIR, for build/bench_rules (PP_BENCH_BODY)")
    ap.add_argument("--servers", default=None,
                    help="focused run: only these configurations (comma-separated: bare, "
                         "parapet, modsec, parapet-2x, parapet-crs, modsec-crs, parapet-crs4, "
                         "modsec-crs4); bare is always added, the ratios need it")
    ap.add_argument("--smaps", type=Path, default=None,
                    help="focused run: also copy each worker's /proc/PID/smaps after start-up "
                         "and after the wrk runs into this directory (KIND-start.smaps, "
                         "KIND-end.smaps)")
    args = ap.parse_args()
    args.focused = args.scenarios is not None or args.servers is not None
    kinds = SERVERS + EXTRA
    scen = SCENARIO_KEYS if args.scenarios is None else split_list(args.scenarios)
    given = kinds if args.servers is None else split_list(args.servers)
    unknown = [k for k in scen if k not in SCENARIO_KEYS] + [k for k in given if k not in kinds]
    if unknown or not scen:
        ap.error("unknown scenario or configuration: %s" % (", ".join(unknown) or "(none)"))
    args.scenarios = scen
    # In the table's order; bare Apache always, every ratio is against it.
    args.servers = tuple(k for k in kinds if k == "bare" or k in given)
    if args.quick:
        args.rounds, args.duration, args.duration_large = 1, 1, 2
        args.gigabyte, args.cg_iterations, args.cg_requests = False, 50, 20
    return args


def focused_table(rows, kinds):
    """A focused run's summary: per scenario and configuration the medians, the spread, and the
    ratios to bare Apache of the same round."""
    lines = ["| scenario | configuration | req/s | CPU µs/req | CPU spread (µs) | req/s ÷ bare "
             "| CPU − bare (µs) | bare CPU ÷ CPU (capacity) |", "|" + "---|" * 8]
    for r in rows:
        for kind in kinds:
            if kind not in r:
                continue
            x, b = r[kind], r["bare"]
            q = r["ratio"].get(kind)
            lines.append("| %s | %s | %s | %.1f | %.1f–%.1f | %s | %s | %s |" % (
                r["scenario"].key, LABEL[kind], fmt_int(x["rps"]), x["cpu_us"], x["cpu_min"],
                x["cpu_max"], "%.2f" % q["rps"] if q else "—",
                "%.1f" % (x["cpu_us"] - b["cpu_us"]) if q else "—",
                "%.2f" % (1 / q["cpu"]) if q else "—"))
    return "\n".join(lines)


def worker_memory(servers, smaps_dir, tag, wait=0):
    """Per configuration the worker's (VmRSS, anonymous RSS) in KiB; with smaps_dir, a copy of
    its /proc/PID/smaps as KIND-TAG.smaps."""
    out = {}
    for kind, srv in servers.items():
        pid = srv.worker(wait=wait)
        out[kind] = (status_kb(pid, "VmRSS"), status_kb(pid, "RssAnon"))
        if smaps_dir is not None:
            smaps_dir.mkdir(parents=True, exist_ok=True)
            text = Path("/proc", str(pid), "smaps").read_text()
            (smaps_dir / ("%s-%s.smaps" % (kind, tag))).write_text(text)
    return out


def focused_memory_table(start, end, kinds):
    """Worker VmRSS after start-up and after the focused run's wrk runs, the growth over bare
    Apache, and each Parapet configuration's growth over its reference's (the issue-15 ratio).
    The full run measures after more scenarios (and the memory phase's uploads): the figures
    are comparable between focused runs of the same scenarios only."""
    lines = ["| configuration | VmRSS after start-up (KiB) | anon | VmRSS after the runs (KiB) "
             "| anon | − bare after the runs (KiB) | ÷ reference's |", "|" + "---|" * 7]
    for kind in kinds:
        if kind not in end:
            continue
        grow = end[kind][0] - end["bare"][0]
        ref = REFERENCE.get(kind)
        ratio = "—"
        if kind != "bare" and ref in end:
            ratio = "%.2f" % (grow / max(1, end[ref][0] - end["bare"][0]))
        lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            LABEL[kind], fmt_int(start[kind][0]), fmt_int(start[kind][1]), fmt_int(end[kind][0]),
            fmt_int(end[kind][1]), "—" if kind == "bare" else fmt_int(grow), ratio))
    return "\n".join(lines)


def focused_run(args, tmp, htdocs, server_cpu, client_cpu, servers, log):
    """--scenarios / --servers: statuses and throughput of the chosen scenarios on the chosen
    configurations only (the body attacks are still checked on every WAF, so a WAF that
    skipped body inspection cannot pass for a fast one); prints the table, writes nothing."""
    every = make_scenarios(tmp, args)
    scenarios = [sc for sc in every if sc.key in args.scenarios]
    excluded = {}
    for kind in args.servers:
        srv = Server(kind, tmp, server_cpu)
        srv.prepare(htdocs)
        servers[kind] = srv.start()
    log("started: " + ", ".join("%s on 127.0.0.1:%d" % (k, s.port) for k, s in servers.items()))
    # Before any request, as the full run's "after start-up" column.
    rss_start = worker_memory(servers, args.smaps, "start", wait=10)
    precheck(servers, scenarios, excluded, body_attacks(every))
    if excluded:
        raise Abort("; ".join("%s %s" % (LABEL[k], why) for k, why in excluded.items()))
    log("statuses checked")
    results = throughput_phase(servers, scenarios, args, client_cpu, log)
    rows = summarize(results, scenarios)
    leftovers = {kind: srv.leftover_files() for kind, srv in servers.items()}
    foreign = sorted(r["foreign"] for runs in results.values() for r in runs)
    rss_end = worker_memory(servers, args.smaps, "end")
    print("\n" + focused_table(rows, args.servers) + "\n")
    print(focused_memory_table(rss_start, rss_end, args.servers) + "\n")
    print("%d rounds; other load on the machine: median %.0f %%, maximum %.0f %%; files left "
          "in upload/tmp dirs: %s" % (args.rounds, 100 * statistics.median(foreign),
                                      100 * foreign[-1], ", ".join(
                                          "%s %d" % (k, len(v)) for k, v in leftovers.items())))
    return 1 if any(leftovers.values()) else 0


def preflight():
    missing = [str(p) for p in (PARAPET_SO, MODSEC_SO, RULES_19, RULES_2, TEMPLATE)
               if not p.exists()]
    missing += [t for t in ("wrk", "valgrind", "taskset") if not shutil.which(t)]
    if not Path(APACHE_BIN).exists():
        missing.append(APACHE_BIN)
    if missing:
        raise Abort("missing: " + ", ".join(missing))


def main():
    args = parse_args()
    if args.bodies is not None:
        args.bodies.mkdir(parents=True, exist_ok=True)
        write_bodies(args.bodies)
        return 0
    started = time.time()

    def log(msg):
        print("[%5.0fs] %s" % (time.time() - started, msg), flush=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    preflight()
    cpus = os.cpu_count() or 1
    server_cpu, client_cpu = (0, 1) if cpus >= 2 else (None, None)
    tmp = Path(tempfile.mkdtemp(prefix="parapet-bench-"))
    os.chmod(tmp, 0o755)
    servers = {}
    try:
        htdocs = {"search.html": b"<html><body><p>search results</p></body></html>\n",
                  "index.html": b"<html><body>parapet bench</body></html>\n"}
        # A private copy: other work in the tree may relink build/mod_parapet.so meanwhile, and
        # the callgrind phase starts Apache again later. Every instance loads the same bytes.
        Server.module = tmp / "mod_parapet.so"
        shutil.copy2(PARAPET_SO, Server.module)
        module_sha = hashlib.sha256(Server.module.read_bytes()).hexdigest()[:12]
        if args.focused:
            return focused_run(args, tmp, htdocs, server_cpu, client_cpu, servers, log)
        scenarios = make_scenarios(tmp, args)
        excluded = {}
        for kind in SERVERS + (EXTRA if args.extra else ()):
            srv = Server(kind, tmp, server_cpu)
            srv.prepare(htdocs)
            if kind.startswith("parapet-"):
                try:
                    servers[kind] = srv.start()
                except Abort as err:
                    # Not faked: a configuration Parapet refuses is reported as refused.
                    excluded[kind] = "did not start: %s" % last_error(srv, err)
                    log("%s: %s" % (kind, excluded[kind]))
                    srv.stop()
            else:
                servers[kind] = srv.start()
        log("started: " + ", ".join("%s on 127.0.0.1:%d" % (k, s.port)
                                    for k, s in servers.items()))
        load_start = os.getloadavg()
        # Memory first, on workers that have served nothing yet: later, the allocators' free
        # lists (kept from the concurrent runs) would hide what a single upload costs.
        log("memory")
        rss_start = {k: status_kb(s.worker(wait=10), "VmRSS") for k, s in servers.items()}
        mem = memory_phase(servers, scenarios, args, log)
        precheck(servers, scenarios, excluded, body_attacks(scenarios))
        for kind in excluded:
            if kind in servers:
                log("%s left out: %s" % (kind, excluded[kind]))
                servers.pop(kind).stop()
        log("statuses checked (200 benign everywhere, 403 on attacks from both WAFs)")
        results = throughput_phase(servers, scenarios, args, client_cpu, log)
        rows = summarize(results, scenarios)
        leftovers = {kind: srv.leftover_files() for kind, srv in servers.items()}
        rss_end = {k: status_kb(s.worker(), "VmRSS") for k, s in servers.items()}
        load_end = os.getloadavg()
        foreign = sorted(r["foreign"] for runs in results.values() for r in runs)
        for srv in servers.values():
            srv.stop()
        ctest = configtest_phase(servers, [k for k in ("bare",) + CRS_KINDS if k in servers],
                                 log)
        cg_kinds = [k for k in SERVERS + ("parapet-2x", "parapet-crs", "modsec-crs")
                    if k in servers]
        servers = {}
        log("callgrind")
        eng = engine_phase(tmp, args, log)
        apcg = (apache_callgrind_phase(tmp, htdocs, args, log, cg_kinds)
                if args.cg_requests else None)
        elapsed = time.time() - started
        m = machine()
        m["commit"] += ", mod_parapet.so sha256 %s…" % module_sha
        base_rows = [r for r in rows if r["scenario"].only is None]
        extra = extra_report(rows, excluded, rss_start, rss_end, ctest, eng, apcg, args)
        rows = base_rows
        table = throughput_table(rows)
        print("\n" + table + "\n")
        print(targets(rows, mem, eng, apcg, leftovers) + "\n")
        print(extra["extra_targets"] + "\n")
        ctx = dict(m)
        ctx.update(extra)
        ctx.update(
            command=" ".join(["make bench  (bench/run.sh → python3 bench/http/bench.py"]
                             + sys.argv[1:]) + ")",
            page_bytes=len(htdocs["search.html"]),
            date=time.strftime("%Y-%m-%d %H:%M %Z"),
            elapsed="%.0f" % elapsed,
            rounds=args.rounds, duration=args.duration, duration_large=args.duration_large,
            pinning=("Apache on CPU %s, wrk on CPU %s (taskset)" % (server_cpu, client_cpu)
                     if server_cpu is not None else "none (one CPU)"),
            table=table, waf_cost=waf_cost_table(rows), memory=memory_table(mem, rows),
            targets=targets(rows, mem, eng, apcg, leftovers), engine=engine_text(eng, apcg),
            requests=fmt_int(extra["requests"]),
            load=load_text(load_start, load_end, foreign),
            leftovers=", ".join("%s %d" % (LABEL[k], len(v)) for k, v in leftovers.items()),
        )
        write_results(args.output, ctx)
        log("wrote %s" % args.output)
    except Abort as err:
        print("bench: ABORTED: %s" % err, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        for srv in servers.values():
            srv.stop()
        if os.environ.get("PARAPET_BENCH_KEEP"):
            print("bench: kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
