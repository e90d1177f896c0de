"""The 2.x variables and the JSON body processor against ModSecurity 2.9.7 itself.

One real Apache with Debian's mod_security2 logs, for each request below, every value of a set
of variables: a phase-2 rule per variable, `@unconditionalMatch` with
`logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'` and t:hexEncode so bytes survive the error log;
JSON bodies are selected by ctl:requestBodyProcessor=JSON in phase 1, as the recommended
configuration does. The same raw requests go through `build/parapet vars` (the registry's
collectors after the same pp_tx_* sequence as the adapter), and the (name, value) lists must be
equal, in order. A second test loads the same rules, ctl:requestBodyProcessor included, into
Parapet's SecRule front end in a real Apache and compares status and logged names and values
with ModSecurity's for every request.
"""
import base64
import hashlib
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import harness
from harness import MODSEC_SO, REPO, Apache, Skip

PARAPET = REPO / "build" / "parapet"

VARIABLES = ["ARGS", "ARGS_NAMES", "ARGS_GET", "ARGS_POST", "ARGS_POST_NAMES",
             "ARGS_COMBINED_SIZE", "REQBODY_PROCESSOR", "REQBODY_ERROR", "REQBODY_ERROR_MSG",
             "REQUEST_BODY_LENGTH", "FILES", "FILES_NAMES", "FILES_SIZES", "FILES_COMBINED_SIZE",
             "MULTIPART_STRICT_ERROR", "MULTIPART_BOUNDARY_QUOTED", "MULTIPART_UNMATCHED_BOUNDARY",
             "QUERY_STRING", "REQUEST_FILENAME", "REQUEST_URI_RAW", "REQUEST_METHOD",
             "REQUEST_PROTOCOL", "XML:/*", "XML://@*", "XML"]

JSON = "application/json"
XML = "text/xml"
FORM = "application/x-www-form-urlencoded"
MP_BODY = ("--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nhello\r\n"
           "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
           "Content-Type: text/plain\r\n\r\nabcde\r\n--XyZ--\r\n")

# (query, content type, body); each request gets its own path /cN so log lines can be told apart.
CASES = [
    ("", JSON, '{"a":[1,2]}'),
    ("", JSON, '{"json":{"a":[1,"x",{"b":"y"}]}}'),
    ("", JSON, '[1,["x",{"k":"y"}]]'),
    ("", JSON, '{"n":1.50,"e":-2E+3,"t":true,"f":false,"z":null,"s":"a\\u00e9\\n"}'),
    ("", JSON, '{"a":1,"a":2}'),
    ("", JSON, '{"a.b":{"c":1},"d":2}'),
    ("", JSON, '{"a":{"b":{"c":1},"d":2},"e":3}'),
    ("q=1", JSON, '{"k":"v"}'),
    ("", JSON, '{"a":]}'),
    ("", JSON, '{}'),
    ("", JSON, '[[[["deep"]]]]'),
    # an empty piece ("&&") is an argument with an empty name and value, with 2.x rules loaded
    ("q=1&Q=2&&", FORM, "y=1&z&&=v&nA=%zz"),
    ("", FORM, "a=b+c&a=%41"),
    ("x=1", "multipart/form-data; boundary=XyZ", MP_BODY),
    ("", 'multipart/form-data; boundary="XyZ"', MP_BODY),
    ("", XML, '<root><xmla x="1">jv <b>t</b></xmla><c>d</c></root>'),
    ("", XML, '<r a="x" b="y"><s c="z"/>t&amp;u<![CDATA[<v>]]><!-- c --></r>'),
    ("", XML, '<!DOCTYPE r [<!ENTITY e "ent">]><r>a&e;b</r>'),
    ("", XML, '<a></b>'),
    ("", JSON, '{"broken":'),
]


def modsec_config(root):
    rules = ['SecRule REQUEST_HEADERS:Content-Type "@beginsWith application/json" '
             '"id:100,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"',
             'SecRule REQUEST_HEADERS:Content-Type "@beginsWith text/xml" '
             '"id:101,phase:1,pass,nolog,ctl:requestBodyProcessor=XML"']
    for k, var in enumerate(VARIABLES):
        rules.append('SecRule %s "@unconditionalMatch" "id:%d,phase:2,pass,log,t:none,'
                     't:hexEncode,logdata:\'%%{MATCHED_VAR_NAME}=%%{MATCHED_VAR}\'"' % (var, 1000 + k))
    return """
LoadModule security2_module %s
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecArgumentsLimit 1000
SecDataDir @ROOT@/data
SecTmpDir @ROOT@/data
%s
""" % (MODSEC_SO, "\n".join(rules))


def oracle(cases, load_parapet=False):
    """[(status, [(variable, name, value bytes)])] per case, as ModSecurity logs them (or, with
    load_parapet, as Parapet's SecRule front end logs them for the same rules)."""
    snippet = modsec_config(None)
    if load_parapet:
        # the same rules, without the module line
        snippet = "SecRuleEngine On\nSecFilterScanPOST On\n" + "\n".join(
            l for l in snippet.splitlines() if l.startswith("SecRule "))
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2vars-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    statuses = []
    try:
        for n, (query, ctype, body) in enumerate(cases):
            path = "/c%d%s" % (n, "?" + query if query else "")
            resp = srv.request("POST", path, body=body.encode(), headers={"Content-Type": ctype})
            statuses.append(resp.status)
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    found = [[] for _ in cases]
    for line in log.splitlines():
        m = re.search(r'\[id "(\d+)"\].*\[data "(.*?)"\].*\[uri "/c(\d+)"\]', line)
        if not m or int(m.group(1)) < 1000:
            continue
        name, _, value = m.group(2).rpartition("=")
        found[int(m.group(3))].append((VARIABLES[int(m.group(1)) - 1000], name,
                                       bytes.fromhex(value)))
    return list(zip(statuses, found))


def ours(case, n, tmp):
    query, ctype, body = case
    path = "/c%d%s" % (n, "?" + query if query else "")
    req = tmp / ("c%d.req" % n)
    req.write_bytes(("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: %s\r\n"
                     "Content-Length: %d\r\n\r\n" % (path, ctype, len(body.encode()))).encode()
                    + body.encode())
    args = [str(PARAPET), "vars", "-c", str(tmp / "parapet.conf")]
    if ctype in (JSON, XML):
        args += ["--processor", "JSON" if ctype == JSON else "XML"]
    run = subprocess.run(args + [str(req)] + VARIABLES, capture_output=True)
    if run.returncode not in (0, 1):
        raise AssertionError("parapet vars: %r" % run.stderr)
    values = []
    for line in run.stdout.decode().splitlines():
        var, name, value = line.split("\t")
        base = var.split(":")[0]
        values.append((var, base + name, bytes.fromhex(value)))
    return run.returncode == 1, values


def test_variables_match_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    theirs = oracle(CASES)
    differences, compared = [], 0
    with tempfile.TemporaryDirectory(prefix="parapet-vars-") as d:
        tmp = Path(d)
        # a 2.x rule, so that arguments are split as ModSecurity 2 splits them
        (tmp / "parapet.conf").write_text(
            "SecFilterEngine On\nSecFilterScanPOST On\n"
            'SecRule REQUEST_METHOD "@rx ^$" "id:1,phase:1,pass,nolog"\n')
        for n, case in enumerate(CASES):
            status, oracle_values = theirs[n]
            refused, mine = ours(case, n, tmp)
            if status >= 500:
                # A body error found only at its end: ModSecurity answers 500 without phase 2,
                # Parapet refuses the request (400) -- docs/variables.md.
                if not refused:
                    differences.append("case %d %r: ModSecurity %d, Parapet did not refuse"
                                       % (n, case[2], status))
                continue
            # every request logs REQUEST_METHOD: a case without it means the log was not read
            if not any(v[0] == "REQUEST_METHOD" for v in oracle_values):
                differences.append("case %d: no log lines from ModSecurity" % n)
                continue
            compared += 1
            if mine != oracle_values:
                differences.append("case %d %r:\n    parapet     %r\n    modsecurity %r"
                                   % (n, case[2], mine, oracle_values))
    print("    %d requests x %d variables: %d compared (%d values), %d differences"
          % (len(CASES), len(VARIABLES), compared, sum(len(v) for _, v in theirs),
             len(differences)))
    if differences:
        raise AssertionError("%d differences:\n  %s" % (len(differences), "\n  ".join(differences)))


def test_variables_in_secrule_match_modsecurity():
    """The same rules, ctl:requestBodyProcessor included, loaded by Parapet's SecRule front end
    in a real Apache: every request logs the same names and values as ModSecurity, with the
    same status, except that a body broken at its end gets 500 from ModSecurity and 400 from
    Parapet (docs/variables.md)."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    cases = CASES
    theirs = oracle(cases)
    mine = oracle(cases, load_parapet=True)
    differences = []
    for n, case in enumerate(cases):
        if theirs[n][0] >= 500:
            if mine[n][0] != 400:
                differences.append("case %d %r: ModSecurity %d, Parapet %d (expected 400)"
                                   % (n, case[2], theirs[n][0], mine[n][0]))
        elif not any(v[0] == "REQUEST_METHOD" for v in theirs[n][1]):
            differences.append("case %d: no log lines from ModSecurity" % n)
        elif theirs[n] != mine[n]:
            differences.append("case %d %r:\n    parapet     %r\n    modsecurity %r"
                               % (n, case[2], mine[n], theirs[n]))
    print("    %d requests, %d values, %d differences"
          % (len(cases), sum(len(v) for _, v in theirs), len(differences)))
    if differences:
        raise AssertionError("%d differences:\n  %s" % (len(differences), "\n  ".join(differences)))


# ---- every variable in the phase a rule reads it, live ------------------------------------

# (target, phases). Values that differ between two servers by nature are compared by form:
# ports and the server root are replaced by placeholders, VOLATILE ones must match a pattern.
LIVE_VARIABLES = [
    ("ARGS", (1, 2)), ("ARGS_NAMES", (1, 2)), ("ARGS:y", (1, 2)), ("ARGS_GET:X", (1,)),
    ("ARGS_POST:A", (2,)), ("ARGS_GET_NAMES", (2,)), ("ARGS_COMBINED_SIZE", (1, 2)),
    ("QUERY_STRING", (1,)), ("REQUEST_COOKIES:c2", (1, 2)), ("REQUEST_COOKIES_NAMES", (1,)),
    ("REQUEST_HEADERS:x-h", (1,)), ("REQUEST_HEADERS_NAMES", (1,)), ("REQUEST_LINE", (1, 2)),
    # the path is raw in phase 1 and Apache's decoded, normalised r->uri from phase 2 on
    ("REQUEST_URI", (1, 2, 3)), ("REQUEST_URI_RAW", (1, 2)),
    ("REQUEST_FILENAME", (1, 2, 3)), ("REQUEST_BASENAME", (1, 2)),
    ("REQUEST_BODY", (2,)), ("REQUEST_BODY_LENGTH", (1, 2)),
    ("FILES:F", (2,)), ("FILES_NAMES", (2,)), ("FILES_SIZES:f", (2,)),
    ("FILES_COMBINED_SIZE", (2,)),
    ("ENV:unique_id", (1, 2)), ("UNIQUE_ID", (2,)),
    ("REMOTE_ADDR", (1,)), ("REMOTE_HOST", (1,)), ("REMOTE_PORT", (1,)), ("REMOTE_USER", (1, 2, 3)),
    ("AUTH_TYPE", (1, 2)), ("SERVER_NAME", (1,)), ("SERVER_ADDR", (1,)), ("SERVER_PORT", (1,)),
    # known from fixups on: absent in phase 1 (and not cached from there)
    ("SCRIPT_FILENAME", (1, 2)), ("SCRIPT_BASENAME", (1, 2)), ("PATH_INFO", (1, 2, 3)),
    ("TIME", (1,)), ("TIME_YEAR", (1,)), ("TIME_WDAY", (2,)), ("TIME_EPOCH", (1,)),
    ("DURATION", (2,)),
    ("MULTIPART_PART_HEADERS", (2,)), ("MULTIPART_PART_HEADERS:T", (2,)),
    ("MULTIPART_FILENAME", (2,)), ("MULTIPART_NAME", (2,)), ("MULTIPART_CRLF_LINE", (1, 2)),
    ("FILES_TMPNAMES", (2,)), ("USERAGENT_IP", (1,)), ("MODSEC_BUILD", (1,)),
    ("INBOUND_DATA_ERROR", (2,)), ("SDBM_DELETE_ERROR", (1,)), ("WEBAPPID", (1,)),
    ("URLENCODED_ERROR", (1, 2)),
    # selectors and exclusions on the _NAMES collections
    ("ARGS_NAMES:y", (1, 2)), ("ARGS_NAMES:/^[xa]/", (2,)), ("ARGS_NAMES|!ARGS_NAMES:x", (1,)),
    ("ARGS_GET_NAMES:Y", (1,)), ("ARGS_POST_NAMES:A", (2,)), ("REQUEST_HEADERS_NAMES:x-h", (1,)),
    ("REQUEST_COOKIES_NAMES:C1", (1,)), ("RESPONSE_HEADERS_NAMES:etag", (3,)),
    ("GEO:COUNTRY_CODE", (1,)), ("&GEO", (2,)), ("&MATCHED_VARS", (2,)),
    # the response as Apache has it: r->status_line or the standard one, r->content_type and
    # r->clength (0 until a handler sets it), not the headers
    ("STATUS_LINE", (3, 4)), ("RESPONSE_STATUS", (3,)), ("RESPONSE_PROTOCOL", (3,)),
    ("RESPONSE_CONTENT_TYPE", (3, 4)), ("RESPONSE_CONTENT_LENGTH", (3, 4)),
    ("RESPONSE_HEADERS_NAMES", (3,)),
]
VOLATILE = {"UNIQUE_ID": rb"[A-Za-z0-9@_-]{27}", "ENV": rb"[A-Za-z0-9@_-]{27}",
            "REMOTE_PORT": rb"\d+", "TIME": rb"20\d{12}", "TIME_YEAR": rb"20\d\d",
            "TIME_WDAY": rb"[0-6]", "TIME_EPOCH": rb"\d{10}", "DURATION": rb"\d+"}

LIVE_MP = ("--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\nX-A: b\r\n\r\nhello\r\n"
           "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
           "Content-Type: text/plain\r\n\r\nabcde\r\n--XyZ--\r\n")
# (method, path, body, headers); the path holds /vN so the log lines of request N are known.
LIVE_REQUESTS = [
    # an empty piece ("&&") is an argument with an empty name and value in 2.x
    ("GET", "/v0/a%41b/./c//index.html?x=%41&Y=2&&=e&", None,
     {"Cookie": "c1=v1; C2=v2", "X-H": "1"}),
    ("POST", "/v1/?q=1", b"&a=1&b=%zz&&a=3", {"Content-Type": FORM}),
    ("POST", "/v2?x=1", LIVE_MP.encode(), {"Content-Type": "multipart/form-data; boundary=XyZ"}),
    ("GET", "/cgi-bin/echo.py/v3/extra%41/info?z=1", None, {}),
    ("GET", "/v4", None, {"User-Agent": "ua", "X-Forwarded-For": "1.2.3.4"}),
    ("GET", "/v5/a%3Cb%20c/x/../d%2ephp?q=%3C", None, {}),
    ("GET", "/v6/x?", None, {}),
    ("GET", "/v7/%7e%2e/y/", None, {}),
    # the last name and the last file name seen: a field after the file
    ("POST", "/v8", ("--XyZ\r\nContent-Disposition: form-data; name=\"f1\"; filename=\"b.bin\"\r\n"
                     "\r\nxyz\r\n--XyZ\r\nContent-Disposition: form-data; name=\"g\"\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n\r\nv\r\n--XyZ--\r\n").encode(),
     {"Content-Type": "multipart/form-data; boundary=XyZ"}),
    ("GET", "/v9/page.html", None, {}),  # a static file: the core handler sets the length
    # Basic authentication: REMOTE_USER and AUTH_TYPE from phase 2 on (phase 1 runs before it)
    ("GET", "/v10/page.html", None, {"Authorization": "Basic " + base64.b64encode(b"alice:pw").decode()}),
]
AUTH = """
<Location /v10>
    AuthType Basic
    AuthName parapet
    AuthUserFile @ROOT@/auth/htpasswd
    Require valid-user
</Location>
"""
# Apache's {SHA} form of "pw"
HTPASSWD = "alice:{SHA}%s\n" % base64.b64encode(hashlib.sha1(b"pw").digest()).decode()


def live_rules():
    rules, n = [], 0
    for target, phases in LIVE_VARIABLES:
        for phase in phases:
            rules.append('SecRule %s "@unconditionalMatch" "id:%d,phase:%d,pass,log,t:none,'
                         't:hexEncode,logdata:\'%%{MATCHED_VAR_NAME}=%%{MATCHED_VAR}\'"'
                         % (target, 2000 + n, phase))
            n += 1
    return rules


def live_run(load_parapet):
    """{request number: [(rule id, name, value)]} and the statuses, as one server logs them."""
    rules = "\n".join(live_rules())
    if load_parapet:
        snippet = "SecRuleEngine On\nSecFilterScanPOST On\nSecFilterScanOutput On\n" + rules
    else:
        snippet = ("LoadModule security2_module %s\nSecRuleEngine On\nSecRequestBodyAccess On\n"
                   "SecResponseBodyAccess On\nSecDataDir @ROOT@/data\nSecTmpDir @ROOT@/data\n%s"
                   % (MODSEC_SO, rules))
    srv = Apache(snippet=AUTH + snippet, load_parapet=load_parapet,
                 modules=harness.DEFAULT_MODULES + ("auth_basic", "authn_core", "authn_file",
                                                    "authz_user"),
                 files={"htdocs/v9/page.html": "<p>static</p>\n",
                        "htdocs/v10/page.html": "<p>private</p>\n", "auth/htpasswd": HTPASSWD},
                 name="ms2live-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    port, root = str(srv.port).encode(), str(srv.root).encode()
    try:
        statuses = [srv.request(m, p, body=b, headers=h).status for m, p, b, h in LIVE_REQUESTS]
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    found = {}
    for line in log.splitlines():
        m = re.search(r'\[id "(\d+)"\].*\[data "(.*?)"\].*\[uri "[^"]*/v(\d+)[/"]', line)
        if not m or int(m.group(1)) < 2000:
            continue
        name, _, value = m.group(2).rpartition("=")
        value = bytes.fromhex(value)
        value = value.replace(port, b"@PORT@").replace(root, b"@ROOT@")
        found.setdefault(int(m.group(3)), []).append((int(m.group(1)), name, value))
    return statuses, found


def test_variables_in_each_phase_match_modsecurity():
    """Request, connection and time variables, each in the phases a rule may read it, logged
    by ModSecurity and by Parapet's SecRule front end for the same requests: the same names and
    values in the same order (ports, the server root and volatile values compared by form)."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    ms_status, theirs = live_run(False)
    pp_status, mine = live_run(True)
    label = {}
    n = 0
    for target, phases in LIVE_VARIABLES:
        for phase in phases:
            label[2000 + n] = "%s (phase %d)" % (target, phase)
            n += 1
    differences, compared = [], 0
    for k, req in enumerate(LIVE_REQUESTS):
        if ms_status[k] != pp_status[k]:
            differences.append("%s %s: status %d, parapet %d"
                               % (req[0], req[1], ms_status[k], pp_status[k]))
        a, b = theirs.get(k, []), mine.get(k, [])
        if not any(label[i].startswith("REQUEST_LINE") for i, _, _ in a):
            differences.append("%s %s: no log lines from ModSecurity" % req[:2])
        for rule in sorted(set(i for i, _, _ in a + b)):
            va = [(nm, v) for i, nm, v in a if i == rule]
            vb = [(nm, v) for i, nm, v in b if i == rule]
            compared += len(va)
            pattern = VOLATILE.get(label[rule].split(":")[0].split(" ")[0])
            if pattern and len(va) == len(vb):
                same = all(x[0] == y[0] and re.fullmatch(pattern, x[1]) and
                           re.fullmatch(pattern, y[1]) for x, y in zip(va, vb))
            else:
                same = va == vb
            if not same:
                differences.append("%s %s %s:\n    parapet     %r\n    modsecurity %r"
                                   % (req[0], req[1], label[rule], vb, va))
    print("    %d requests x %d rules: %d values compared, %d differences"
          % (len(LIVE_REQUESTS), len(label), compared, len(differences)))
    if differences:
        raise AssertionError("%d differences:\n  %s" % (len(differences), "\n  ".join(differences)))


# ---- the loop's variables: MATCHED_VARS(_NAMES), HIGHEST_SEVERITY, RULE --------------------

STATE_RULES = r"""
SecRule ARGS "@rx ^m" "id:10,phase:2,pass,nolog,chain"
  SecRule MATCHED_VARS "@unconditionalMatch" "setvar:'tx.v_a=%{tx.v_a}|%{matched_var_name}=%{matched_var}',chain"
  SecRule MATCHED_VARS_NAMES "@unconditionalMatch" "setvar:'tx.v_b=%{tx.v_b}|%{matched_var_name}=%{matched_var}'"
SecRule MATCHED_VARS "@unconditionalMatch" "id:11,phase:2,pass,nolog,setvar:'tx.v_c=%{tx.v_c}|%{matched_var_name}=%{matched_var}'"
SecRule ARGS|MATCHED_VARS "@rx ^s" "id:12,phase:2,pass,nolog,t:none,t:lowercase,setvar:'tx.v_d=%{tx.v_d}|%{matched_var_name}=%{matched_var}'"
SecRule ARGS:sev "@rx 2" "id:13,phase:2,pass,nolog,severity:5"
SecRule ARGS:sev "@rx 2" "id:14,phase:2,pass,nolog,severity:CRITICAL"
SecRule ARGS:sev "@rx 2" "id:15,phase:2,pass,nolog,severity:0"
SecRule ARGS:sev "@rx 2" "id:16,phase:2,pass,nolog,severity:3,chain"
  SecRule ARGS:sev "@rx 9" "setvar:tx.v_x=1"
SecRule ARGS:sev "@rx 1" "id:17,phase:2,pass,nolog,severity:1,chain"
  SecRule ARGS:sev "@rx 9" "setvar:tx.v_x=1"
SecRule HIGHEST_SEVERITY "@unconditionalMatch" "id:18,phase:2,pass,nolog,setvar:'tx.v_hs=%{highest_severity}'"
SecRule ARGS "@rx ^r" "id:20,phase:2,pass,nolog,msg:'hello %{tx.v_hs}',rev:3,ver:'v1',maturity:4,accuracy:5,severity:CRITICAL,logdata:'ld %{matched_var}',tag:'t1',setvar:'tx.v_r=%{rule.id}|%{rule.msg}|%{rule.severity}|%{rule.rev}|%{rule.ver}|%{rule.maturity}|%{rule.accuracy}|%{rule.logdata}|%{RULE.TAG}|%{rule.phase}',chain"
  SecRule ARGS "@rx ^r" "setvar:'tx.v_l=%{rule.id}|%{rule.msg}|%{rule.severity}'"
SecAction "id:21,phase:2,pass,nolog,setvar:'tx.v_e=%{rule.id}|%{rule.msg}|%{rule.severity}'"
SecRule ARGS "@rx ^m" "id:30,phase:2,pass,log,msg:'rid=%{rule.id}',logdata:'x%{rule.msg}',chain"
  SecRule MATCHED_VARS "@rx 2$" ""
SecRule ARGS "@rx ^k" "id:31,phase:2,pass,nolog,chain"
  SecRule MATCHED_VARS:ARGS:K "@unconditionalMatch" "setvar:tx.v_k=%{matched_var_name}"
SecRule RULE:id "@rx 3" "id:33,phase:2,pass,log,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule ARGS "@rx ^m" "id:34,phase:2,pass,log,chain"
  SecRule MATCHED_VARS_NAMES "@rx b$" ""
SecRule ARGS "@rx ^m" "id:35,phase:1,pass,nolog,severity:4"
SecRule HIGHEST_SEVERITY "@rx ^4$" "id:36,phase:1,pass,log,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule TX:/^v_/ "@rx ." "id:90,phase:2,pass,log,t:none,t:hexEncode,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule HIGHEST_SEVERITY "@rx ^" "id:91,phase:2,pass,log,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
"""
STATE_QUERIES = ["a=m1&x=b&b=m2", "a=m1&s1=sx", "sev=2", "sev=1", "r=r1&q=r2", "x=1", "sev=29",
                 "a=m1&b=m2&k=k1"]


def state_run(load_parapet):
    """Per query, the logged (id, msg, data, words) of every line, in order."""
    if load_parapet:
        snippet = "SecRuleEngine On\n" + STATE_RULES
    else:
        snippet = ("LoadModule security2_module %s\nSecRuleEngine On\nSecDataDir @ROOT@/data\n"
                   "%s" % (MODSEC_SO, STATE_RULES))
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2state-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    try:
        statuses = [srv.get("/s%d?%s" % (n, q)).status for n, q in enumerate(STATE_QUERIES)]
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    found = {}
    for line in log.splitlines():
        m = re.search(r'\[id "(\d+)"\].*\[uri "/s(\d+)"\]', line)
        if not m:
            continue
        tag = lambda t: (re.search(r'\[%s "([^"]*)"\]' % t, line) or [None, None])[1]
        words = re.search(r'(ModSecurity: .*?) \[(?:file|line|id) ', line)
        found.setdefault(int(m.group(2)), []).append(
            (m.group(1), tag("msg"), tag("data"), words.group(1) if words else None))
    return statuses, found


def test_rule_state_variables_match_modsecurity():
    """MATCHED_VARS and MATCHED_VARS_NAMES (a chain's matches so far, a link's own matches
    appended, empty for the rule after the chain and for the targets of the rule being run,
    selectors), HIGHEST_SEVERITY (255 at first, the lowest 1-7 of a rule or whole chain that
    matched, severity 0 never), RULE (the starter's id, msg and logdata unexpanded, numeric
    severity, rev, ver, maturity, accuracy; empty in msg and logdata themselves): the same
    log lines as ModSecurity 2.9.7's for the same requests."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    ms_status, theirs = state_run(False)
    pp_status, mine = state_run(True)
    differences = []
    for n, q in enumerate(STATE_QUERIES):
        if ms_status[n] != pp_status[n]:
            differences.append("?%s: status %d, parapet %d" % (q, ms_status[n], pp_status[n]))
        if not any(line[0] == "91" for line in theirs.get(n, [])):
            differences.append("?%s: no log lines from ModSecurity" % q)
        if theirs.get(n) != mine.get(n):
            differences.append("?%s:\n    parapet     %r\n    modsecurity %r"
                               % (q, mine.get(n), theirs.get(n)))
    print("    %d requests, %d ModSecurity log lines compared, %d differences"
          % (len(STATE_QUERIES), sum(len(v) for v in theirs.values()), len(differences)))
    if differences:
        raise AssertionError("%d differences:\n  %s" % (len(differences), "\n  ".join(differences)))
