"""@inspectFile against ModSecurity 2.9.7: the same approver script, run by both modules on the
file a request argument names (ModSecurity hands the operator's value to the script whatever
the variable; FILES_TMPNAMES is the usual one). A first output byte '1' passes, anything else
matches. Where ModSecurity fails open (a script that prints nothing: an operator error, no
match) Parapet fails closed (a match and one log line): compared as that documented
difference."""
import os
import shutil
import tempfile
import urllib.parse

from harness import require_modsecurity, run_rules

SCRIPT = """#!/bin/sh
# Passes a file that holds "ok", refuses others, says nothing for "mute".
case "$(cat "$1" 2>/dev/null)" in
  *mute*) exit 0 ;;
  *ok*) echo "1 looks fine" ;;
  *) echo "0 not approved" ;;
esac
"""


NAMES = ("good.txt", "bad.txt", "missing.txt", "mute.txt")


def run(load_parapet, tmp):
    rules = ('SecRuleEngine On\nSecRule ARGS:f "@inspectFile %s/approve.sh" '
             '"id:4001,phase:2,deny,status:403,log"\n' % tmp)
    requests = [("GET", "/index.html?f=" + urllib.parse.quote(os.path.join(tmp, name), safe=""))
                for name in NAMES]
    r = run_rules(rules, requests, load_parapet, name="ms2inspect", settle=0.3)
    return dict(zip(NAMES, r.statuses)), r.log


def test_inspect_file_matches_modsecurity():
    require_modsecurity()
    tmp = tempfile.mkdtemp(prefix="parapet-inspect-")
    try:
        os.chmod(tmp, 0o755)
        with open(os.path.join(tmp, "approve.sh"), "w") as f:
            f.write(SCRIPT)
        os.chmod(os.path.join(tmp, "approve.sh"), 0o755)
        for name, text in (("good.txt", "all ok\n"), ("bad.txt", "evil\n"), ("mute.txt", "mute\n")):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(tmp, name), 0o644)
        theirs, ms_log = run(False, tmp)
        ours, pp_log = run(True, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    want = {"good.txt": 200, "bad.txt": 403, "missing.txt": 403}
    for name, status in want.items():
        assert theirs[name] == status, "modsecurity %r\n%s" % (theirs, ms_log[-1500:])
        assert ours[name] == status, "parapet %r, modsecurity %r\n%s" % (ours, theirs, pp_log[-1500:])
    # The documented difference: no output is ModSecurity's operator error (no match), and a
    # match with one log line for Parapet.
    assert theirs["mute.txt"] == 200, theirs
    assert ours["mute.txt"] == 403, ours
    assert pp_log.count("fail closed") == 1 and "no output" in pp_log, pp_log[-1500:]
