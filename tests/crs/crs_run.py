#!/usr/bin/env python3
"""Runs the CRS corpus (tests/crs/corpus.jsonl) through ModSecurity + CRS and, unless
--oracle-only, through Parapet + CRS with the same configuration, and compares per request:
the status, the matched rule ids and the inbound/outbound anomaly scores.

    python3 tests/crs/crs_run.py [--pl 1] [--mode On|DetectionOnly] [--oracle-only] [--limit N]

Prints per category how many requests each side blocked and detected, then every difference
(at most --show). A difference listed in documented_differences.json (request ids, what each
side must show, the reason, the docs anchor) is "documented" when both sides show exactly what
the entry says; every other one is "unexplained". Exits 1 when any difference is unexplained or
Parapet cannot load CRS, 0 otherwise.
"""
import json
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


DOCUMENTED = Path(__file__).resolve().parent / "documented_differences.json"


def load_documented():
    """{request id: [entries]} from documented_differences.json."""
    by_id = defaultdict(list)
    for e in json.loads(DOCUMENTED.read_text()):
        for i in e["ids"]:
            by_id[i].append(e)
    return by_id


def side_fits(want, got):
    """Whether one side's observed result shows what an entry says (only the keys it gives)."""
    for key, value in want.items():
        seen = sorted(got["ids"]) if key == "ids" else got[key]
        if (sorted(value) if key == "ids" else value) != seen:
            return False
    return True


def explanation(documented, row, pl, a, b):
    """The documented entry that explains this difference, or None."""
    for e in documented.get(row["id"], []):
        if pl in e.get("pl", [pl]) and side_fits(e["modsecurity"], a) and side_fits(e["parapet"], b):
            return e
    return None


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
    documented = load_documented()
    known = [(r, a, b, explanation(documented, r, args.pl, a, b)) for r, a, b in diffs]
    unexplained = [d for d in known if d[3] is None]
    print("%d requests, %d differences: %d documented, %d unexplained"
          % (len(rows), len(diffs), len(diffs) - len(unexplained), len(unexplained)))
    for r, a, b, e in sorted(known, key=lambda d: d[3] is None)[: args.show]:
        print("  #%d %s/%s: ModSecurity %d %s in=%d out=%d | Parapet %d %s in=%d out=%d\n      %s"
              % (r["id"], r["cat"], r["where"], a["status"], sorted(a["ids"]), a["in"], a["out"],
                 b["status"], sorted(b["ids"]), b["in"], b["out"],
                 "documented (%s): %s" % (e["doc"], e["what"]) if e else "UNEXPLAINED"))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
