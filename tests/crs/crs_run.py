#!/usr/bin/env python3
"""Runs the CRS corpus (tests/crs/corpus.jsonl) through ModSecurity + CRS and, unless
--oracle-only, through Parapet + CRS with the same configuration, and compares per request:
the status, the matched rule ids and the inbound/outbound anomaly scores.

    python3 tests/crs/crs_run.py [--pl 1] [--mode On|DetectionOnly] [--oracle-only] [--limit N]

Prints per category how many requests each side blocked and detected, then every difference
(at most --show), and exits 1 when there is any difference or Parapet cannot load CRS.
"""
import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import servers  # noqa: E402
import harness  # noqa: E402


def run(waf, rows, pl, mode):
    try:
        srv = servers.start(waf, pl, mode)
    except harness.StartError as err:
        return None, str(err)
    try:
        answers = []
        for r in rows:
            status, uid = servers.send_raw(srv.port, r["raw"].encode("latin-1"))
            answers.append((status, uid))
        time.sleep(1.0)  # the logging phase runs after the client has its answer
        logged = servers.log_by_request(srv.error_log())
    finally:
        srv.stop()
    results = []
    for (status, uid) in answers:
        entry = logged.get(uid, {"ids": set(), "in": 0, "out": 0})
        results.append({"status": status, "ids": entry["ids"], "in": entry["in"], "out": entry["out"]})
    return results, None


def summary(rows, results, label):
    by_cat = defaultdict(Counter)
    for r, res in zip(rows, results):
        c = by_cat[r["cat"]]
        c["n"] += 1
        c["blocked"] += res["status"] == 403
        c["detected"] += bool(res["ids"] - {"980130"})
    print("%s:" % label)
    for cat in sorted(by_cat):
        c = by_cat[cat]
        print("  %-9s %5d requests, %5d blocked (403), %5d with a rule match" % (cat, c["n"], c["blocked"], c["detected"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pl", type=int, default=1)
    ap.add_argument("--mode", default="On")
    ap.add_argument("--oracle-only", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", type=int, default=40)
    args = ap.parse_args()
    rows = corpus.load()
    if args.limit:
        rows = rows[: args.limit]
    oracle, err = run("modsecurity", rows, args.pl, args.mode)
    if oracle is None:
        print("ModSecurity did not start:\n" + err)
        return 2
    summary(rows, oracle, "ModSecurity 2.9.7 + CRS 3.3.4, PL%d, %s" % (args.pl, args.mode))
    if args.oracle_only:
        return 0
    ours, err = run("parapet", rows, args.pl, args.mode)
    if ours is None:
        print("Parapet cannot load this configuration (ModSecurity's recommended base + CRS):\n"
              + err[-3000:])
        return 1
    summary(rows, ours, "Parapet + CRS 3.3.4, PL%d, %s" % (args.pl, args.mode))
    diffs = []
    for r, a, b in zip(rows, oracle, ours):
        if a["status"] != b["status"] or a["ids"] != b["ids"] or (a["in"], a["out"]) != (b["in"], b["out"]):
            diffs.append((r, a, b))
    print("%d requests, %d differences" % (len(rows), len(diffs)))
    for r, a, b in diffs[: args.show]:
        print("  #%d %s/%s: ModSecurity %d %s in=%d out=%d | Parapet %d %s in=%d out=%d"
              % (r["id"], r["cat"], r["where"], a["status"], sorted(a["ids"]), a["in"], a["out"],
                 b["status"], sorted(b["ids"]), b["in"], b["out"]))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
