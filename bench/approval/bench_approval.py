#!/usr/bin/env python3
"""Approval latency per intercepted file, in one run: native clamd (SecUploadScanClamd,
INSTREAM) vs util/parapet-clamscan with clamdscan vs with clamscan, as ratios.

Each measurement runs `build/parapet eval` on a PUT of a 64 KiB clean file (the engine's own
path: store the file, approve it, decide); a run without any scanner is the baseline that is
subtracted, so the figures are the approval's own cost. The clamd is the test fixture's
(tests/fixtures/clamav.sh: private socket, EICAR signature database), so no network and no
system clamd are involved. Prints a table; `make bench` includes it in bench/RESULTS.md.

usage: bench_approval.py [ROUNDS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARAPET = ROOT / "build" / "parapet"
FIXTURE = ROOT / "tests" / "fixtures" / "clamav.sh"
CLAMSCAN_HELPER = ROOT / "util" / "parapet-clamscan"
FILE_BYTES = 64 * 1024


def write_request(path):
    body = os.urandom(FILE_BYTES)
    head = "PUT /upload/file.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % len(body)
    path.write_bytes(head.encode() + body)


def write_wrapper(path, scanner, args):
    path.write_text("#!/bin/sh\nexport PARAPET_CLAMSCAN=%s\nexport PARAPET_CLAMSCAN_ARGS='%s'\n"
                    "exec %s \"$1\"\n" % (scanner, args, CLAMSCAN_HELPER))
    path.chmod(0o755)


def config(tmp, extra):
    conf = tmp / ("conf-%d.conf" % abs(hash(extra)))
    conf.write_text("SecFilterEngine On\nSecFilterScanPOST On\nSecUploadDir %s\n%s\n"
                    % (tmp / "uploads", extra))
    return conf


def median_ms(conf, request, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        p = subprocess.run([str(PARAPET), "eval", "-c", str(conf), str(request)],
                           capture_output=True, text=True)
        times.append((time.perf_counter() - t0) * 1000)
        if p.returncode != 0:
            raise SystemExit("approval failed: %s %s" % (p.stdout, p.stderr))
    return statistics.median(times)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    tmp = Path(tempfile.mkdtemp(prefix="parapet-approval-"))
    clamdir = tmp / "clamd"
    try:
        (tmp / "uploads").mkdir()
        clamdir.mkdir()
        subprocess.run([str(FIXTURE), "start", str(clamdir)], check=True, capture_output=True)
        sock = clamdir / "clamd.sock"
        request = tmp / "put.http"
        write_request(request)
        clamdscan = shutil.which("clamdscan")
        clamscan = shutil.which("clamscan")
        write_wrapper(tmp / "with-clamdscan", clamdscan,
                      "--config-file=%s --stream" % (clamdir / "clamd.conf"))
        write_wrapper(tmp / "with-clamscan", clamscan, "-d %s" % (clamdir / "db"))
        setups = [
            ("none (baseline)", ""),
            ("native clamd (INSTREAM)", "SecUploadScanClamd unix:%s" % sock),
            ("parapet-clamscan + clamdscan", "SecUploadApproveScript %s" % (tmp / "with-clamdscan")),
            ("parapet-clamscan + clamscan", "SecUploadApproveScript %s" % (tmp / "with-clamscan")),
        ]
        confs = [(name, config(tmp, extra)) for name, extra in setups]
        results = {name: [] for name, _ in confs}
        for _ in range(3):  # interleaved rounds: drifts of a shared machine hit all alike
            for name, conf in confs:
                results[name].append(median_ms(conf, request, rounds))
        base = statistics.median(results[confs[0][0]])
        native = statistics.median(results[confs[1][0]]) - base
        print("| approval of one 64 KiB file | ms per file | ratio to native clamd |")
        print("|---|---|---|")
        for name, _ in confs[1:]:
            cost = statistics.median(results[name]) - base
            print("| %s | %.1f | %.1f |" % (name, cost, cost / native if native > 0 else 0))
        print("\n(parapet eval wall time minus the no-scanner baseline of %.1f ms; median of %d "
              "runs x 3 interleaved rounds)" % (base, rounds))
    finally:
        subprocess.run([str(FIXTURE), "stop", str(clamdir)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
