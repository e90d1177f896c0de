"""bench.py's report: the machine, the Markdown tables, the targets and their verdicts, the
section on the SecRule form and CRS, and RESULTS.md written from bench/RESULTS.md.in. Split from
bench.py; standard library only."""
import hashlib
import os
import platform
import re
import statistics
import string
import subprocess

from bench_setup import (
    APACHE_BIN, EXTRA, GiB, LABEL, REFERENCE, REPO, RULES_19, RULES_2, SERVERS, TEMPLATE,
)

def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def machine():
    lscpu = sh("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    virt = re.search(r"Hypervisor vendor:\s*(.+)", lscpu)
    apache = sh(APACHE_BIN, "-v").splitlines()
    return {
        "cpu": model.group(1).strip() if model else platform.processor(),
        "cores": str(os.cpu_count()),
        "hypervisor": virt.group(1).strip() if virt else "none",
        "mem": "%.1f GiB" % (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB),
        "kernel": platform.release(),
        "os": sh("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"),
        "apache": apache[0].split(":", 1)[1].strip() if apache else "?",
        "modsec": sh("dpkg-query", "-W", "-f", "${Version}", "libapache2-mod-security2"),
        "pcre2": sh("pcre2-config", "--version"),
        "wrk": sh("dpkg-query", "-W", "-f", "${Version}", "wrk"),
        "valgrind": sh("valgrind", "--version"),
        "commit": sh("git", "-C", str(REPO), "describe", "--always", "--dirty"),
        "rules": "%s (sha256 %s…), %s (sha256 %s…)" % (
            RULES_19.name, hashlib.sha256(RULES_19.read_bytes()).hexdigest()[:12],
            RULES_2.name, hashlib.sha256(RULES_2.read_bytes()).hexdigest()[:12]),
    }


def fmt_int(x):
    return "{:,.0f}".format(x)


def throughput_table(rows):
    head = ("| scenario | req/s bare | req/s Parapet | req/s ModSec | CPU µs/req bare "
            "| CPU µs/req Parapet | CPU µs/req ModSec | Parapet req/s ÷ bare "
            "| ModSec req/s ÷ bare | Parapet CPU ÷ bare | ModSec CPU ÷ bare "
            "| Parapet CPU ÷ ModSec CPU |\n|" + "---|" * 12)
    lines = [head]
    for r in rows:
        b, p, m, q = r["bare"], r["parapet"], r["modsec"], r["ratio"]
        lines.append("| %s | %s | %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f "
                     "| %.2f |" % (
                         r["scenario"].title, fmt_int(b["rps"]), fmt_int(p["rps"]),
                         fmt_int(m["rps"]), b["cpu_us"], p["cpu_us"], m["cpu_us"],
                         q["parapet"]["rps"], q["modsec"]["rps"], q["parapet"]["cpu"],
                         q["modsec"]["cpu"], q["p_vs_m"]))
    return "\n".join(lines)


def waf_cost_table(rows):
    lines = ["| scenario | Parapet CPU − bare (µs/req) | ModSec CPU − bare (µs/req) "
             "| spread of CPU µs/req over rounds (bare / Parapet / ModSec) |",
             "|---|---|---|---|"]
    for r in rows:
        b, p, m = r["bare"], r["parapet"], r["modsec"]
        lines.append("| %s | %.1f | %.1f | %.1f–%.1f / %.1f–%.1f / %.1f–%.1f |" % (
            r["scenario"].title, p["cpu_us"] - b["cpu_us"], m["cpu_us"] - b["cpu_us"],
            b["cpu_min"], b["cpu_max"], p["cpu_min"], p["cpu_max"], m["cpu_min"], m["cpu_max"]))
    return "\n".join(lines)


def memory_table(mem, rows):
    lines = ["| upload | server | RSS before (KiB) | peak RSS (KiB) | peak growth (KiB) "
             "| RSS after (KiB) | anon RSS before → after (KiB) | time (s) | MiB/s "
             "| files left in upload/tmp dirs |", "|" + "---|" * 10]
    for (key, kind), m in mem.items():
        lines.append("| %s | %s | %s | %s | %s | %s | %s → %s | %.2f | %.0f | %d |" % (
            m["title"], LABEL[kind], fmt_int(m["rss0"]), fmt_int(m["hwm"]),
            fmt_int(m["hwm"] - m["rss0"]), fmt_int(m["rss1"]), fmt_int(m["anon0"]),
            fmt_int(m["anon1"]), m["secs"], m["mbps"], len(m["left"])))
    mp = next(r for r in rows if r["scenario"].key == "mp10m")
    lines.append("")
    lines.append("Under load (the 10 MB wrk runs, 8 concurrent uploads), largest peak growth "
                 "of the worker over one run: bare %s KiB, Parapet %s KiB, ModSecurity %s KiB." % (
                     fmt_int(mp["bare"]["hwm_growth"]), fmt_int(mp["parapet"]["hwm_growth"]),
                     fmt_int(mp["modsec"]["hwm_growth"])))
    return "\n".join(lines)


def load_text(start, end, foreign):
    median = statistics.median(foreign)
    text = ("Other processes on the machine during the wrk runs (CPU busy time not spent by the "
            "measured Apache or wrk, as a share of all %d CPUs): median %.0f %%, maximum %.0f %%; "
            "load average %.1f at the start, %.1f at the end." % (
                os.cpu_count() or 1, 100 * median, 100 * foreign[-1], start[0], end[0]))
    if median > 0.10:
        text += (" **The machine was not quiet**: requests/s are disturbed (wrk and Apache "
                 "wait for a core), CPU per request much less so. Re-run on an idle machine for "
                 "throughput figures.")
    return text


def verdict(ok):
    return "**met**" if ok else "**not met**"


def targets(rows, mem, eng, apcg, leftovers):
    get5 = next(r for r in rows if r["scenario"].key == "get5")
    ratio = get5["ratio"]["parapet"]["rps"]
    capacity = 1 / get5["ratio"]["parapet"]["cpu"]
    lines = ["| target | measured | status |", "|---|---|---|",
             "| Parapet GET-5-args throughput ≥ 90 %% of bare Apache (wrk req/s) | %.1f %% | %s |"
             % (ratio * 100, verdict(ratio >= 0.90)),
             "| the same, as CPU-bound capacity (bare CPU/req ÷ Parapet CPU/req) | %.1f %% | %s |"
             % (capacity * 100, verdict(capacity >= 0.90))]
    worse = [r["scenario"].title for r in rows if r["ratio"]["p_vs_m"] >= 1.0]
    desc = ", ".join("%s %.2f" % (r["scenario"].key, r["ratio"]["p_vs_m"]) for r in rows)
    lines.append("| Parapet CPU/request below ModSecurity 2.9.7 (every scenario) | "
                 "Parapet ÷ ModSec: %s | %s%s |" % (
                     desc, verdict(not worse),
                     "" if not worse else " (not below in: %s)" % "; ".join(worse)))
    if "per_rule" in eng:
        lines.append("| engine instructions per rule per request vs ModSecurity's ~11,000 | "
                     "%s | %s |" % (fmt_int(eng["per_rule"]), verdict(eng["per_rule"] < 11000)))
    if apcg:
        mod = (apcg["modsec"] - apcg["bare"]) / eng["rules"]
        par = (apcg["parapet"] - apcg["bare"]) / eng["rules"]
        lines.append("| in Apache (callgrind, −bare): Parapet vs ModSecurity per rule | "
                     "Parapet %s, ModSecurity %s | %s |" % (fmt_int(par), fmt_int(mod),
                                                          verdict(par < mod)))
    # Uploads (issue 17): throughput of a large upload, CPU of a small one, the parser alone.
    mp10 = next((r for r in rows if r["scenario"].key == "mp10m"), None)
    if mp10:
        r10 = mp10["ratio"]["parapet"]["rps"]
        lines.append("| 10 MB multipart through Apache ≥ 50 %% of bare Apache's MB/s (wrk req/s) | "
                     "%.1f %% | %s |" % (r10 * 100, verdict(r10 >= 0.50)))
        # wrk's req/s moves with the load on the machine (bare Apache's more than Parapet's);
        # the CPU each request costs the server does much less, so it is shown beside it.
        c10 = 1 / mp10["ratio"]["parapet"]["cpu"]
        lines.append("| the same, as CPU-bound capacity (bare CPU/req ÷ Parapet CPU/req) | "
                     "%.1f %% | %s |" % (c10 * 100, verdict(c10 >= 0.50)))
    mp100 = next((r for r in rows if r["scenario"].key == "mp100k"), None)
    if mp100:
        over_p = mp100["parapet"]["cpu_us"] - mp100["bare"]["cpu_us"]
        over_m = mp100["modsec"]["cpu_us"] - mp100["bare"]["cpu_us"]
        share = over_p / over_m if over_m > 0 else float("inf")
        lines.append("| 100 KB multipart CPU overhead (−bare) ≤ 1/4 of ModSecurity's | "
                     "%.1f µs vs %.1f µs: %.2f | %s |" % (over_p, over_m, share,
                                                         verdict(share <= 0.25)))
    mps = re.search(r": ([0-9]+) MB/s", eng.get("multipart") or "")
    if mps:
        lines.append("| multipart parser alone ≥ 5 GB/s on a large binary file part "
                     "(bench_multipart, CPU time) | %s MB/s | %s |" % (
                         fmt_int(int(mps.group(1))), verdict(int(mps.group(1)) >= 5000)))
    left = sum(len(m["left"]) for m in mem.values()) + sum(len(v) for v in leftovers.values())
    lines.append("| no upload or spool file left behind (`SecUploadKeepFiles Off`), after every "
                 "measurement | %d files | %s |" % (left, verdict(left == 0)))
    g = mem.get(("mp1g", "parapet"))
    if g:
        growth = g["hwm"] - g["rss0"]
        lines.append("| 1 GiB multipart upload grows the worker by < 10 MB (peak RSS) | "
                     "%s KiB | %s |" % (fmt_int(growth), verdict(growth < 10 * 1000)))
    return "\n".join(lines)


def engine_text(eng, apcg):
    if "error" in eng:
        return eng["error"]
    lines = [
        "`valgrind --tool=callgrind build/bench_rules %s N` (the GET with 5 arguments and "
        "the browser headers, through the same `pp_tx_*` calls as the adapter), N = %d minus "
        "N = 0 (start-up, configuration, PCRE2 compilation):" % (RULES_19.name,
                                                                  eng["iterations"]),
        "",
        "| | instructions |", "|---|---|",
        "| total, N = %d | %s |" % (eng["iterations"], fmt_int(eng["full"])),
        "| total, N = 0 | %s |" % fmt_int(eng["zero"]),
        "| per request | %s |" % fmt_int(eng["per_request"]),
        "| per rule per request (%d rules) | %s |" % (eng["rules"], fmt_int(eng["per_rule"])),
        "",
        "Native run, no valgrind: `%s`" % eng.get("native", "?"),
    ]
    if apcg:
        lines += [
            "",
            "Inside Apache: `apache2 -X` under `valgrind --tool=callgrind --collect-atstart=no "
            "--toggle-collect=ap_run_process_connection`, %d keep-alive GET-5-args requests, "
            "total ÷ requests. The WAF's cost is the difference to bare Apache:"
            % apcg["requests"],
            "",
            "| configuration | instructions/request | − bare | per rule |", "|---|---|---|---|",
        ]
        for kind in SERVERS:
            extra = apcg[kind] - apcg["bare"]
            lines.append("| %s | %s | %s | %s |" % (
                LABEL[kind], fmt_int(apcg[kind]), "—" if kind == "bare" else fmt_int(extra),
                "—" if kind == "bare" else fmt_int(extra / eng["rules"])))
    lines += ["", "### Multipart parser (bench/engine/bench_multipart.c)", ""]
    if eng.get("multipart") is None:
        lines.append("Not built: bench/engine/bench_multipart.c is not in this tree (or did "
                     "not build; see the `make bench` output).")
    else:
        lines += ["```", eng["multipart"], "```"]
    return "\n".join(lines)


def last_error(srv, err):
    """The configuration error Apache printed (file:line: reason), else the exception."""
    text = srv.logs()
    lines = [l for l in text.splitlines() if l.strip() and "AH00" not in l[:6]]
    for line in lines:
        if "Syntax error" in line or "error" in line.lower():
            return line.strip()[:600]
    return str(err).splitlines()[0][:600]


def overhead(row, kind):
    return row[kind]["cpu_us"] - row["bare"]["cpu_us"]


def share(row, kind):
    """Parapet configuration's CPU overhead over bare ÷ its reference's (ModSecurity's)."""
    ref = overhead(row, REFERENCE[kind])
    return overhead(row, kind) / ref if ref > 0 else float("inf")


def extra_report(rows, excluded, rss_start, rss_end, ctest, eng, apcg, args):
    """Issues 13 and 15: the SecRule form and CRS, tables and targets for RESULTS.md."""
    out = {"requests": sum(r[k]["requests"] for r in rows for k in r
                           if k not in ("scenario", "ratio"))}
    kinds = [k for k in EXTRA if any(k in r for r in rows)]
    lines = ["| scenario | configuration | req/s | CPU µs/req | req/s ÷ bare | CPU − bare (µs) "
             "| reference | reference CPU − bare (µs) | overhead ÷ reference's "
             "| CPU spread over rounds (µs) |", "|" + "---|" * 10]
    for r in rows:
        for kind in kinds:
            if kind not in r:
                continue
            ref = REFERENCE.get(kind)
            lines.append("| %s | %s | %s | %.1f | %.2f | %.1f | %s | %s | %s | %.1f–%.1f |" % (
                r["scenario"].title, LABEL[kind], fmt_int(r[kind]["rps"]), r[kind]["cpu_us"],
                r["ratio"][kind]["rps"], overhead(r, kind),
                LABEL[ref] if ref and ref in r else "—",
                "%.1f" % overhead(r, ref) if ref and ref in r else "—",
                "%.3f" % share(r, kind) if ref and ref in r else "—",
                r[kind]["cpu_min"], r[kind]["cpu_max"]))
    out["extra_table"] = "\n".join(lines) if kinds else "No SecRule/CRS configuration was measured."
    if excluded:
        out["extra_table"] += "\n\nLeft out of the measurement (not faked):\n\n" + "\n".join(
            "- **%s**: %s" % (LABEL[k], v.replace("|", "\\|")) for k, v in excluded.items())

    by = {r["scenario"].key: r for r in rows}
    t = ["| target | measured | status |", "|---|---|---|"]

    def missing(kind):
        why = excluded.get(kind, "not measured")
        t.append("| %s | — | **not measured**: %s |" % (LABEL[kind], why.replace("|", "\\|")))

    if "parapet-2x" in kinds:
        g = by["get5"]
        t.append("| ms2-100 (SecRule) on Parapet: GET-5-args ≥ 90 %% of bare (wrk req/s) "
                 "| %.1f %% | %s |" % (100 * g["ratio"]["parapet-2x"]["rps"],
                                      verdict(g["ratio"]["parapet-2x"]["rps"] >= 0.90)))
        cap = 1 / g["ratio"]["parapet-2x"]["cpu"]
        t.append("| the same, as CPU-bound capacity (bare CPU/req ÷ Parapet CPU/req) | %.1f %% "
                 "| %s |" % (100 * cap, verdict(cap >= 0.90)))
        shares = [(r["scenario"].key, share(r, "parapet-2x")) for r in rows
                  if "parapet-2x" in r]
        t.append("| ms2-100 on Parapet: CPU overhead ≤ 1/10 of ModSecurity's, every workload "
                 "| %s | %s |" % (", ".join("%s %.3f" % x for x in shares),
                                  verdict(all(v <= 0.10 for _, v in shares))))
    elif args.extra:
        missing("parapet-2x")
    for p, pl in (("parapet-crs", "PL1"), ("parapet-crs4", "PL4")):
        if p not in kinds or REFERENCE[p] not in kinds:
            if args.extra:
                missing(p)
            continue
        for key, limit in (("get5", 20), ("post2k", 20), ("mp100k", 10)):
            r = by[key]
            v = share(r, p)
            t.append("| CRS %s: CPU overhead on %s ≤ 1/%d of ModSecurity's | %.1f µs vs %.1f µs: "
                     "%.3f | %s |" % (pl, r["scenario"].title, limit, overhead(r, p),
                                      overhead(r, REFERENCE[p]), v, verdict(v <= 1 / limit)))
        m = REFERENCE[p]
        if all(k in rss_end for k in (p, m, "bare")):
            gp, gm = rss_end[p] - rss_end["bare"], rss_end[m] - rss_end["bare"]
            t.append("| CRS %s: worker RSS growth over bare ≤ 1/2 of ModSecurity's (VmRSS after "
                     "all the wrk runs) | %s KiB vs %s KiB: %.2f | %s |" % (
                         pl, fmt_int(gp), fmt_int(gm), gp / gm if gm > 0 else float("inf"),
                         verdict(gm > 0 and gp <= gm / 2)))
        if p in ctest and m in ctest and "error" not in ctest[p] and "error" not in ctest[m]:
            cp, cm = ctest[p]["cpu"], ctest[m]["cpu"]
            t.append("| CRS %s: `apache2 -t` CPU time ≤ 1/2 of ModSecurity's (best of 3) "
                     "| %.3f s vs %.3f s: %.2f | %s |" % (pl, cp, cm, cp / cm, verdict(cp <= cm / 2)))
    if "redos" in by and "parapet-crs" in by["redos"]:
        rd, g = by["redos"], by["get5"]
        tot = rd["parapet-crs"]["cpu_us"] / g["parapet-crs"]["cpu_us"]
        ovr = overhead(rd, "parapet-crs") / overhead(g, "parapet-crs")
        t.append("| CRS PL1: request crafted to backtrack ≤ 10× a benign one (CPU/req, "
                 "GET-5-args) | %.1f µs vs %.1f µs: %.1f× (WAF's part alone %.1f×; "
                 "ModSecurity %.1f×) | %s |" % (
                     rd["parapet-crs"]["cpu_us"], g["parapet-crs"]["cpu_us"], tot, ovr,
                     rd["modsec-crs"]["cpu_us"] / g["modsec-crs"]["cpu_us"]
                     if "modsec-crs" in rd else float("nan"), verdict(tot <= 10)))
    out["extra_targets"] = "\n".join(t)

    n = ["| configuration | worker VmRSS after start-up (KiB) | after all the wrk runs (KiB) "
         "| − bare after the runs (KiB) | `apache2 -t` wall (s) | `apache2 -t` CPU (s) |",
         "|---|---|---|---|---|---|"]
    for kind in SERVERS + EXTRA:
        if kind not in rss_end:
            continue
        c = ctest.get(kind, {})
        n.append("| %s | %s | %s | %s | %s | %s |" % (
            LABEL[kind], fmt_int(rss_start[kind]), fmt_int(rss_end[kind]),
            "—" if kind == "bare" else fmt_int(rss_end[kind] - rss_end["bare"]),
            "%.3f" % c["wall"] if "wall" in c else c.get("error", "—"),
            "%.3f" % c["cpu"] if "cpu" in c else "—"))
    crs = eng.get("crs")
    n += ["", "Engine alone, CRS PL1 (`valgrind --tool=callgrind build/bench_rules CONF N`, the "
          "parapet-crs configuration without the LoadModule line, GET with 5 arguments, "
          "N minus N = 0): "]
    if not crs:
        n[-1] += "not run."
    elif "error" in crs:
        n[-1] += crs["error"]
    else:
        n[-1] += ("**%s instructions per request** (N = %d; start-up with CRS: %s "
                  "instructions). ModSecurity's reference figure: ~7,000,000." % (
                      fmt_int(crs["per_request"]), crs["iterations"], fmt_int(crs["zero"])))
        if crs.get("hot"):
            n += ["", "Where those instructions go (callgrind, inclusive per request, N run "
                  "minus N = 0; functions nest, so the column does not add up):", "",
                  "| function | instructions/request | share |", "|---|---|---|"]
            n += ["| `%s` | %s | %.0f %% |" % (k, fmt_int(v), 100 * v / crs["per_request"])
                  for k, v in crs["hot"]]
    if apcg:
        n += ["", "Inside Apache (`apache2 -X` under callgrind, %d GET-5-args requests, "
              "instructions per request in `ap_run_process_connection`):" % apcg["requests"], "",
              "| configuration | instructions/request | − bare |", "|---|---|---|"]
        for kind in SERVERS + EXTRA:
            if kind in apcg:
                n.append("| %s | %s | %s |" % (LABEL[kind], fmt_int(apcg[kind]),
                                               "—" if kind == "bare"
                                               else fmt_int(apcg[kind] - apcg["bare"])))
    out["extra_notes"] = "\n".join(n)
    return out


def write_results(path, ctx):
    text = string.Template(TEMPLATE.read_text()).substitute(ctx)
    path.write_text(text)
