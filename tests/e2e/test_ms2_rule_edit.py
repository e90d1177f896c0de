"""SecRuleRemoveById/ByTag/ByMsg, SecRuleUpdateTargetById/ByTag/ByMsg and
SecRuleUpdateActionById against ModSecurity 2.9.7 itself: the same configuration in a real
Apache with Debian's mod_security2 and in one with Parapet, the same requests, and per request
the same status and the same rule ids in the error log.

Covered: removal by id, range and list in the same context (rules defined before the
directive); removal by tag and msg regex (case-sensitive); a removal in a <Location> of rules
inherited from the server; target updates that add a variable, add an exclusion, replace a
target, and reach every link of a chain; action updates (status, t: appended, msg).
"""
from harness import compare_with_modsecurity

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


def test_rule_edit_matches_modsecurity():
    compare_with_modsecurity("SecRuleEngine On\n" + RULES, REQUESTS, name="ms2edit")
