#!/usr/bin/env python3
"""What the metrics cost per request (issue 18): instructions inside Apache per request
(apache2 -X under callgrind, counted in ap_run_process_connection, as bench/http/bench.py does)
for bare Apache, Apache + Parapet, and Apache + Parapet built with -DPP_AP_NO_METRICS (the
per-request counting compiled out). Prints a Markdown section; bench/run.sh appends it to
bench/RESULTS.md. Deterministic, so one run is enough; needs valgrind.

Usage: python3 bench/metrics/cost.py [REQUESTS]   (default 300 GETs with 5 arguments)
"""
import http.client
import os
import pwd
import subprocess
import sys
import tempfile
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "http"))
import bench_setup as B  # noqa: E402
from bench_callgrind import read_callgrind_total  # noqa: E402

PATH = "/search.html?q=shoes&page=2&sort=price&lang=en&ref=home"


def build_without_metrics():
    out = B.REPO / "build" / "nometrics"
    subprocess.run(["make", "-s", "-C", str(B.REPO), "BUILD=build/nometrics",
                    "OPT=-O2 -g -DPP_AP_NO_METRICS", "build/nometrics/mod_parapet.so"],
                   check=True, stdout=sys.stderr)
    return out / "mod_parapet.so"


def instructions(kind, module, base, name, requests, htdocs):
    B.Server.module = module
    srv = B.Server(kind, base / name, None)
    (base / name).mkdir()
    srv.root = base / name / kind
    srv.prepare(htdocs)
    cgout = base / ("cg-%s.out" % name)
    cgout.touch()
    if B.running_as_root():
        user = pwd.getpwnam(B.CHILD_USER)
        os.chown(cgout, user.pw_uid, user.pw_gid)
    wrapper = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % cgout, "--vgdb=no",
               "--collect-atstart=no", "--toggle-collect=ap_run_process_connection"]
    try:
        srv.start(wrapper=wrapper, extra=("-X",), timeout=120)
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        for _ in range(requests):
            conn.putrequest("GET", PATH, skip_host=True, skip_accept_encoding=True)
            for hname, value in B.HEADERS:
                conn.putheader(hname, value)
            conn.endheaders()
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit("%s answered %d" % (name, resp.status))
        conn.close()
    finally:
        srv.stop()
    return read_callgrind_total(cgout) / requests


def main():
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    without = build_without_metrics()
    tmp = Path(tempfile.mkdtemp(prefix="parapet-bench-metrics-"))
    os.chmod(tmp, 0o755)
    htdocs = {"search.html": b"<html><body>results</body></html>\n",
              "index.html": b"<html><body>parapet bench</body></html>\n"}
    try:
        # Private copies: other work may relink build/ meanwhile.
        with_so, without_so = tmp / "with.so", tmp / "without.so"
        shutil.copy(B.PARAPET_SO, with_so)
        shutil.copy(without, without_so)
        bare = instructions("bare", with_so, tmp, "bare", requests, htdocs)
        on = instructions("parapet", with_so, tmp, "metrics", requests, htdocs)
        off = instructions("parapet", without_so, tmp, "nometrics", requests, htdocs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cost = on - off
    print("## Metrics cost\n")
    print("Command: `python3 bench/metrics/cost.py %d` (apache2 -X under callgrind, "
          "instructions\nin ap_run_process_connection per GET with 5 arguments, %s)."
          % (requests, B.RULES_19.name))
    print()
    print("| configuration | instructions / request |")
    print("|---|---:|")
    print("| bare Apache | %.0f |" % bare)
    print("| Apache + Parapet, counting compiled out (-DPP_AP_NO_METRICS) | %.0f |" % off)
    print("| Apache + Parapet with metrics | %.0f |" % on)
    print()
    print("Metrics: %.0f instructions per request, %.2f %% of the request's CPU with Parapet "
          "(%.2f %% of Parapet's own)." % (cost, 100.0 * cost / on, 100.0 * cost / (on - bare)))


if __name__ == "__main__":
    main()
