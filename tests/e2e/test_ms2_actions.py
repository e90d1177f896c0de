"""SecRule actions against ModSecurity 2.9.7 itself (reference secrule-2.9 §9): the same rules
in a real Apache with Debian's mod_security2 and in one with Parapet, the same requests, and
per request the same status, the same rule ids with their [msg] in the error log (in order),
the same words before the tags, what the client sees (the Location of a redirect, a connection
closed by drop) and the parts of the request's audit-log entry (Concurrent, so each entry has
its --boundary-X-- part lines).

Covered: every ctl: of §9.5 (auditLogParts =X/+X/-X, auditEngine, ruleRemoveByMsg/ByTag,
ruleRemoveTarget* by id, msg and tag, requestBodyAccess, requestBodyLimit,
forceRequestBodyVariable, debugLogLevel, hashEngine/hashEnforcement Off).
"""
import http.client
import os
import re
import socket
import time
from pathlib import Path

from harness import Apache, Skip

MODSEC_SO = "/usr/lib/apache2/modules/mod_security2.so"

# The settings each engine spells its own way (Parapet reads the body under SecFilterScanPOST
# until SecRequestBodyAccess lands as a directive).
MS_PREFIX = """LoadModule security2_module %s
SecRuleEngine On
SecRequestBodyAccess On
SecDataDir @ROOT@/data
SecTmpDir @ROOT@/data
""" % MODSEC_SO
PP_PREFIX = """SecRuleEngine On
SecFilterScanPOST On
"""
AUDIT = """SecAuditEngine RelevantOnly
SecAuditLogType Concurrent
SecAuditLog @ROOT@/logs/audit_index
SecAuditLogStorageDir @ROOT@/data
SecAuditLogParts ABFHZ
SecAuditLogRelevantStatus "^$"
"""

CTL_RULES = r"""
SecDefaultAction "phase:2,log,auditlog,pass"
SecAction "id:220,phase:1,pass,nolog,setvar:tx.pl=2"
SecRule REQUEST_URI "^/ap1" "id:200,phase:1,pass,nolog,ctl:auditLogParts=+C"
SecRule REQUEST_URI "^/ap2" "id:201,phase:1,pass,nolog,ctl:auditLogParts=-F"
SecRule REQUEST_URI "^/ap3" "id:202,phase:1,pass,nolog,ctl:auditLogParts=ABZ"
SecRule REQUEST_URI "^/ap4" "id:206,phase:1,pass,nolog,ctl:auditLogParts=-FH,ctl:auditLogParts=+C"
SecRule REQUEST_URI "^/ae1" "id:203,phase:1,pass,nolog,ctl:auditEngine=Off"
SecRule REQUEST_URI "^/ae2" "id:204,phase:1,pass,nolog,ctl:auditEngine=On"
SecRule REQUEST_URI "^/rm1" "id:210,phase:1,pass,nolog,ctl:'ruleRemoveByMsg=^bad q'"
SecRule REQUEST_URI "^/rm2" "id:211,phase:1,pass,nolog,ctl:ruleRemoveByTag=^Attack$"
SecRule REQUEST_URI "^/rm3" "id:212,phase:1,pass,nolog,ctl:ruleRemoveTargetByMsg=quote;ARGS:pw"
SecRule REQUEST_URI "^/rm4" "id:213,phase:1,pass,nolog,ctl:ruleRemoveTargetByTag=xss;ARGS:pw"
SecRule REQUEST_URI "^/rm5" "id:214,phase:1,pass,nolog,ctl:ruleRemoveByTag=^pl/2$"
SecRule REQUEST_URI "^/rm6" "id:219,phase:1,pass,nolog,ctl:'ruleRemoveByMsg=Bad Q'"
SecRule REQUEST_URI "^/rb1" "id:215,phase:1,pass,nolog,ctl:requestBodyAccess=Off"
SecRule REQUEST_URI "^/rb2" "id:216,phase:1,pass,nolog,ctl:requestBodyLimit=5"
SecRule REQUEST_URI "^/dl" "id:217,phase:1,pass,nolog,ctl:debugLogLevel=0"
SecRule REQUEST_URI "^/fb" "id:218,phase:1,pass,nolog,ctl:forceRequestBodyVariable=On"
SecRule REQUEST_URI "^/hash" "id:221,phase:1,pass,nolog,ctl:hashEngine=Off,ctl:hashEnforcement=Off"
SecRule ARGS "audit" "id:205,phase:2,pass,log,msg:'relevant'"
SecRule ARGS:q "attack" "id:230,phase:2,deny,status:406,msg:'bad q'"
SecRule ARGS "Attack2" "id:231,phase:2,deny,status:407,tag:'attack'"
SecRule ARGS "'" "id:232,phase:2,deny,status:403,msg:'quote',tag:'xss'"
SecRule ARGS "plx" "id:233,phase:2,deny,status:408,tag:'pl/%{tx.pl}'"
SecRule ARGS "bodyarg" "id:234,phase:2,deny,status:409,msg:'body arg'"
SecRule REQUEST_BODY "rawbody" "id:235,phase:2,deny,status:410,msg:'raw body'"
"""

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# (method, path, headers, body)
CTL_REQUESTS = [
    ("POST", "/ap1?a=audit", FORM, "b=1"),
    ("POST", "/ap2?a=audit", FORM, "b=1"),
    ("POST", "/ap3?a=audit", FORM, "b=1"),
    ("POST", "/ap4?a=audit", FORM, "b=1"),
    ("POST", "/apx?a=audit", FORM, "b=1"),
    ("GET", "/ae1?a=audit", {}, None),
    ("GET", "/ae2", {}, None),
    ("GET", "/ae3", {}, None),
    ("GET", "/rm1?q=attack", {}, None),
    ("GET", "/rm6?q=attack", {}, None),
    ("GET", "/rm2?a=Attack2", {}, None),
    ("GET", "/rm1x?q=attack", {}, None),
    ("GET", "/rm3?pw=it's", {}, None),
    ("GET", "/k3?pw=it's", {}, None),
    ("GET", "/rm3c?pw=it's&u=o'b", {}, None),
    ("GET", "/rm4?pw=it's", {}, None),
    ("GET", "/rm5?a=plx", {}, None),
    ("GET", "/k5?a=plx", {}, None),
    ("POST", "/rb1", FORM, "a=bodyarg"),
    ("POST", "/k1", FORM, "a=bodyarg"),
    ("POST", "/rb2", FORM, "a=0123456789"),
    ("POST", "/k2", FORM, "a=0123456789"),
    ("GET", "/dl?q=attack", {}, None),
    ("POST", "/fb", FORM, "a=bodyarg"),
    ("POST", "/fb2", {"Content-Type": "text/plain"}, "some rawbody here"),
    ("POST", "/k4", {"Content-Type": "text/plain"}, "some rawbody here"),
    ("POST", "/fb3", {"Content-Type": "multipart/form-data; boundary=XX"},
     "--XX\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nrawbody\r\n--XX--\r\n"),
    ("GET", "/hash?q=attack", {}, None),
]

LINE = re.compile(r'\[id "(\d+)"\].*?\[uri "([^"]*)"\]')
PART = re.compile(r"^--[0-9a-f]+-([A-Z])--$", re.M)


def send(srv, method, path, headers, body):
    """What the client sees: (status or 'closed', Location header)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        data = body.encode() if isinstance(body, str) else body
        hdrs = dict(headers)
        if data is not None:
            hdrs["Content-Length"] = str(len(data))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if data:
            conn.send(data)
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheader("Location")
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
            socket.timeout):
        return "closed", None
    finally:
        conn.close()


def audit_parts(root):
    """uri (from part B's request line) -> the part letters of its audit entry."""
    out = {}
    for f in Path(root, "data").rglob("*"):
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        letters = PART.findall(text)
        if not letters:
            continue
        m = re.search(r"^[A-Z]+ (/[^ ?]*)", text, re.M)
        out[m.group(1) if m else "?%s" % f.name] = "".join(letters)
    return out


def run(load_parapet, rules, requests, audit=True):
    snippet = (PP_PREFIX if load_parapet else MS_PREFIX) + (AUDIT if audit else "") + rules
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2act-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    seen = {}
    try:
        for method, path, headers, body in requests:
            seen[path] = send(srv, method, path, headers, body)
        time.sleep(0.5)
        log = srv.error_log()
        parts = audit_parts(srv.root) if audit else {}
    finally:
        srv.stop()
    hits = {}
    for line in log.splitlines():
        m = LINE.search(line)
        if not m:
            continue
        msg = re.search(r'\[msg "([^"]*)"\]', line)
        words = re.search(r'(ModSecurity: .*?) \[(?:file|line|id) ', line)
        uri = m.group(2).split("?")[0]
        hits.setdefault(uri, []).append((m.group(1), msg.group(1) if msg else None,
                                         words.group(1) if words else None))
    return seen, hits, parts


def compare(rules, requests, audit=True):
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    ms_seen, ms_hits, ms_parts = run(False, rules, requests, audit)
    pp_seen, pp_hits, pp_parts = run(True, rules, requests, audit)
    differences = []
    for method, path, _, _ in requests:
        uri = path.split("?")[0]
        if ms_seen[path] != pp_seen[path]:
            differences.append("%s %s: client saw modsecurity %r, parapet %r"
                               % (method, path, ms_seen[path], pp_seen[path]))
        if ms_hits.get(uri, []) != pp_hits.get(uri, []):
            differences.append("%s %s: log modsecurity %r, parapet %r"
                               % (method, path, ms_hits.get(uri, []), pp_hits.get(uri, [])))
        if ms_parts.get(uri) != pp_parts.get(uri):
            differences.append("%s %s: audit parts modsecurity %r, parapet %r"
                               % (method, path, ms_parts.get(uri), pp_parts.get(uri)))
    compared = sum(len(v) for v in ms_hits.values())
    print("    %d requests, %d ModSecurity log lines and %d audit entries compared, "
          "%d differences" % (len(requests), compared, len(ms_parts), len(differences)))
    if differences:
        raise AssertionError("\n  ".join(differences))


def test_ctl_matches_modsecurity():
    compare(CTL_RULES, CTL_REQUESTS)
