"""Our CRS-format tests (tests/crs/ftw*/*.yaml) hold against ModSecurity 2.9.7 + CRS 3.3.4.

The ftw runner (tests/crs/ftw.py) starts a real Apache with mod_security2, ModSecurity's
recommended base configuration and Debian's CRS, sends each test's request and checks status
and error-log lines. Every test must pass there: a test the oracle fails is a wrong test, not
a finding. `make crs-ftw` runs the same files against Parapet.
"""
import os
import subprocess
import sys

from harness import REPO, Skip


def run_ftw(*args):
    proc = subprocess.run([sys.executable, str(REPO / "tests/crs/ftw.py"), "--waf", "modsecurity"] + list(args),
                          capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_ftw_tests_pass_against_modsecurity():
    if not os.path.exists("/usr/lib/apache2/modules/mod_security2.so") or \
            not os.path.isdir("/usr/share/modsecurity-crs/rules"):
        raise Skip("libapache2-mod-security2 or modsecurity-crs is not installed")
    for pl, directory in (("4", "tests/crs/ftw"), ("1", "tests/crs/ftw-pl1")):
        rc, out = run_ftw("--pl", pl, str(REPO / directory))
        last = out.strip().splitlines()[-1] if out.strip() else ""
        print("    PL%s: %s" % (pl, last))
        if rc != 0 or not last.startswith("FTW:") or " 0 failed" not in last:
            raise AssertionError("ftw tests against ModSecurity at PL%s:\n%s" % (pl, out[-4000:]))
