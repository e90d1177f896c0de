"""The SecRule grammar as ModSecurity 2.9.7 and Apache read it: the same configuration lines
through `apache2 -t` with mod_security2 and with Parapet must be accepted or refused alike
(action-list separators, blanks, quotes and escapes), and Apache's tokenizer rule that a
doubled backslash in a directive argument loses one (so "[\\\\/]" in a file is the regex
"[\\/]", which has no backslash in it) must give the same verdicts on real requests.
"""
from harness import MODSEC_SO, compare_with_modsecurity, configtest, require_modsecurity

LINES = [
    r'''SecRule ARGS "x" "id:1,pass,ctl:ruleRemoveByMsg=^bad q"''',
    r'''SecRule ARGS "x" "id:2,pass,msg: 'hello'"''',
    r'''SecRule ARGS "x" "id:3,pass,msg:'a\\b'"''',
    r'''SecRule ARGS "x" "id:4,pass,msg:'a\\\\b'"''',
    r'''SecRule ARGS "x" "id:5,pass|log"''',
    r'''SecRule ARGS "x" "id:6,pass,setvar:tx.a=b|c"''',
    r'''SecRule ARGS "x" "id : 7, pass"''',
    r'''SecRule ARGS "x" "id:8,pass,msg:'unterminated"''',
    r'''SecRule ARGS "x" "id:9 pass nolog"''',
    r'''SecRule ARGS "x" "id:10,pass,msg:'x'log"''',
    r'''SecRule ARGS "x" "id:11,pass,  nolog ,  msg:'a b'"''',
    r'''SecRule ARGS "x" "id:12,pass,msg:'it\'s'"''',
    r'''SecRule ARGS "x" "id:13,pass,setvar:'tx.a=1 2'"''',
    r'''SecRule ARGS "x" "id:14,,pass"''',
    r'''SecRule ARGS "x" "id:15,pass,"''',
    'SecRule ARGS "x" "id:16,pass"\nSecRule ARGS "y" "id:16,pass"',
    'SecRule ARGS "x" "id:17,pass"\nSecRuleRemoveById 17\nSecRule ARGS "y" "id:17,pass"',
    'SecRule ARGS "x" "id:18,pass,chain"\nSecRule ARGS "y" "pass"\nSecRule ARGS "z" "id:19,pass"',
]

RULES = r"""
SecRule ARGS:a "@rx ^[\\/]x$" "id:100,phase:2,deny,status:403"
SecRule ARGS:b "@rx ^[\\\\/]x$" "id:101,phase:2,deny,status:403"
SecRule ARGS:c "@streq a\\b" "id:102,phase:2,deny,status:403"
SecRule ARGS:d "@rx ^\d\\d$" "id:103,phase:2,deny,status:403"
"""
REQUESTS = ["/t?a=%5Cx", "/t?a=/x", "/t?b=%5Cx", "/t?b=/x", "/t?c=a%5Cb", "/t?c=a%5C%5Cb",
            "/t?d=12", "/t?d=1%5Cd"]


def test_action_grammar_matches_modsecurity():
    require_modsecurity()
    ms = "LoadModule security2_module %s\nSecRuleEngine On\n" % MODSEC_SO
    differences = []
    for line in LINES:
        rc_ms, out_ms = configtest(ms + line + "\n", load_parapet=False)
        rc_pp, out_pp = configtest("SecRuleEngine On\n" + line + "\n")
        if (rc_ms == 0) != (rc_pp == 0):
            differences.append("%s: ModSecurity %s, Parapet %s" % (
                line, "accepts" if rc_ms == 0 else "refuses (%s)" % out_ms.strip().splitlines()[-1],
                "accepts" if rc_pp == 0 else "refuses (%s)" % out_pp.strip().splitlines()[-1]))
    print("    %d lines, %d differences" % (len(LINES), len(differences)))
    if differences:
        raise AssertionError("\n  ".join(differences))


def test_backslashes_in_arguments_as_apache_reads_them():
    compare_with_modsecurity("SecRuleEngine On\n" + RULES, [("GET", p) for p in REQUESTS],
                             name="ms2grammar")
