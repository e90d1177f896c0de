"""The ModSecurity 2.x directives that change what is read and inspected, against ModSecurity
2.9.7 itself: the same configuration (server and <Location> levels, so the merge rules are
exercised too) in a real Apache with Debian's mod_security2 and in one with Parapet, the same
requests, and per request the same status, the same rule ids in the error log and, where the
application answers, the same body reaching it (length and SHA-256 from the echo CGI).

Covered: SecWebAppId (WEBAPPID), SecRequestBodyAccess On/Off, SecTmpSaveUploadedFiles (FILES_TMPNAMES), SecRequestBodyLimit with SecRequestBodyLimitAction Reject
and ProcessPartial (memory and spooled bodies, Content-Length and chunked: the application gets
every byte, the rules only the first LIMIT), DetectionOnly forcing ProcessPartial,
SecRequestBodyInMemoryLimit, SecArgumentSeparator (query and body), SecCookiev0Separator,
SecResponseBodyAccess with SecResponseBodyMimeType (added per context) and
SecResponseBodyMimeTypesClear. And the start-up side: Debian's modsecurity.conf-recommended and
CRS's crs-setup.conf pass `apache2 -t` with Parapet unchanged.
"""
import hashlib
import json
import os
import re
import shutil
import time

import harness
from harness import MODSEC_SO, Apache, Skip

RECOMMENDED = "/etc/modsecurity/modsecurity.conf-recommended"
CRS_SETUP = "/etc/modsecurity/crs/crs-setup.conf"
ECHO = "/cgi-bin/echo.py"

RULES = r"""
SecRule ARGS "attack" "id:1,phase:2,deny,status:403,log"
SecRule REQUEST_BODY "attack" "id:2,phase:2,pass,log"
SecRule ARGS:b "^2$" "id:3,phase:2,deny,status:409,log"
SecRule REQUEST_COOKIES:b "^2$" "id:4,phase:1,deny,status:410,log"
SecRule RESPONSE_BODY "secret" "id:5,phase:4,deny,status:403,log"
SecRule FILES_TMPNAMES "@rx ." "id:6,phase:2,deny,status:411,log"
SecRule WEBAPPID "!@streq default" "id:7,phase:1,deny,status:412,log,logdata:'%{MATCHED_VAR}'"
SecRule REQBODY_ERROR "!@eq 0" "id:8,phase:2,deny,status:400,log,logdata:'%{REQBODY_ERROR_MSG}'"
"""

BOUNDARY = "----pp2x"
UPLOAD = {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY}
UPLOAD_BODY = ("--%s\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
               "Content-Type: text/plain\r\n\r\nhello\r\n--%s--\r\n" % (BOUNDARY, BOUNDARY)).encode()
BIG_UPLOAD = ("--%s\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nattack\r\n"
              "--%s\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b.txt\"\r\n"
              "Content-Type: text/plain\r\n\r\n%s\r\n--%s--\r\n"
              % (BOUNDARY, BOUNDARY, "q" * 3000, BOUNDARY)).encode()

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form(size, attack_at):
    """A urlencoded body of exactly size bytes with a=attack at byte offset attack_at (or none)."""
    filler = "b=" + "x" * size
    if attack_at is None:
        return filler[:size].encode()
    head = filler[:attack_at - 1] + "&" if attack_at > 0 else ""
    body = head + "a=attack&c="
    return (body + "y" * max(0, size - len(body))).encode()


# Settings ModSecurity applies before the <Location> merge (the Content-Length check, the query
# string and cookies are read in phase 1, with the server's configuration) are varied at server
# level, one configuration each; the others also per <Location>.
CONFIGS = [
    ("reject", r"""
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1000
SecRequestBodyLimitAction Reject
SecResponseBodyAccess On
SecResponseBodyMimeType text/xml
<Location /cgi-bin/echo.py/off>
    SecRequestBodyAccess Off
</Location>
<Location /cgi-bin/echo.py/partial>
    SecRequestBodyLimitAction ProcessPartial
</Location>
<Location /cgi-bin/echo.py/json>
    SecResponseBodyMimeType application/json
</Location>
<Location /cgi-bin/echo.py/clear>
    SecResponseBodyMimeTypesClear
</Location>
""", [
        ("small attack", "POST", ECHO, form(50, 0), FORM, False),
        ("small clean", "POST", ECHO, form(50, None), FORM, False),
        ("over limit", "POST", ECHO, form(2000, None), FORM, False),
        ("over limit chunked", "POST", ECHO, form(2000, None), FORM, True),
        ("access off attack", "POST", ECHO + "/off", form(50, 0), FORM, False),
        ("access off chunked", "POST", ECHO + "/off", form(5000, 4000), FORM, True),
        ("partial late chunked", "POST", ECHO + "/partial", form(50000, 40000), FORM, True),
        ("partial early chunked", "POST", ECHO + "/partial", form(50000, 500), FORM, True),
        ("no sep query", "GET", ECHO + "?a=1;b=2", None, {}, False),
        ("amp query", "GET", ECHO + "?a=1&b=2", None, {}, False),
        ("cookie semicolon", "GET", ECHO, None, {"Cookie": "a=1; b=2"}, False),
        ("mime html", "GET", ECHO + "?type=text/html&say=secret", None, {}, False),
        ("mime xml", "GET", ECHO + "?type=text/xml&say=secret", None, {}, False),
        ("mime json root", "GET", ECHO + "?say=secret", None, {}, False),
        ("mime json added", "GET", ECHO + "/json?say=secret", None, {}, False),
        ("mime xml kept", "GET", ECHO + "/json?type=text/xml&say=secret", None, {}, False),
        ("mime cleared", "GET", ECHO + "/clear?type=text/xml&say=secret", None, {}, False),
        ("upload not saved", "POST", ECHO, UPLOAD_BODY, UPLOAD, False),
    ]),
    ("webappid", r"""
SecRuleEngine On
SecWebAppId shop
""", [
        ("webappid", "GET", ECHO, None, {}, False),
    ]),
    ("tmpsave", r"""
SecRuleEngine On
SecRequestBodyAccess On
SecTmpSaveUploadedFiles On
""", [
        ("upload saved", "POST", ECHO, UPLOAD_BODY, UPLOAD, False),
    ]),
    ("partial", r"""
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1000
SecRequestBodyLimitAction ProcessPartial
SecArgumentSeparator ;
SecCookiev0Separator ,
<Location /cgi-bin/echo.py/spool>
    SecRequestBodyLimit 200000
    SecRequestBodyInMemoryLimit 1000
</Location>
""", [
        ("partial early", "POST", ECHO, form(2000, 0), FORM, False),
        ("partial late", "POST", ECHO, form(2000, 1500), FORM, False),
        ("partial late chunked", "POST", ECHO, form(50000, 40000), FORM, True),
        ("partial at the limit", "POST", ECHO, form(2000, 990), FORM, False),
        ("spool early", "POST", ECHO + "/spool", form(500000, 150000), FORM, False),
        ("spool late", "POST", ECHO + "/spool", form(500000, 300000), FORM, False),
        ("spool late chunked", "POST", ECHO + "/spool", form(500000, 300000), FORM, True),
        ("sep query", "GET", ECHO + "?a=1;b=2", None, {}, False),
        ("sep query amp", "GET", ECHO + "?a=1&b=2", None, {}, False),
        ("sep body", "POST", ECHO, b"a=1;b=2", FORM, False),
        ("sep body amp", "POST", ECHO, b"a=1&b=2", FORM, False),
        ("csep semicolon", "GET", ECHO, None, {"Cookie": "a=1; b=2"}, False),
        ("csep comma", "GET", ECHO, None, {"Cookie": "a=1,b=2"}, False),
        ("partial multipart", "POST", ECHO, BIG_UPLOAD, UPLOAD, False),
        ("partial multipart clean", "POST", ECHO, BIG_UPLOAD.replace(b"attack", b"benign"), UPLOAD,
         False),
        ("partial raw", "POST", ECHO, b"attack" + b"z" * 1500, {"Content-Type": "text/plain"}, False),
        ("partial raw late", "POST", ECHO, b"z" * 1500 + b"attack", {"Content-Type": "text/plain"}, False),
    ]),
    ("detection", r"""
SecRequestBodyAccess On
SecRequestBodyLimit 1000
SecRuleEngine DetectionOnly
SecRequestBodyLimitAction Reject
""", [
        ("detection only early", "POST", ECHO, form(2000, 0), FORM, False),
        ("detection only late", "POST", ECHO, form(2000, 1500), FORM, False),
    ]),
    ("cookie v1", r"""
SecRuleEngine On
SecCookieFormat 1
""", [
        ("v1 plain", "GET", ECHO, None, {"Cookie": "$Version=1; a=1; b=2"}, False),
        ("v1 quoted", "GET", ECHO, None, {"Cookie": "$Version=1; a=\"x y\"; b=\"2\""}, False),
        ("v1 comma", "GET", ECHO, None, {"Cookie": "$Version=1; a=1, b=2"}, False),
        ("v1 path", "GET", ECHO, None, {"Cookie": "$Version=1; b=2; $Path=/"}, False),
    ]),
    ("partial detection", r"""
SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRequestBodyLimit 1000
""", [
        ("detection multipart", "POST", ECHO, BIG_UPLOAD, UPLOAD, False),
    ]),
    ("access off", r"""
SecRuleEngine On
SecRequestBodyAccess Off
SecRequestBodyLimit 1000
""", [
        ("access off attack", "POST", ECHO, form(50, 0), FORM, False),
        ("access off over limit", "POST", ECHO, form(5000, 4000), FORM, False),
        ("access off query", "GET", ECHO + "?a=attack", None, {}, False),
    ]),
]


def body_seen(resp):
    """(length, sha256) of the body the echo CGI received, or None for a non-CGI answer."""
    try:
        j = json.loads(resp.body)
    except ValueError:
        return None
    return (j.get("body_length"), j.get("body_sha256"))


def run(load_parapet, config, requests):
    snippet = "SecTmpDir @ROOT@/data\n" + config + RULES
    if not load_parapet:
        snippet = ("LoadModule security2_module %s\nSecDataDir @ROOT@/data\n" % MODSEC_SO) + snippet
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2dir-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    out = {}
    try:
        for label, method, path, body, headers, chunked in requests:
            h = dict(headers)
            h["X-Label"] = label
            if chunked:
                chunks = [body[i:i + 7000] for i in range(0, len(body), 7000)]
                resp = srv.request(method, path, body=iter(chunks), headers=h, chunked=True)
            else:
                resp = srv.request(method, path, body=body, headers=h)
            out[label] = [resp.status, body_seen(resp) if resp.status == 200 else None, []]
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    return out, log


def test_directives_match_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    differences, count, logged = [], 0, 0
    for name, config, requests in CONFIGS:
        count += len(requests)
        logged += compare(name, config, requests, differences)
    print("    %d configurations, %d requests, %d logged rule ids, %d differences"
          % (len(CONFIGS), count, logged, len(differences)))
    if differences:
        raise AssertionError("\n  ".join(differences))


def compare(name, config, requests, differences):
    theirs, ms_log = run(False, config, requests)
    ours, pp_log = run(True, config, requests)
    # Rule ids: requests are sent one at a time, so each log lists them in request order.
    for out, log in ((theirs, ms_log), (ours, pp_log)):
        out["__ids"] = [m.group(1) for m in re.finditer(r'\[id "(\d+)"\]', log)]
    for label, method, path, body, _, chunked in requests:
        if theirs[label][:2] != ours[label][:2]:
            differences.append("%s: %s (%s %s%s): modsecurity %r, parapet %r"
                               % (name, label, method, path, " chunked" if chunked else "",
                                  theirs[label][:2], ours[label][:2]))
        if body is not None and ours[label][0] == 200:
            want = (len(body), hashlib.sha256(body).hexdigest())
            if ours[label][1] != want:
                differences.append("%s: the application got %r, the client sent %r"
                                   % (label, ours[label][1], want))
    if theirs["__ids"] != ours["__ids"]:
        differences.append("%s: rule ids in the error logs: modsecurity %r, parapet %r"
                           % (name, theirs["__ids"], ours["__ids"]))
    return len(theirs["__ids"])


def test_recommended_and_crs_setup_load():
    """Debian's recommended configuration and CRS's crs-setup.conf, unchanged, pass
    `apache2 -t` with Parapet, with the CRS rule files after them (unicode.mapping is resolved
    next to the recommended file). Then, with only the log and data paths moved into the test's
    root, the same configuration starts and answers: the embedded store opens in SecDataDir."""
    if not (os.path.exists(RECOMMENDED) and os.path.exists(CRS_SETUP)):
        raise Skip("modsecurity-crs / libapache2-mod-security2 configuration not installed")
    rec = open(RECOMMENDED).read()
    mapping = open("/etc/modsecurity/unicode.mapping").read()
    rules = "/usr/share/modsecurity-crs/rules/*.conf"
    files = {"modsecurity/modsecurity.conf": rec, "modsecurity/unicode.mapping": mapping}
    snippet = "Include @ROOT@/modsecurity/modsecurity.conf\nInclude %s\n" % CRS_SETUP
    srv = Apache(snippet=snippet + "Include %s\n" % rules, files=files, name="ms2rec")
    srv.prepare()
    try:
        rc, out = srv.configtest()
    finally:
        srv.cleanup_files()
    if rc != 0:
        raise AssertionError("apache2 -t failed (%d):\n%s" % (rc, out))

    live = rec.replace("/var/log/apache2/modsec_audit.log", "@ROOT@/logs/modsec_audit.log")
    live = live.replace("SecDataDir /tmp/", "SecDataDir @ROOT@/data").replace(
        "SecTmpDir /tmp/", "SecTmpDir @ROOT@/data")
    assert live.count("@ROOT@") == 3, "the recommended file changed: adapt the test"
    files["modsecurity/modsecurity.conf"] = live
    srv = Apache(snippet=snippet, files=files, name="ms2rec-live")
    srv.prepare()
    conf = srv.path("modsecurity/modsecurity.conf")
    conf.write_text(conf.read_text().replace("@ROOT@", str(srv.root)))
    srv.start()
    try:
        resp = srv.request("POST", ECHO + "?q=%u0041", body=b"a=1&b=2", headers=FORM)
        if resp.status != 200 or body_seen(resp) != (7, hashlib.sha256(b"a=1&b=2").hexdigest()):
            raise AssertionError("recommended configuration: %d %r" % (resp.status, resp.body))
        time.sleep(0.3)
        if not srv.path("data/parapet-collections.lmdb").exists():
            raise AssertionError("no embedded store in SecDataDir:\n" + srv.error_log())
    finally:
        srv.stop()


def audit_run(load_parapet):
    """One audited request with SecAuditLog2, SecComponentSignature and the Concurrent modes;
    returns (index lines, index2 lines, Producer line, entry mode, directory mode)."""
    import pwd
    import stat
    config = r"""
SecRuleEngine On
SecAuditEngine On
SecAuditLogType Concurrent
SecAuditLogStorageDir @ROOT@/data/audit
SecAuditLogParts ABFHZ
SecAuditLog @ROOT@/logs/index
SecAuditLog2 @ROOT@/logs/index2
SecAuditLogDirMode 0700
SecAuditLogFileMode 0600
SecComponentSignature "OWASP_CRS/3.3.4"
SecComponentSignature "site/1.0"
SecWebAppId shop
SecSensorId sensor-7
SecAction "id:9,phase:1,pass,nolog,setsid:abc,setuid:bob"
"""
    if not load_parapet:
        config = ("LoadModule security2_module %s\nSecDataDir @ROOT@/data\n" % MODSEC_SO) + config
    srv = Apache(snippet=config, load_parapet=load_parapet,
                 name="ms2audit-" + ("parapet" if load_parapet else "modsec"))
    srv.prepare()
    audit = srv.path("data/audit")
    audit.mkdir()
    if harness.running_as_root():
        user = pwd.getpwnam(harness.CHILD_USER)
        os.chown(audit, user.pw_uid, user.pw_gid)
    srv.start()
    try:
        if srv.get("/index.html?a=1").status != 200:
            raise AssertionError("the audited request failed")
        time.sleep(0.5)
        index = srv.path("logs/index").read_text().splitlines()
        index2 = srv.path("logs/index2").read_text().splitlines()
        entries = [p for p in audit.rglob("*") if p.is_file()]
        dirs = [p for p in audit.rglob("*") if p.is_dir()]
        if len(entries) != 1 or not dirs:
            raise AssertionError("%d audit entries, %d directories" % (len(entries), len(dirs)))
        producer = [l for l in entries[0].read_text().splitlines()
                    if l.startswith(("Producer:", "WebApp-Info:", "Sensor-Id:"))]
        modes = (stat.S_IMODE(entries[0].stat().st_mode),
                 sorted({stat.S_IMODE(d.stat().st_mode) for d in dirs}))
    finally:
        srv.stop()
    return index, index2, producer, modes


def test_audit_log2_signature_and_modes_match_modsecurity():
    """SecAuditLog2 gets the same index line as SecAuditLog, SecComponentSignature is appended
    to the Producer line as ModSecurity appends it, SecWebAppId and SecSensorId give the same
    WebApp-Info and Sensor-Id lines, and SecAuditLogFileMode / DirMode set the
    modes of what Concurrent logging creates."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    theirs = audit_run(False)
    ours = audit_run(True)
    for name, (index, index2, producer, modes) in (("modsecurity", theirs), ("parapet", ours)):
        if len(index) != 1 or index != index2:
            raise AssertionError("%s: index %r, index2 %r" % (name, index, index2))
        if len(producer) != 3:
            raise AssertionError("%s: Producer, WebApp-Info, Sensor-Id lines %r" % (name, producer))
    # "Producer: ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/); OWASP_CRS/3.3.4;
    # site/1.0." -- the product differs, what follows it must not; WebApp-Info (SecWebAppId)
    # and Sensor-Id (SecSensorId) are equal.
    tail = lambda line: line[line.index(";"):]
    if tail(theirs[2][0]) != tail(ours[2][0]) or theirs[2][1:] != ours[2][1:]:
        raise AssertionError("H lines: modsecurity %r, parapet %r" % (theirs[2], ours[2]))
    if theirs[3] != ours[3] or ours[3] != (0o600, [0o700]):
        raise AssertionError("modes (entry, dirs): modsecurity %r, parapet %r"
                             % (theirs[3], ours[3]))
