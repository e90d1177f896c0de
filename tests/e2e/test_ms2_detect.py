"""@detectSQLi and @detectXSS in SecRule rules, against ModSecurity 2.9.7 itself.

The same rules run in a real Apache with Debian's mod_security2 and in one with Parapet, and
the same requests go to both: per request the status, and per matching rule (in log order) the
rule id, the words ("detected SQLi using libinjection with fingerprint 's&1'") and the [data] of
its log line must be identical. The rules are CRS 3.3.4's 942100
(@detectSQLi, capture, t:none,t:utf8toUnicode,t:urlDecodeUni,t:removeNulls; logdata with TX.0,
the fingerprint) and 941100 / 941101 (@detectXSS with CRS's six transformations; 941101 with
capture, so TX.0 is the value), their targets (cookies without __utm ones, cookie names,
User-Agent, Referer, argument names, arguments), and their anomaly scoring (setvar with
macros), plus a negated use, a chain that tests the fingerprint in TX:0 after the operator set
it, a phase-1 header rule and two score rules that deny. The fingerprint is also copied with
setvar into TX and logged by a later rule, so TX:0 is compared both as the operator left it and
as the actions saw it. Requests carry attacks in the query, an urlencoded body, cookies,
headers and argument names, and benign look-alikes (names with apostrophes, prose with SQL
words, harmless markup, "on..." words) that must not match.

The rules leave out what the front end does not take yet (multiMatch, ctl:auditLogParts, XML:/*,
tags): they do not change what these operators answer.
"""
import urllib.parse

from harness import compare_with_modsecurity

SQLI_T = "t:none,t:utf8toUnicode,t:urlDecodeUni,t:removeNulls"
XSS_T = "t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls"

RULES = r"""
SecAction "id:900,phase:1,pass,nolog,setvar:tx.critical_anomaly_score=5"
SecRule REQUEST_HEADERS:X-Probe "@detectSQLi" "id:942001,phase:1,pass,log,capture,%(sqli_t)s,logdata:'early %%{TX.0} in %%{MATCHED_VAR_NAME}'"
SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|REQUEST_COOKIES_NAMES|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer|ARGS_NAMES|ARGS "@detectSQLi" \
    "id:942100,phase:2,pass,log,capture,%(sqli_t)s,\
    msg:'SQL Injection Attack Detected via libinjection',\
    logdata:'Matched Data: %%{TX.0} found within %%{MATCHED_VAR_NAME}: %%{MATCHED_VAR}',\
    severity:'CRITICAL',\
    setvar:'tx.anomaly_score_pl1=+%%{tx.critical_anomaly_score}',\
    setvar:'tx.sql_injection_score=+%%{tx.critical_anomaly_score}',\
    setvar:'tx.sqli_fp=%%{TX.0}'"
SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|REQUEST_COOKIES_NAMES|REQUEST_HEADERS:User-Agent|ARGS_NAMES|ARGS "@detectXSS" \
    "id:941100,phase:2,pass,log,%(xss_t)s,\
    msg:'XSS Attack Detected via libinjection',\
    logdata:'Matched Data: XSS data found within %%{MATCHED_VAR_NAME}: %%{MATCHED_VAR}',\
    severity:'CRITICAL',\
    setvar:'tx.xss_score=+%%{tx.critical_anomaly_score}',\
    setvar:'tx.anomaly_score_pl1=+%%{tx.critical_anomaly_score}'"
SecRule REQUEST_HEADERS:Referer "@detectXSS" \
    "id:941101,phase:2,pass,log,capture,%(xss_t)s,\
    msg:'XSS Attack Detected via libinjection',\
    logdata:'Matched Data: %%{TX.0} found within %%{MATCHED_VAR_NAME}: %%{MATCHED_VAR}'"
SecRule ARGS:plain "!@detectSQLi" "id:942901,phase:2,pass,log,logdata:'clean %%{MATCHED_VAR}'"
SecRule ARGS:chained "@detectSQLi" "id:942902,phase:2,deny,status:409,capture,t:none,chain,logdata:'chain %%{TX.0}'"
    SecRule TX:0 "@rx ^s" "t:none"
SecRule TX:SQLI_FP "@rx ." "id:942903,phase:2,pass,log,logdata:'last fingerprint %%{tx.sqli_fp}'"
SecRule TX:SQL_INJECTION_SCORE "@ge 10" "id:949001,phase:2,deny,status:403,log,logdata:'sqli score %%{tx.sql_injection_score}'"
SecRule TX:XSS_SCORE "@ge 5" "id:949002,phase:2,deny,status:406,log,logdata:'xss score %%{tx.xss_score}'"
""" % {"sqli_t": SQLI_T, "xss_t": XSS_T}


def q(**kw):
    return urllib.parse.urlencode(kw)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# (label, method, query, body, headers): attacks in every place the rules look, and benign
# look-alikes.
REQUESTS = [
    ("q-union", "GET", q(id="1 UNION SELECT username, password FROM users--"), None, {}),
    ("q-bool", "GET", q(id="1' OR '1'='1"), None, {}),
    ("q-bool2", "GET", q(id="1 or 1=1"), None, {}),
    ("q-time", "GET", q(id="1; WAITFOR DELAY '0:0:5'--"), None, {}),
    ("q-sleep", "GET", q(id="1 AND SLEEP(5)"), None, {}),
    ("q-comment", "GET", q(u="admin'--"), None, {}),
    ("q-stacked", "GET", q(id="1; DROP TABLE users"), None, {}),
    ("q-twice", "GET", q(a="1' or 1=1--", b="x' union select 1--"), None, {}),
    ("q-enc", "GET", "id=1%2527%2520or%25201%253D1--", None, {}),
    ("q-uni", "GET", "id=%u0031%u0027%u0020or%u0020%u0031%u003d%u0031", None, {}),
    ("q-null", "GET", "id=1%00'%20or%201=1--", None, {}),
    ("q-name", "GET", urllib.parse.quote("1' or 1=1--", safe="") + "=x", None, {}),
    ("b-sqli", "POST", "", q(user="bob", pw="x' OR 'a'='a"), FORM),
    ("b-xss", "POST", "", q(comment="<script>alert(1)</script>"), FORM),
    ("q-xss", "GET", q(s="<script>alert(document.cookie)</script>"), None, {}),
    ("q-xss-img", "GET", q(s='<img src=x onerror=alert(1)>'), None, {}),
    ("q-xss-svg", "GET", q(s="<svg/onload=alert(1)>"), None, {}),
    ("q-xss-js", "GET", q(u="javascript:alert(1)"), None, {}),
    ("q-xss-ent", "GET", q(s="&lt;script&gt;alert(1)&lt;/script&gt;"), None, {}),
    ("q-xss-attr", "GET", q(s='" onmouseover="alert(1)'), None, {}),
    ("q-xss-css", "GET", q(s="<div style=\"background:url(javascript:alert(1))\">"), None, {}),
    ("c-sqli", "GET", "", None, {"Cookie": "session=1' or '1'='1; theme=dark"}),
    ("c-utm", "GET", "", None, {"Cookie": "__utmz=1' or '1'='1; theme=dark"}),
    ("c-name", "GET", "", None, {"Cookie": "<script>alert(1)</script>=1"}),
    ("c-xss", "GET", "", None, {"Cookie": "pref=<iframe src=javascript:alert(1)>"}),
    ("h-ua-sqli", "GET", "", None, {"User-Agent": "Mozilla' or 1=1--"}),
    ("h-ua-xss", "GET", "", None, {"User-Agent": "<script>alert(1)</script>"}),
    ("h-ref-xss", "GET", "", None, {"Referer": "http://x/?q=<script>alert(1)</script>"}),
    ("h-ref-sqli", "GET", "", None, {"Referer": "http://x/?id=1 union select 1,2--"}),
    ("h-probe", "GET", "", None, {"X-Probe": "1' or '1'='1"}),
    ("chain", "GET", q(chained="x' or 1=1--"), None, {}),
    ("chain-no", "GET", q(chained="1 union select 1"), None, {}),
    ("plain", "GET", q(plain="hello world"), None, {}),
    ("plain-sqli", "GET", q(plain="1' or '1'='1"), None, {}),
    # Benign look-alikes.
    ("ok-apos", "GET", q(name="O'Brien", city="Land O' Lakes"), None, {}),
    ("ok-prose", "GET", q(t="Please select a plan from the table or union of options"), None, {}),
    ("ok-and", "GET", q(t="Tom and Jerry - 1 or 2 apples"), None, {}),
    ("ok-html", "GET", q(t="<b>bold</b> and <i>italic</i>"), None, {}),
    ("ok-on", "GET", q(onion="1", t="online onboarding"), None, {}),
    ("ok-math", "GET", q(t="a<b and c>d", e="x = 1; y = 2"), None, {}),
    ("ok-json", "POST", "", q(j='{"a": 1, "b": [1,2], "c": "it\'s"}'), FORM),
    ("ok-email", "GET", q(mail="jane.doe+tag@example.com", url="https://example.com/a?b=c&d=e"), None, {}),
    ("ok-utf8", "GET", q(t="Привет мир 你好 مرحبا"), None, {}),
    ("ok-ua", "GET", "", None, {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}),
    ("ok-cookie", "GET", "", None, {"Cookie": "a=1; b=hello; c=it's"}),
]


def test_detect_operators_match_modsecurity():
    requests = [(method, "/" + label + ("?" + query if query else ""), headers,
                 body.encode() if body else None)
                for label, method, query, body, headers in REQUESTS]
    ms, _ = compare_with_modsecurity(
        "SecRuleEngine On\nSecRequestBodyAccess On\n" + RULES, requests,
        fields=("data", "words"), name="ms2detect",
        parapet_snippet="SecRuleEngine On\nSecFilterScanPOST On\n" + RULES)
    # The oracle must see the attacks: a run where nothing matched compares nothing.
    fingerprints = [h[1] for hits in ms.alerts.values() for h in hits if h[0] == "942100"]
    xss = [h[1] for hits in ms.alerts.values() for h in hits if h[0] in ("941100", "941101")]
    assert len(fingerprints) >= 10 and len(xss) >= 8, (fingerprints, xss)
    print("    (%d @detectSQLi, %d @detectXSS alerts)" % (len(fingerprints), len(xss)))
