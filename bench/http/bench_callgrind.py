"""bench.py's instruction counts: build/bench_rules (N minus 0 iterations) and apache2 -X under
callgrind per configuration, callgrind_annotate's inclusive costs, and apache2 -t timing. Split
from bench.py; standard library only."""
import http.client
import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

from bench_setup import (
    APACHE_BIN, Abort, BUILD, CHILD_USER, CRS_RULES, CRS_SETUP, LABEL, RULES_19, SERVERS,
    Scenario, Server, WAF_CRS, children_cpu_seconds, running_as_root,
)

CG_LINE = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(?!=>|<)(\S+?)(?: \[(\S+)\])?\s*$")


def inclusive_costs(outfile):
    """Inclusive instructions per function from callgrind_annotate (recursion levels merged)."""
    res = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                          str(outfile)], capture_output=True, text=True, timeout=300)
    costs = {}
    for line in res.stdout.splitlines():
        m = CG_LINE.match(line)
        if not m or ":" not in m.group(2):
            continue
        name = re.sub(r"'\d+$", "", m.group(2).split(":", 1)[1])
        where = m.group(2).split(":", 1)[0]
        if "/src/" in where:
            name = where[where.index("/src/") + 5:] + ":" + name
        costs[name] = max(costs.get(name, 0), int(m.group(1).replace(",", "")))
    return costs


def hotspots(full_out, zero_out, n, top=18):
    """Per-request inclusive instructions of the engine's functions: N run minus N = 0."""
    full, zero = inclusive_costs(full_out), inclusive_costs(zero_out)
    per = sorted(((full[k] - zero.get(k, 0)) / n, k) for k in full
                 if k.startswith("engine/") or k in ("apr_psprintf", "pcre2_jit_match_8"))
    return [(k, v) for v, k in reversed(per) if v > 0][:top]


def configtest_phase(servers, kinds, log, repeat=3):
    """`apache2 -t` on each configuration's file: best of `repeat`, wall and CPU time (user +
    system of the apache2 process, from this script's children's rusage)."""
    out = {}
    for kind in kinds:
        srv = servers[kind]
        best = None
        for _ in range(repeat):
            cpu0, t0 = children_cpu_seconds(), time.time()
            res = subprocess.run([APACHE_BIN, "-t", "-f", str(srv.conf)], capture_output=True,
                                 text=True, timeout=300)
            wall, cpu = time.time() - t0, children_cpu_seconds() - cpu0
            if res.returncode != 0:
                out[kind] = {"error": (res.stdout + res.stderr).strip()[-600:]}
                break
            if best is None or cpu < best["cpu"]:
                best = {"wall": wall, "cpu": cpu}
        else:
            out[kind] = best
        if "error" not in out[kind]:
            log("  apache2 -t %-12s %.3f s wall, %.3f s CPU" % (kind, best["wall"], best["cpu"]))
    return out


def callgrind_total(cmd, outfile, cwd=None):
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % outfile] + cmd,
                   capture_output=True, text=True, check=True, cwd=cwd, timeout=900)
    return read_callgrind_total(outfile)


def read_callgrind_total(outfile):
    total = 0
    for line in Path(outfile).read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            total = max(total, int(line.split()[1]))
    return total


def count_rules(path):
    return sum(1 for line in path.read_text().splitlines()
               if re.match(r"\s*(SecFilter|SecFilterSelective|SecRule)\s", line))


def engine_phase(tmp, args, log):
    out = {"iterations": args.cg_iterations, "rules": count_rules(RULES_19)}
    if not (BUILD / "bench_rules").exists():
        out["error"] = "build/bench_rules is missing (make build/bench_rules)"
        return out
    exe = tmp / "bench_rules"
    shutil.copy2(BUILD / "bench_rules", exe)
    full = callgrind_total([str(exe), str(RULES_19), str(args.cg_iterations)],
                           tmp / "cg-engine-n.out")
    zero = callgrind_total([str(exe), str(RULES_19), "0"], tmp / "cg-engine-0.out")
    per_req = (full - zero) / args.cg_iterations
    out.update(full=full, zero=zero, per_request=per_req, per_rule=per_req / out["rules"])
    res = subprocess.run([str(exe), str(RULES_19), "50000"], capture_output=True, text=True)
    out["native"] = res.stdout.strip()
    log("  engine: %.0f instructions/request, %.0f per rule (%d rules)" % (
        per_req, out["per_rule"], out["rules"]))
    # CRS PL1 on the engine alone: the configuration the parapet-crs instance loads (its
    # modsecurity.conf is in that instance's root), same request, N minus 0.
    crs_conf = tmp / "engine-crs.conf"
    crs_root = tmp / "parapet-crs"
    if (crs_root / "conf" / "modsecurity.conf").exists():
        crs_conf.write_text(WAF_CRS.split("\n", 1)[1].format(
            root=crs_root, setup=CRS_SETUP, rules=CRS_RULES, pl=1))
        n = max(20, args.cg_iterations // 10)
        try:
            full = callgrind_total([str(exe), str(crs_conf), str(n)], tmp / "cg-crs-n.out")
            zero = callgrind_total([str(exe), str(crs_conf), "0"], tmp / "cg-crs-0.out")
            out["crs"] = {"iterations": n, "full": full, "zero": zero,
                          "per_request": (full - zero) / n}
            if shutil.which("callgrind_annotate"):
                out["crs"]["hot"] = hotspots(tmp / "cg-crs-n.out", tmp / "cg-crs-0.out", n)
            log("  engine CRS PL1: %.0f instructions/request" % out["crs"]["per_request"])
        except subprocess.CalledProcessError as err:
            out["crs"] = {"error": "bench_rules did not load CRS: %s" % (
                (err.stderr or err.stdout or "").strip()[-600:] or err)}
    mp = tmp / "bench_multipart"
    if (BUILD / "bench_multipart").exists():
        shutil.copy2(BUILD / "bench_multipart", mp)
        try:
            res = subprocess.run([str(mp)], capture_output=True, text=True, timeout=120)
            out["multipart"] = (res.stdout + res.stderr).strip() or "(no output)"
            if res.returncode != 0:
                out["multipart"] += "\n(exit status %d)" % res.returncode
        except subprocess.TimeoutExpired:
            out["multipart"] = "(timed out after 120 s)"
    else:
        out["multipart"] = None
    return out


def apache_callgrind_phase(tmp, htdocs, args, log, kinds=SERVERS):
    """Instructions per request inside Apache (apache2 -X under callgrind), counted only in
    ap_run_process_connection, for the three configurations: the differences to bare Apache
    are the WAFs' own cost on the same request."""
    sc = Scenario("get5", "", "GET", "/search.html?q=shoes&page=2&sort=price&lang=en&ref=home")
    base = tmp / "callgrind"
    base.mkdir()
    out = {"requests": args.cg_requests}
    for kind in kinds:
        srv = Server(kind, base, None)
        srv.prepare(htdocs)
        cgout = base / ("cg-%s.out" % kind)
        # apache2 -X still switches to User before the output is written: the file must be
        # the child user's already (callgrind creates it at start-up, as root).
        cgout.touch()
        if running_as_root():
            user = pwd.getpwnam(CHILD_USER)
            os.chown(cgout, user.pw_uid, user.pw_gid)
        wrapper = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % cgout, "--vgdb=no",
                   "--collect-atstart=no", "--toggle-collect=ap_run_process_connection"]
        try:
            srv.start(wrapper=wrapper, extra=("-X",), timeout=600)
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
            for _ in range(args.cg_requests):
                conn.putrequest("GET", sc.path, skip_host=True, skip_accept_encoding=True)
                for name, value in sc.headers():
                    conn.putheader(name, value)
                conn.endheaders()
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise Abort("%s under callgrind answered %d" % (LABEL[kind], resp.status))
            conn.close()
        finally:
            srv.stop()
        out[kind] = read_callgrind_total(cgout) / args.cg_requests
        log("  apache -X callgrind %-8s %.0f instructions/request" % (kind, out[kind]))
    return out
