"""SecRule / SecAction against ModSecurity 2.9.7 itself: the same rules in a real Apache with
Debian's mod_security2 and in one with Parapet, the same requests, and per request the same
status, the same rule ids in the error log (in order), the same [msg] and [data] for them, and
the same words before the tags ("ModSecurity: Access denied with code 403 (phase 2). Pattern
match ... at ARGS:a.").

The rules use what lang/secrule.c takes today (docs/rule-core.md): keys and exclusions,
negation, t: chains, phases 1 and 2, SecDefaultAction per phase with block, a chain, capture into
TX:0-9, setvar arithmetic with macros (anomaly scoring), logdata with MATCHED_VAR(_NAME),
skipAfter to a SecMarker, ctl:ruleRemoveById and ctl:ruleRemoveTargetById, &counts, /regex/
keys and exclusions (which spare ARGS_NAMES), operator names in any case (@RX, !@STREQ, whose
message keeps the spelling).
"""
from harness import compare_with_modsecurity

RULES = r"""
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,deny,status:403"
SecRule ARGS:q "attack" "id:10,phase:2,deny,status:406,msg:'bad q'"
SecRule ARGS "@rx ^evil$" "id:11,phase:2,t:none,t:urlDecodeUni,t:lowercase,deny,status:403,msg:'evil after t:'"
SecRule REQUEST_METHOD "!@rx ^(?:GET|POST|HEAD)$" "id:13,phase:1,deny,status:403,msg:'method'"
SecRule ARGS|!ARGS:Safe "forbidden" "id:14,phase:2,deny,status:403"
SecRule ARGS "x1" "id:15,phase:2,pass,log,msg:'seen %{MATCHED_VAR_NAME}'"
SecAction "id:20,phase:1,pass,nolog,setvar:tx.critical_score=5"
SecRule ARGS "score" "id:21,phase:2,pass,nolog,setvar:'tx.anomaly_score=+%{tx.critical_score}'"
SecRule TX:ANOMALY_SCORE "^(?:[1-9]\d|\d{3,})$" "id:22,phase:2,deny,status:429,msg:'score %{tx.anomaly_score}'"
SecRule ARGS "(\d+)-(\d+)" "id:30,phase:2,capture,pass,nolog,setvar:tx.range=%{tx.2}:%{tx.1}"
SecRule TX:range "^20:10$" "id:31,phase:2,deny,status:403,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule REQUEST_HEADERS:X-Chain "^a$" "id:40,phase:1,chain,deny,status:409,msg:'chained'"
SecRule ARGS:x "^1$"
SecRule ARGS "bl0ck" "id:41,phase:2,block,msg:'blocked'"
SecRule ARGS:neg "!@rx ^[a-z]*$" "id:42,phase:2,deny,status:403,logdata:'%{MATCHED_VAR}'"
SecRule REQUEST_HEADERS:X-Blk "^b$" "id:43,phase:1,block,msg:'block in phase 1 passes'"
SecRule ARGS:skip "^1$" "id:90,phase:2,pass,nolog,skipAfter:END_SKIP"
SecRule ARGS "skipme" "id:91,phase:2,deny,status:403,msg:'not skipped'"
SecMarker END_SKIP
SecRule ARGS "after" "id:92,phase:2,deny,status:409,msg:'after the marker'"
SecRule REQUEST_URI "^/ctl" "id:100,phase:1,pass,nolog,ctl:ruleRemoveTargetById=111;ARGS:password,ctl:ruleRemoveById=112"
SecRule ARGS "'" "id:111,phase:2,deny,status:403,msg:'quote'"
SecRule ARGS "zz" "id:112,phase:2,deny,status:409,msg:'zz'"
SecRule &ARGS "^5$" "id:140,phase:2,deny,status:403,msg:'five args'"
SecRule ARGS:/^pre_/ "bad" "id:141,phase:2,deny,status:403,msg:'pre'"
SecRule ARGS|!ARGS:/^ok_/ "worse" "id:142,phase:2,deny,status:403,msg:'worse'"
SecRule ARGS_NAMES|!ARGS:nm "^nm$" "id:143,phase:2,deny,status:403,msg:'name'"
SecRule ARGS:opcase "@RX ^x" "id:150,phase:2,pass,log,msg:'@RX is @rx'"
SecRule ARGS:opcase "!@STREQ xz" "id:151,phase:2,pass,log"
SecRule ARGS:opcase "@BeginsWith xyz" "id:152,phase:2,deny,status:412,nolog"
"""

# (method, path, headers)
REQUESTS = [
    ("GET", "/r1?q=an+attack", {}),
    ("GET", "/r2?a=%u0045VIL", {}),
    ("GET", "/r2b?a=evilish", {}),
    ("FOO", "/r3", {}),
    ("GET", "/r4?safe=forbidden", {}),
    ("GET", "/r4b?other=forbidden", {}),
    ("GET", "/r5?a=x1&b=x1&c=y", {}),
    ("GET", "/r6?a=score&b=score", {}),
    ("GET", "/r6b?a=score", {}),
    ("GET", "/r7?r=10-20", {}),
    ("GET", "/r7b?r=20-10", {}),
    ("GET", "/r8?x=1", {"X-Chain": "a"}),
    ("GET", "/r8b?x=1", {}),
    ("GET", "/r8c?x=2", {"X-Chain": "a"}),
    ("GET", "/r9?a=bl0ck&b=bl0ck", {}),
    ("GET", "/r10?neg=abc", {}),
    ("GET", "/r10b?neg=ab1", {}),
    ("GET", "/r11?plain=1", {}),
    ("GET", "/r12?skip=1&a=skipme", {}),
    ("GET", "/r12b?skip=0&a=skipme", {}),
    ("GET", "/r12c?skip=1&a=skipme&b=after", {}),
    ("GET", "/r13", {"X-Blk": "b"}),
    ("GET", "/ctl1?password=it's", {}),
    ("GET", "/ctl2?password=it's&user=o'b", {}),
    ("GET", "/ctl3?a=zz", {}),
    ("GET", "/noctl?a=zz&password=it's", {}),
    ("GET", "/cnt?a=1&b=2&c=3&d=4&e=5", {}),
    ("GET", "/cnt2?a=1&b=2", {}),
    ("GET", "/pre?PRE_x=bad", {}),
    ("GET", "/pre2?xpre_x=bad", {}),
    ("GET", "/ex?ok_1=worse", {}),
    ("GET", "/ex2?no=worse", {}),
    ("GET", "/nm?nm=1", {}),
    ("GET", "/op1?opcase=xy", {}),
    ("GET", "/op2?opcase=xyz", {}),
]


def test_secrule_matches_modsecurity():
    compare_with_modsecurity("SecRuleEngine On\n" + RULES, REQUESTS,
                             fields=("msg", "data", "words"), name="ms2rule")
