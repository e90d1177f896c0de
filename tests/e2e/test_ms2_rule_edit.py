"""SecRuleRemoveById/ByTag/ByMsg, SecRuleUpdateTargetById/ByTag/ByMsg and
SecRuleUpdateActionById against ModSecurity 2.9.7 itself: the same configuration in a real
Apache with Debian's mod_security2 and in one with Parapet, the same requests, and per request
the same status and the same rule ids in the error log.

Covered: removal by id, range and list in the same context (rules defined before the
directive); removal by tag and msg regex (case-sensitive); a removal in a <Location> of rules
inherited from the server; target updates that add a variable, add an exclusion, replace a
target, and reach every link of a chain; action updates (status, t: appended, msg).
"""
import os
import re
import time

from harness import Apache, Skip

MODSEC_SO = "/usr/lib/apache2/modules/mod_security2.so"

RULES = r"""
SecDefaultAction "phase:2,log,auditlog,deny,status:403"
SecRule ARGS "@contains r1" "id:1001,phase:2,deny,status:403"
SecRule ARGS "@contains r2" "id:1002,phase:2,deny,status:403"
SecRule ARGS "@contains r3" "id:1003,phase:2,deny,status:403"
SecRule ARGS "@contains r4" "id:1004,phase:2,deny,status:403"
SecRuleRemoveById 1001 1002-1003
SecRule ARGS "@contains t1" "id:1010,phase:2,deny,status:403,tag:'app/Foo'"
SecRule ARGS "@contains t2" "id:1011,phase:2,deny,status:403,tag:'app/foo'"
SecRuleRemoveByTag "app/Foo"
SecRule ARGS "@contains m1" "id:1020,phase:2,deny,status:403,msg:'Remove Me please'"
SecRule ARGS "@contains m2" "id:1021,phase:2,deny,status:403,msg:'remove me please'"
SecRuleRemoveByMsg "Remove Me"
SecRule ARGS "@contains u1" "id:1030,phase:2,deny,status:403"
SecRuleUpdateTargetById 1030 "!ARGS:safe"
SecRule ARGS:only "@contains u2" "id:1031,phase:2,deny,status:403"
SecRuleUpdateTargetById 1031 "REQUEST_HEADERS:X-Extra"
SecRule ARGS:a|ARGS:b "@contains u3" "id:1032,phase:2,deny,status:403"
SecRuleUpdateTargetById 1032 "ARGS:c" "ARGS:a"
SecRule ARGS:x "@contains c1" "id:1040,phase:2,deny,status:409,chain"
SecRule ARGS:y "@contains c2"
SecRuleUpdateTargetById 1040 "ARGS:z"
SecRule ARGS "@contains g1" "id:1050,phase:2,deny,status:403,tag:'grp'"
SecRuleUpdateTargetByTag "^grp$" "!ARGS:skip"
SecRule ARGS "@contains g2" "id:1051,phase:2,deny,status:403,msg:'msg target'"
SecRuleUpdateTargetByMsg "msg target" "!ARGS:skip"
SecRule ARGS "@contains abc" "id:1060,phase:2,deny,status:403"
SecRuleUpdateActionById 1060 "status:406,t:lowercase"
SecRule ARGS "@contains s1" "id:1061,phase:2,pass,log,msg:'before'"
SecRuleUpdateActionById 1061 "deny,status:410,msg:'after'"
SecRule ARGS "@contains loc" "id:1070,phase:2,deny,status:403"
SecRule ARGS "@contains lot" "id:1071,phase:2,deny,status:403,tag:'loc-tag'"
<Location /loc>
    SecRuleRemoveById 1070
    SecRuleRemoveByTag loc-tag
</Location>
"""

# (method, path, headers)
REQUESTS = [
    ("GET", "/a1?q=r1", {}), ("GET", "/a2?q=r2", {}), ("GET", "/a3?q=r3", {}),
    ("GET", "/a4?q=r4", {}),
    ("GET", "/b1?q=t1", {}), ("GET", "/b2?q=t2", {}),
    ("GET", "/c1?q=m1", {}), ("GET", "/c2?q=m2", {}),
    ("GET", "/d1?safe=u1", {}), ("GET", "/d2?other=u1", {}),
    ("GET", "/d3?only=u2", {}), ("GET", "/d4", {"X-Extra": "u2"}),
    ("GET", "/d5?a=u3", {}), ("GET", "/d6?b=u3", {}), ("GET", "/d7?c=u3", {}),
    ("GET", "/e1?x=c1&y=c2", {}), ("GET", "/e2?z=c1&y=c2", {}), ("GET", "/e3?x=c1&z=c2", {}),
    ("GET", "/f1?skip=g1", {}), ("GET", "/f2?o=g1", {}),
    ("GET", "/f3?skip=g2", {}), ("GET", "/f4?o=g2", {}),
    ("GET", "/g1?q=ABC", {}), ("GET", "/g2?q=s1", {}),
    ("GET", "/loc/1?q=loc", {}), ("GET", "/other?q=loc", {}),
    ("GET", "/loc/2?q=lot", {}), ("GET", "/other2?q=lot", {}),
]

LINE = re.compile(r'\[id "(\d+)"\].*?\[uri "([^"]*)"\]')


def run(load_parapet):
    if load_parapet:
        snippet = "SecRuleEngine On\n" + RULES
    else:
        snippet = ("LoadModule security2_module %s\nSecRuleEngine On\nSecDataDir @ROOT@/data\n"
                   "SecTmpDir @ROOT@/data\n" % MODSEC_SO) + RULES
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2edit-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    statuses = {}
    try:
        for method, path, headers in REQUESTS:
            statuses[path] = srv.request(method, path, headers=headers).status
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    hits = {}
    for line in log.splitlines():
        m = LINE.search(line)
        if m:
            msg = re.search(r'\[msg "([^"]*)"\]', line)
            hits.setdefault(m.group(2).split("?")[0], []).append(
                (m.group(1), msg.group(1) if msg else None))
    return statuses, hits


def test_rule_edit_matches_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    ms_status, ms_hits = run(False)
    pp_status, pp_hits = run(True)
    differences = []
    for method, path, _ in REQUESTS:
        uri = path.split("?")[0]
        if ms_status[path] != pp_status[path]:
            differences.append("%s %s: status modsecurity %d, parapet %d"
                               % (method, path, ms_status[path], pp_status[path]))
        if ms_hits.get(uri, []) != pp_hits.get(uri, []):
            differences.append("%s %s: log modsecurity %r, parapet %r"
                               % (method, path, ms_hits.get(uri, []), pp_hits.get(uri, [])))
    print("    %d requests, %d differences" % (len(REQUESTS), len(differences)))
    if differences:
        raise AssertionError("\n  ".join(differences))
