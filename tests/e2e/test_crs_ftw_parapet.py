"""Our CRS-format tests (tests/crs/ftw*/*.yaml) on Parapet + CRS 3.3.4 and on ModSecurity
2.9.7 + CRS 3.3.4, the same configuration text (tests/crs/servers.py), with identical results.

Three runs per server: tests/crs/ftw at paranoia level 4 and tests/crs/ftw-pl1 at PL1, both
blocking (SecRuleEngine On), and tests/crs/ftw at PL4 in DetectionOnly. Every test must pass on
both, and per test the statuses, the set of rule ids logged for its requests and the anomaly
scores (our phase-5 rule 9999001) must be the same on both servers.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import REPO, Skip

RUNS = (("4", "tests/crs/ftw", "On"), ("1", "tests/crs/ftw-pl1", "On"),
        ("4", "tests/crs/ftw", "DetectionOnly"))


def run_ftw(waf, pl, directory, mode, out):
    proc = subprocess.run([sys.executable, str(REPO / "tests/crs/ftw.py"), "--waf", waf,
                           "--pl", pl, "--mode", mode, "--json", str(out), str(REPO / directory)],
                          capture_output=True, text=True, timeout=600)
    text = proc.stdout + proc.stderr
    last = text.strip().splitlines()[-1] if text.strip() else ""
    if proc.returncode != 0 or not last.startswith("FTW:") or " 0 failed" not in last:
        raise AssertionError("ftw tests against %s + CRS at PL%s (%s):\n%s"
                             % (waf, pl, mode, text[-4000:]))
    return last, json.loads(Path(out).read_text())


def test_ftw_identical_on_parapet_and_modsecurity():
    if not os.path.exists("/usr/lib/apache2/modules/mod_security2.so") or \
            not os.path.isdir("/usr/share/modsecurity-crs/rules"):
        raise Skip("libapache2-mod-security2 or modsecurity-crs is not installed")
    with tempfile.TemporaryDirectory(prefix="parapet-ftw-") as tmp:
        for pl, directory, mode in RUNS:
            seen = {}
            for waf in ("modsecurity", "parapet"):
                last, seen[waf] = run_ftw(waf, pl, directory, mode, Path(tmp) / ("%s.json" % waf))
                print("    %s PL%s %s: %s" % (waf, pl, mode, last))
            ms, pp = seen["modsecurity"], seen["parapet"]
            assert len(ms) == len(pp) and ms, (len(ms), len(pp))
            diffs = ["%s %s: modsecurity %s / parapet %s" % (a["file"], a["test"], a, b)
                     for a, b in zip(ms, pp) if a != b]
            assert not diffs, "PL%s %s:\n%s" % (pl, mode, "\n".join(diffs))
