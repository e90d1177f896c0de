"""Apache + ModSecurity 2.9.7 + CRS, or Apache + Parapet + CRS, from one configuration text.

Both servers get the same thing: ModSecurity's recommended base configuration (Debian's
/etc/modsecurity/modsecurity.conf-recommended, with the engine mode set, the audit log off and
temporary and data directories inside the test root), a paranoia-level SecAction, Debian's
crs-setup.conf and CRS's rule files, and one phase-5 rule of ours (id 9999001) that logs the
anomaly scores of every request. Only the LoadModule line differs. Responses carry the request's
UNIQUE_ID in X-Unique-Id, so each error-log line is tied to the request that caused it.
"""
import os
import re
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
import harness  # noqa: E402
import payloads  # noqa: E402

MODSEC_SO = "/usr/lib/apache2/modules/mod_security2.so"
RECOMMENDED = Path("/etc/modsecurity/modsecurity.conf-recommended")
# PARAPET_CRS_SETUP / PARAPET_CRS_RULES point both servers at another copy of CRS (a trimmed
# or patched one while investigating a difference); Debian's package by default.
CRS_SETUP = Path(os.environ.get("PARAPET_CRS_SETUP", "/etc/modsecurity/crs/crs-setup.conf"))
CRS_RULES = Path(os.environ.get("PARAPET_CRS_RULES", "/usr/share/modsecurity-crs/rules"))
SCORE_RULE_ID = "9999001"


def base_config(mode):
    text = RECOMMENDED.read_text()
    text = re.sub(r"(?m)^SecRuleEngine .*$", "SecRuleEngine " + mode, text)
    text = re.sub(r"(?m)^SecAuditEngine .*$", "SecAuditEngine Off", text)
    text = re.sub(r"(?m)^SecAuditLog .*$", "SecAuditLog @ROOT@/logs/audit.log", text)
    text = re.sub(r"(?m)^SecTmpDir .*$", "SecTmpDir @ROOT@/data", text)
    text = re.sub(r"(?m)^SecDataDir .*$", "SecDataDir @ROOT@/data", text)
    text = re.sub(r"(?m)^SecUnicodeMapFile unicode.mapping", "SecUnicodeMapFile /etc/modsecurity/unicode.mapping", text)
    return text


def snippet(waf, pl=1, mode="On"):
    load = ("LoadModule security2_module %s" % MODSEC_SO if waf == "modsecurity"
            else "LoadModule parapet_module %s" % harness.MODULE_SO)
    return """
%s
Header always set X-Unique-Id "%%{UNIQUE_ID}e"
%s
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=%d"
Include %s
Include %s/*.conf
SecAction "id:%s,phase:5,pass,log,t:none,msg:'scores in=%%{tx.anomaly_score} out=%%{tx.outbound_anomaly_score}'"
""" % (load, base_config(mode), pl, CRS_SETUP, CRS_RULES, SCORE_RULE_ID)


def start(waf, pl=1, mode="On"):
    """A running harness.Apache; the caller stops it. Raises harness.StartError."""
    files = {"htdocs/leak/" + name: body for name, body in payloads.LEAKS.items()}
    srv = harness.Apache(snippet=snippet(waf, pl, mode), load_parapet=False, files=files,
                         name="crs-%s-pl%d" % (waf, pl))
    srv.start()
    return srv


def send_raw(port, raw, timeout=20):
    """Sends raw request bytes, reads the answer until the server closes. (status, unique id)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head)
    uid = re.search(r"(?im)^X-Unique-Id: (\S+)", head)
    return (int(m.group(1)) if m else 0), (uid.group(1) if uid else None)


LINE_UID = re.compile(r'\[unique_id "([^"]+)"\]')
LINE_ID = re.compile(r'\[id "(\d+)"\]')
LINE_SCORES = re.compile(r"scores in=(\d*) out=(\d*)")


def log_by_request(error_log):
    """{unique id: {"ids": set of rule ids, "in": score, "out": score}} from an error log."""
    found = {}
    for line in error_log.splitlines():
        uid = LINE_UID.search(line)
        rid = LINE_ID.search(line)
        if not uid or not rid:
            continue
        entry = found.setdefault(uid.group(1), {"ids": set(), "in": 0, "out": 0})
        if rid.group(1) == SCORE_RULE_ID:
            sc = LINE_SCORES.search(line)
            if sc:
                entry["in"] = int(sc.group(1) or 0)
                entry["out"] = int(sc.group(2) or 0)
        else:
            entry["ids"].add(rid.group(1))
    return found
