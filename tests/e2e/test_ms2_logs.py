"""Logs in ModSecurity 2.9.7's formats for 2.x rules (issue 13 item 9), against ModSecurity
itself: the same rule file (Include'd, so file and line agree) in a real Apache with Debian's
mod_security2 and in one with Parapet, the same requests, then

- the error-log alert lines compared field by field and byte by byte, from "[client <ip>]
  ModSecurity: " to the end, with only the server root, the unique_id value and the module
  name in Apache's own prefix ([security2:error] / [parapet:error]) set aside;
- Debian's real fail2ban-regex with its shipped apache-modsecurity filter run over both error
  logs: it must match exactly the interceptions (one line per refused request, by unique id),
  and the same number for both servers.
"""
import os
import re
import shutil
import subprocess
import time
import urllib.parse

from harness import MODSEC_SO, Apache, Skip

F2B_FILTER = "/etc/fail2ban/filter.d/apache-modsecurity.conf"

# What only ModSecurity needs; the rules, in a shared file, are the same.
PROLOGUE = {
    "modsec": "LoadModule security2_module %s\nSecDataDir @ROOT@/data\nSecTmpDir @ROOT@/data\n"
              % MODSEC_SO,
    "parapet": "",
}

LONG = "v" + "A\"\\\x01" * 200

RULES = r"""SecRuleEngine On
SecRequestBodyAccess On
SecDefaultAction "phase:2,log,auditlog,pass"
SecRule ARGS:q "attack" "id:10,phase:2,deny,status:403,rev:'2',msg:'bad \"q\" x',logdata:'%{MATCHED_VAR}',severity:CRITICAL,ver:'X/1',maturity:9,accuracy:8,tag:'a',tag:'b c'"
SecRule ARGS:w "^v" "id:11,phase:2,pass,msg:'long data',logdata:'%{MATCHED_VAR}',severity:2"
SecRule ARGS:n "@ge 5" "id:12,phase:2,deny,status:406,msg:'num %{MATCHED_VAR}'"
SecRule REQUEST_HEADERS:X-Phase1 "^block$" "id:13,phase:1,deny,status:403,msg:'phase 1',severity:WARNING"
SecRule ARGS:neg "!@rx ^[a-z]*$" "id:14,phase:2,deny,status:403,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule ARGS:p "@pm evil bad" "id:15,phase:2,pass,msg:'phrase',tag:'x/%{MATCHED_VAR_NAME}'"
SecRule ARGS:s "@streq exact" "id:16,phase:2,deny,status:403,msg:'streq'"
SecRule REQUEST_HEADERS:X-Chain "^a$" "id:17,phase:1,chain,deny,status:409,msg:'chained'"
SecRule ARGS:x "^1$"
SecRule ARGS:rx "\d{3}(?:\"|x)" "id:18,phase:2,deny,status:403,msg:'got %{MATCHED_VAR}'"
SecRule ARGS:nolog "x" "id:19,phase:2,deny,status:403,nolog"
SecRule ARGS:c "@contains needle" "id:20,phase:2,pass,msg:'contains'"
SecRule ARGS:tags "t" "id:21,phase:2,pass,msg:'many tags',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-3',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-4',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-5',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-6',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-7',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-8',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-9',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-10',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-11',tag:'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-12'"
SecAction "id:30,phase:2,pass,log,msg:'always',logdata:'%{REQUEST_METHOD}'"
"""

# (method, path, headers, body); each path is distinct so lines can be told apart by [uri].
REQUESTS = [
    ("GET", "/a1?q=an+attack", {}, None),
    ("GET", "/a2?w=" + urllib.parse.quote(LONG), {}, None),
    ("GET", "/a3?n=7", {}, None),
    ("GET", "/a3b?n=4", {}, None),
    ("GET", "/a4", {"X-Phase1": "block"}, None),
    ("GET", "/a5?neg=ab%0a1", {}, None),
    ("GET", "/a6?p=so+BAD", {}, None),
    ("GET", "/a7?s=exact", {}, None),
    ("GET", "/a8?x=1", {"X-Chain": "a"}, None),
    ("GET", "/a9?rx=" + urllib.parse.quote('123"'), {}, None),
    ("GET", "/a10?nolog=x", {}, None),
    ("GET", "/a11?c=a+needle+b", {}, None),
    ("GET", "/a12?tags=t", {}, None),
    ("POST", "/a13", {"Content-Type": "application/x-www-form-urlencoded"}, "q=attack&b=1"),
    ("GET", "/a14?plain=1", {}, None),
]

ALERT = re.compile(r"^\[[^\]]*\] \[(\w+):error\] \[pid [^\]]*\] \[client [^\]]*\] "
                   r"(\[client [^\]]*\] ModSecurity: .*)$")
UNIQUE = re.compile(r' \[unique_id "([^"]*)"\]$')
URI = re.compile(r' \[uri "([^"]*)"\]')


def require_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")


def run(kind, rules=RULES, extra=""):
    """Runs REQUESTS through one server; returns (statuses by path, alert lines, the server's
    error log path copy, unique ids of intercepted requests by path)."""
    srv = Apache(snippet=PROLOGUE[kind] + extra + "Include @ROOT@/rules/rules.conf\n",
                 load_parapet=kind == "parapet", files={"rules/rules.conf": rules},
                 name="ms2logs-" + kind[0])  # same length: [file] paths cut alike
    srv.start()
    statuses = {}
    try:
        for method, path, headers, body in REQUESTS:
            statuses[path] = srv.request(method, path, body=body, headers=headers).status
        time.sleep(0.5)
        log = srv.error_log()
        root = str(srv.root)
        saved = log
    finally:
        srv.stop()
    alerts = []
    for line in log.splitlines():
        m = ALERT.match(line)
        if m:
            alerts.append(m.group(2).replace(root, "@ROOT@"))
    return statuses, alerts, saved


def by_uri(alerts):
    out = {}
    for a in alerts:
        uri = URI.search(a).group(1)
        out.setdefault(uri, []).append(UNIQUE.sub(' [unique_id "-"]', a))
    return out


def fields(line):
    """The bracketed items of an alert line in order, and the words before them."""
    head = re.match(r"\[client [^\]]*\] ModSecurity: (.*?)(?= \[(?:file|hostname) )", line)
    items = re.findall(r' \[(\w+) "((?:[^"\\]|\\.)*)"\]', line)
    return (head.group(1) if head else line), items


def test_error_log_lines_match_modsecurity():
    require_modsecurity()
    ms_status, ms_alerts, _ = run("modsec")
    pp_status, pp_alerts, _ = run("parapet")
    ms, pp = by_uri(ms_alerts), by_uri(pp_alerts)
    differences = []
    for method, path, _, _ in REQUESTS:
        uri = path.split("?")[0]
        if ms_status[path] != pp_status[path]:
            differences.append("%s: status modsecurity %d, parapet %d"
                               % (path, ms_status[path], pp_status[path]))
        a, b = ms.get(uri, []), pp.get(uri, [])
        if len(a) != len(b):
            differences.append("%s: %d ModSecurity lines, %d Parapet lines:\n    %s\n    %s"
                               % (uri, len(a), len(b), "\n    ".join(a), "\n    ".join(b)))
            continue
        for x, y in zip(a, b):
            if x == y:
                continue
            fx, fy = fields(x), fields(y)
            what = "words" if fx[0] != fy[0] else "items"
            differences.append("%s: %s differ\n    modsecurity %s\n    parapet     %s"
                               % (uri, what, x, y))
    print("    %d requests, %d ModSecurity alert lines compared byte by byte, %d differences"
          % (len(REQUESTS), len(ms_alerts), len(differences)))
    assert len(ms_alerts) >= 12, "the oracle logged too little: %r" % ms_alerts
    if differences:
        raise AssertionError("\n  ".join(differences))


def fail2ban_matches(log_text, tmpdir):
    """Unique ids of the lines fail2ban-regex's apache-modsecurity filter matches."""
    path = os.path.join(tmpdir, "error.log")
    with open(path, "w") as f:
        f.write(log_text)
    res = subprocess.run(["fail2ban-regex", "--print-all-matched", "--print-no-missed",
                          path, F2B_FILTER], capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise AssertionError("fail2ban-regex failed: %s" % (res.stdout + res.stderr))
    total = re.search(r"Lines: \d+ lines, \d+ ignored, (\d+) matched", res.stdout)
    ids = re.findall(r'\[unique_id "([^"]+)"\]', res.stdout)
    return int(total.group(1)), ids


def test_fail2ban_sees_every_interception():
    require_modsecurity()
    if not shutil.which("fail2ban-regex") or not os.path.exists(F2B_FILTER):
        raise Skip("fail2ban is not installed (tools/deps.sh installs it)")
    import tempfile
    results = {}
    for kind in ("modsec", "parapet"):
        statuses, alerts, log = run(kind)
        intercepted = [a for a in alerts if "ModSecurity: Access denied" in a]
        # The paths do not exist: a request the rules let through is answered 404.
        refused = [p for p, s in statuses.items() if s != 404]
        with tempfile.TemporaryDirectory() as tmp:
            matched, ids = fail2ban_matches(log, tmp)
        want = [UNIQUE.search(a).group(1) for a in intercepted]
        results[kind] = (matched, len(refused))
        # One match per logged interception, and these are exactly the interceptions.
        assert matched == len(want), "%s: fail2ban matched %d lines, %d interceptions logged" % (
            kind, matched, len(want))
        assert sorted(set(ids)) == sorted(want), "%s: %r != %r" % (kind, ids, want)
        # Every refused request but the nolog one left an interception line fail2ban saw.
        assert matched == len(refused) - 1, "%s: %d refused, %d matched" % (
            kind, len(refused), matched)
    print("    fail2ban-regex apache-modsecurity: ModSecurity %d of %d refused requests, "
          "Parapet %d of %d (the nolog refusal has no line in either)"
          % (results["modsec"] + results["parapet"]))
    assert results["modsec"] == results["parapet"]


# ---- The audit log ------------------------------------------------------------------------

AUDIT_RULES = r"""SecRuleEngine On
SecRequestBodyAccess On
SecComponentSignature "OWASP_CRS/3.3.4"
SecComponentSignature "Example/1"
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^404$"
SecAuditLogParts ABIJCFHKZ
SecAuditLogType Serial
SecDefaultAction "phase:2,log,auditlog,pass"
SecRule ARGS:q "attack" "id:10,phase:2,deny,status:403,msg:'bad \"q\"',logdata:'%{MATCHED_VAR}',severity:CRITICAL,tag:'t1'"
SecRule ARGS:w "warn" "id:11,phase:2,pass,msg:'warn'"
SecRule ARGS:quiet "x" "id:12,phase:2,pass,nolog"
SecRule ARGS:na "x" "id:13,phase:2,pass,log,noauditlog"
SecRule REQUEST_HEADERS:X-P1 "^x$" "id:14,phase:1,deny,status:406,msg:'p1'"
"""

AUDIT_REQUESTS = [
    ("GET", "/index.html?q=an+attack", {}, None),
    ("GET", "/index.html?w=warn&other=1", {"X-Test": "a b"}, None),
    ("GET", "/index.html?quiet=x", {}, None),
    ("GET", "/index.html?na=x", {}, None),
    ("GET", "/index.html?plain=1", {}, None),
    ("GET", "/missing?plain=1", {}, None),
    ("POST", "/index.html?p=1", {"Content-Type": "application/x-www-form-urlencoded"},
     "a=1&q=attack"),
    ("GET", "/index.html?p1=1", {"X-P1": "x"}, None),
    ("POST", "/index.html?mp=1", {"Content-Type": "multipart/form-data; boundary=XyZ"},
     "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
     "--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"f.txt\"\r\n"
     "Content-Type: text/plain\r\n\r\nfile body\r\n"
     "--XyZ\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nattack\r\n--XyZ--\r\n"),
]

SECTION = re.compile(r"^--([0-9a-f]{8})-([A-Z])--$")


def audit_records(text):
    """The Serial records of text as lists of (letter, content) in order; every record must
    be whole: A first, Z last, one boundary, a blank line after Z."""
    records, cur, bnd, letter, buf = [], None, None, None, []
    for line in text.split("\n"):
        m = SECTION.match(line)
        if m and (cur is None or m.group(1) == bnd):
            if cur is not None:
                cur.append((letter, "\n".join(buf)))
            if m.group(2) == "A":
                assert cur is None, "record not closed before a new A"
                cur, bnd = [], m.group(1)
            letter, buf = m.group(2), []
            if letter == "Z":
                cur.append(("Z", ""))
                records.append(cur)
                cur, letter = None, None
            continue
        if cur is not None:
            buf.append(line)
    assert cur is None, "unterminated record"
    return records


def run_audit(kind, rules=AUDIT_RULES, requests=AUDIT_REQUESTS):
    srv = Apache(snippet=PROLOGUE[kind] + "SecAuditLog @ROOT@/logs/audit.log\n"
                 "Include @ROOT@/rules/rules.conf\n",
                 load_parapet=kind == "parapet", files={"rules/rules.conf": rules},
                 name="ms2audit-" + kind[0])
    srv.start()
    statuses = {}
    try:
        for method, path, headers, body in requests:
            statuses[path + method] = srv.request(method, path, body=body, headers=headers).status
        time.sleep(0.5)
        text = srv.path("logs/audit.log").read_bytes().decode("latin-1")
        root, port = str(srv.root), str(srv.port)
    finally:
        srv.stop()
    text = text.replace(root, "@ROOT@").replace("127.0.0.1:" + port, "127.0.0.1:@PORT@")
    return statuses, text


# Lines of H that only ModSecurity writes (docs/logs.md says why) and response headers whose
# values depend on the server's files.
MS_ONLY_TRAILER = ("Stopwatch2:", "Apache-Error:")
VOLATILE_HEADERS = re.compile(r"^(Last-Modified|ETag): .*$", re.M)


def normalise(letter, content):
    if letter == "A":
        m = re.match(r"^\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{6} [+-]\d{4}\] \S+ "
                     r"(127\.0\.0\.1) \d+ (127\.0\.0\.1) \d+$", content)
        return "A ok" if m else "A malformed: " + content
    if letter == "F":
        return VOLATILE_HEADERS.sub(r"\1: -", content)
    if letter == "K":
        return k_rules(content)
    if letter == "H":
        out = []
        for line in content.split("\n"):
            if line.startswith(MS_ONLY_TRAILER):
                continue
            if line.startswith("Stopwatch: "):
                line = "Stopwatch: ok" if re.match(r"^Stopwatch: \d+ \d+ \(- - -\)$", line) \
                    else line
            elif line.startswith("Producer: ") and line.endswith("."):
                # Parapet names itself; the component signatures that follow must agree.
                items = line[len("Producer: "):-1].split("; ")
                line = "Producer: <name>" + "".join("; " + i for i in items[1:]) + "."
            out.append(line)
        return "\n".join(out)
    return content


def k_rules(content):
    """Part K without the action lists: ModSecurity prints each rule with the SecDefaultAction
    actions merged in, Parapet as written (docs/logs.md); variables, operator and the
    one-rule-per-paragraph layout must agree."""
    out = []
    for line in content.split("\n"):
        m = re.match(r'^(SecRule "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*")', line)
        out.append(m.group(1) if m else line)
    return "\n".join(out)


def keyed(records):
    out = {}
    for rec in records:
        parts = dict(rec)
        line = parts.get("B", "").split("\n", 1)[0]
        out[line] = [(letter, normalise(letter, content)) for letter, content in rec]
    return out


def test_serial_audit_log_matches_modsecurity():
    require_modsecurity()
    ms_status, ms_text = run_audit("modsec")
    pp_status, pp_text = run_audit("parapet")
    ms, pp = keyed(audit_records(ms_text)), keyed(audit_records(pp_text))
    differences = []
    for key in ms_status:
        if ms_status[key] != pp_status[key]:
            differences.append("%s: status %d vs %d" % (key, ms_status[key], pp_status[key]))
    if sorted(ms) != sorted(pp):
        differences.append("audited requests differ:\n    modsecurity %s\n    parapet     %s"
                           % (sorted(ms), sorted(pp)))
    sections = 0
    for line in sorted(set(ms) & set(pp)):
        a, b = ms[line], pp[line]
        if [x for x, _ in a] != [x for x, _ in b]:
            differences.append("%s: parts %s vs %s" % (line, [x for x, _ in a],
                                                       [x for x, _ in b]))
            continue
        for (letter, x), (_, y) in zip(a, b):
            sections += 1
            if x != y:
                differences.append("%s part %s:\n--- modsecurity\n%s\n--- parapet\n%s"
                                   % (line, letter, x, y))
    print("    %d audited requests, %d sections compared, %d differences"
          % (len(ms), sections, len(differences)))
    assert len(ms) >= 5, "the oracle audited too little: %r" % sorted(ms)
    # Serial records end with one empty line after Z, in both.
    assert ms_text.endswith("-Z--\n\n") and pp_text.endswith("-Z--\n\n"), (ms_text[-40:],
                                                                          pp_text[-40:])
    if differences:
        raise AssertionError("\n  ".join(differences))


def json_records(text):
    import json
    out = {}
    for line in text.splitlines():
        if line.strip():
            o = json.loads(line)
            out[o["request"]["request_line"]] = o
    return out


def json_normalise(o):
    """What must agree between the two servers' JSON records (docs/logs.md lists the rest)."""
    t = o["transaction"]
    assert re.match(r"^\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{6} [+-]\d{4}$", t["time"]), t
    assert isinstance(t["remote_port"], int) and isinstance(t["local_port"], int), t
    out = {"transaction": sorted(t), "addresses": (t["remote_address"], t["local_address"]),
           "request": o["request"]}
    if "response" in o:
        r = dict(o["response"])
        r["headers"] = {k: ("-" if k in ("Last-Modified", "ETag") else v)
                        for k, v in r.get("headers", {}).items()}
        r.pop("body", None)  # the error page: ModSecurity keeps it, Parapet only held bodies
        out["response"] = r
    a = dict(o.get("audit_data", {}))
    for k in ("error_messages", "stopwatch", "response_body_dechunked"):
        a.pop(k, None)  # Apache's own entries; per-phase timings (docs/logs.md)
    producer = a.pop("producer", None)
    items = producer if isinstance(producer, list) else [producer]
    a["producer_components"] = items[1:]
    out["audit_data"] = a
    # J: ModSecurity's keys (Parapet adds the field, where it stored the file and its verdict).
    if "uploads" in o:
        out["uploads"] = {"total": o["uploads"]["total"],
                          "info": [{k: f.get(k) for k in ("file_size", "file_name",
                                                          "content_type")}
                                   for f in o["uploads"]["info"]]}
    # Part K without "unparsed" (docs/logs.md: the action lists differ).
    out["matched_rules"] = [dict(c, rules=[{k: v for k, v in rule.items() if k != "unparsed"}
                                           for rule in c["rules"]])
                            for c in o.get("matched_rules", [])]
    return out


def test_json_audit_log_matches_modsecurity():
    require_modsecurity()
    rules = AUDIT_RULES.replace("SecAuditLogType Serial", "SecAuditLogType Serial\n"
                                "SecAuditLogFormat JSON")
    ms_status, ms_text = run_audit("modsec", rules)
    pp_status, pp_text = run_audit("parapet", rules)
    ms, pp = json_records(ms_text), json_records(pp_text)
    differences = []
    if sorted(ms) != sorted(pp):
        differences.append("audited requests differ: %s vs %s" % (sorted(ms), sorted(pp)))
    for line in sorted(set(ms) & set(pp)):
        a, b = json_normalise(ms[line]), json_normalise(pp[line])
        for key in a:
            if a[key] != b.get(key):
                differences.append("%s %s:\n    modsecurity %r\n    parapet     %r"
                                   % (line, key, a[key], b.get(key)))
    print("    %d audited requests, JSON records compared, %d differences"
          % (len(ms), len(differences)))
    assert len(ms) >= 5
    if differences:
        raise AssertionError("\n  ".join(differences))


# ---- The debug log ------------------------------------------------------------------------

DEBUG_EVENT = re.compile(r"^\[[^\]]*\] \[[^\]]*\]\[[^\]]*\]\[[^\]]*\]\[(\d)\] "
                         r"((?:Recipe: Invoking rule|Rule returned|Target value|Audit log: Logging)"
                         r".*)$")


def debug_events(kind):
    rules = AUDIT_RULES + ('SecRule REQUEST_HEADERS:X-C "^a$" "id:20,phase:2,chain,deny,'
                           'status:409,msg:\'ch\'"\nSecRule ARGS:x "^1$"\n')
    srv = Apache(snippet=PROLOGUE[kind] + "SecAuditLog @ROOT@/logs/audit.log\n"
                 "SecDebugLog @ROOT@/logs/debug.log\nSecDebugLogLevel 9\n"
                 "Include @ROOT@/rules/rules.conf\n",
                 load_parapet=kind == "parapet", files={"rules/rules.conf": rules},
                 name="ms2debug-" + kind[0])
    srv.start()
    try:
        for path, headers in (("/index.html?q=an+attack", {}), ("/index.html?x=2", {"X-C": "a"}),
                              ("/index.html?x=1", {"X-C": "a"}), ("/missing?w=warn", {})):
            srv.request("GET", path, headers=headers)
            # The logging phase runs after the answer: let it finish before the next
            # request, so the two servers' lines come in the same order.
            time.sleep(0.3)
        time.sleep(0.3)
        text = srv.path("logs/debug.log").read_text(errors="replace")
        root = str(srv.root)
    finally:
        srv.stop()
    out = []
    for line in text.replace(root, "@ROOT@").splitlines():
        m = DEBUG_EVENT.match(line)
        if m:  # the rule named by a pointer (ModSecurity) or an ordinal (Parapet)
            out.append((m.group(1), re.sub(r"^Recipe: Invoking rule \w+;", "Recipe: Invoking rule;",
                                           m.group(2))))
    return out


def test_debug_log_levels_match_modsecurity():
    """SecDebugLogLevel 9: the rule invocations (level 4, per chain link), their results (4),
    the values tested (9) and the audit decision (4) at ModSecurity's levels, in its order."""
    require_modsecurity()
    ms, pp = debug_events("modsec"), debug_events("parapet")
    print("    %d ModSecurity debug events compared" % len(ms))
    assert len(ms) >= 20, ms
    if ms != pp:
        import difflib
        raise AssertionError("\n".join(difflib.unified_diff(
            ["%s %s" % e for e in ms], ["%s %s" % e for e in pp], "modsecurity", "parapet",
            lineterm="")))
