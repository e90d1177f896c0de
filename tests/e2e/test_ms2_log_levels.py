"""Which debug messages ModSecurity 2.9.7 also writes to Apache's error log, and in which form:
a message of level 1 always, one of level 2 or 3 when SecDebugLogLevel admits it (with or
without a SecDebugLog file), each as "[client ip] ModSecurity: <message> [hostname ...]
[uri ...] [unique_id ...]". Parapet does the same for configurations with 2.x rules (1.9
configurations keep 1.9's "mod_security: " lines). The level-3 messages of sanitiseMatched,
setvar and expirevar have ModSecurity's words; the level-1 line of a body over
SecRequestBodyLimit has its form (Parapet's words name the length and the limit).
"""
import re

from harness import require_modsecurity, run_rules

RULES = r"""SecRequestBodyAccess On
SecRequestBodyLimit 100
SecRule REQUEST_URI "@contains san" "id:1,phase:1,pass,nolog,sanitiseMatched"
SecRule REQUEST_URI "@contains sv" "id:2,phase:1,pass,nolog,setvar:ip.x=1"
SecRule REQUEST_URI "@contains ev" "id:3,phase:1,pass,nolog,expirevar:ip.x=10"
SecRule REQUEST_URI "@contains logd" "id:4,phase:1,pass,log,msg:'hello'"
"""
# (SecDebugLogLevel or None, with a SecDebugLog file)
SETTINGS = [(None, False), (0, True), (2, True), (3, True), (3, False), (9, True)]
LINE = re.compile(r'\] \[client 127\.0\.0\.1\] (\S+): (.*) \[hostname "127\.0\.0\.1"\] '
                  r'\[uri "([^"]*)"\] \[unique_id "[^"]+"\]$')


def lines(load_parapet, level, debug_file):
    conf = "SecRuleEngine On\n"
    if debug_file:
        conf += "SecDebugLog @ROOT@/logs/debug.log\n"
    if level is not None:
        conf += "SecDebugLogLevel %d\n" % level
    requests = [("GET", uri) for uri in ("/san", "/sv", "/ev", "/logd")] + [
        ("POST", "/big", {"Content-Type": "application/x-www-form-urlencoded"}, b"a" * 200)]
    run = run_rules(conf + RULES, requests, load_parapet, name="ms2levels", settle=0.3)
    out = []
    for line in run.log.splitlines():
        m = LINE.search(line)
        if m:
            prefix, text, uri = m.groups()
            text = re.sub(r' \[file "[^"]*"\] \[line "\d+"\]', "", text)  # temp path
            # The 413's words differ (ours name the length and the limit): its form counts.
            out.append((uri, prefix, "<body over the limit>" if uri == "/big" else text))
    return run.statuses[-1], sorted(out)


def test_debug_messages_in_the_error_log_as_modsecurity():
    require_modsecurity()
    differences, counts = [], []
    for level, debug_file in SETTINGS:
        ms, pp = lines(False, level, debug_file), lines(True, level, debug_file)
        counts.append(len(ms[1]))
        if ms != pp:
            differences.append("SecDebugLogLevel %s%s:\n    ModSecurity %r\n    Parapet     %r"
                               % (level, " (no SecDebugLog)" if not debug_file else "", ms, pp))
    # The oracle must show both rules of the game, or the test proves nothing.
    assert counts[0] == 2 and counts[3] == 5, counts
    print("    %d settings, error-log lines per setting %s, %d differences"
          % (len(SETTINGS), counts, len(differences)))
    if differences:
        raise AssertionError("\n  ".join(differences))
