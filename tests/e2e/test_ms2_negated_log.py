"""A negated operator's alert ('Match of "rx ..." against "VAR" required.') cuts a long
parameter at 252 bytes with ' ...' as ModSecurity 2.9.7 does. Without the cut a CRS rule with a
3 KB negated regex (922110) wrote a line longer than Apache's limit, which lost its [id] and
[unique_id] (the CRS corpus's last unexplained difference, #2261)."""
from harness import compare_with_modsecurity
PATTERN = "^(?:" + "|".join("alt%03d" % i for i in range(400)) + ")$"
RULES = ('SecRule ARGS:a "!@rx %s" "id:77,phase:2,pass,log,msg:\'negated\'"\n'
         'SecRule ARGS:b "@rx %s" "id:78,phase:2,pass,log,msg:\'plain\'"\n' % (PATTERN, PATTERN))


def test_long_parameters_are_cut_as_modsecurity_cuts_them():
    ms, _ = compare_with_modsecurity("SecRuleEngine On\n" + RULES,
                                     [("GET", "/?a=zzz&b=alt007")], fields=("words",),
                                     name="ms2neg")
    assert [hit[0] for hit in ms.alerts.get("/", [])] == ["77", "78"], ms.alerts
    print("    2 alerts with a %d-byte pattern, words equal (cut at 252 bytes)" % len(PATTERN))
