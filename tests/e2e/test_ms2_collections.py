"""Persistent collections against ModSecurity 2.9.7 itself: the same rules (initcol, setsid,
setvar =+ / = / !, expirevar, deprecatevar, IP/GLOBAL/SESSION variables and %{ip.x} macros)
in a real Apache with Debian's mod_security2 (SecDataDir in the test's directory) and in one with
Parapet (its embedded store in SecDataDir), the same timed sequence of requests, and per request
the same status and the same logged fields in the same order: every field of IP, GLOBAL and
SESSION as the rules see it (KEY, TIMEOUT, __key, __name, IS_NEW, UPDATE_COUNTER, UPDATE_RATE and
the rules' own), with the times (CREATE_TIME, LAST_UPDATE_TIME, __expire_*) logged relative to the
request's TIME_EPOCH.

The sequence is aligned to the start of a second and spaced so that both servers see the same
whole seconds: expirevar after 2 s, deprecatevar 10/1 after 3 s, a record whose TIMEOUT a rule set
to 1 s expiring, UPDATE_RATE at 0, 1 and 3 seconds. Requests are 0.3 s apart because both write
the collections back after the response (logging phase).
"""
import os
import re
import time

from harness import MODSEC_SO, Apache, Skip


RULES = r"""
SecRuleEngine On
SecCollectionTimeout 600
SecWebAppId shop
SecAction "id:1,phase:1,pass,log,msg:'ts=%{TIME_EPOCH}'"
SecAction "id:2,phase:1,pass,nolog,initcol:ip=%{remote_addr}_%{REQUEST_HEADERS.X-Ua},initcol:global=global,setvar:global.hits=+1"
SecRule REQUEST_HEADERS:X-Sid "." "id:3,phase:1,pass,nolog,setsid:%{MATCHED_VAR},setvar:session.n=+1"
SecRule ARGS:inc "." "id:10,phase:1,pass,nolog,setvar:ip.counter=+1"
SecRule ARGS:exp "." "id:11,phase:1,pass,nolog,setvar:ip.temp=7,expirevar:ip.temp=2"
SecRule ARGS:dep "." "id:12,phase:1,pass,nolog,setvar:ip.dep=100"
SecRule ARGS:dp "." "id:13,phase:1,pass,nolog,deprecatevar:ip.dep=10/1"
SecRule ARGS:sa "." "id:14,phase:1,pass,nolog,setvar:ip.counter=50,setvar:ip.counter=+1"
SecRule ARGS:blk "." "id:15,phase:1,pass,nolog,setvar:ip.blk=+1,setvar:ip.Flag=1,setvar:tx.seen=%{ip.blk},setvar:ip.blk=0,expirevar:ip.flag=60"
SecRule ARGS:un "." "id:16,phase:1,pass,nolog,setvar:!ip.dep,setvar:user.x=1,expirevar:tx.y=5"
SecRule ARGS:k "." "id:17,phase:1,pass,nolog,setvar:ip.TIMEOUT=1"
SecRule ARGS:neg "." "id:18,phase:1,pass,nolog,setvar:ip.low=-5,setvar:ip.low=+2"
SecRule IP:/^/|GLOBAL:/^/|SESSION:/^/ "@rx ^" "id:20,phase:2,pass,log,msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule &IP:counter "@eq 1" "id:21,phase:2,pass,log,msg:'has counter, is_new=[%{ip.is_new}] rate=[%{IP.UPDATE_RATE}] whole=[%{ip}] tx=[%{tx.seen}]'"
SecRule SESSIONID|USERID|WEBAPPID "@rx ^" "id:22,phase:2,pass,log,msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule IP:counter "@ge 3" "id:23,phase:2,deny,status:429,msg:'limit %{ip.counter}'"
"""

# (path, headers, seconds after the sequence start at which it is sent)
SEQUENCE = [
    ("/a?inc=1", {"X-Ua": "u1", "X-Sid": "s1"}, 0.1),
    ("/b?inc=1&exp=1&dep=1", {"X-Ua": "u1", "X-Sid": "s1"}, 0.4),
    ("/c", {"X-Ua": "u1"}, 0.7),
    ("/d?dp=1&neg=1", {"X-Ua": "u1", "X-Sid": "s1"}, 3.1),
    ("/e?sa=1", {"X-Ua": "u1"}, 3.4),
    ("/f?blk=1", {"X-Ua": "u1"}, 3.7),
    ("/g?un=1&k=1", {"X-Ua": "u1"}, 4.1),
    ("/h", {"X-Ua": "u1"}, 4.4),
    ("/i?inc=1", {"X-Ua": "u1"}, 6.1),
    ("/j", {"X-Ua": "u2"}, 6.4),
]

TIMES = re.compile(r"^((?:IP|GLOBAL|SESSION):(?:CREATE_TIME|LAST_UPDATE_TIME|__expire_\w+))=(\d+)$")


def run(load_parapet):
    base = "SecDataDir @ROOT@/data\n"
    if not load_parapet:
        base = "LoadModule security2_module %s\nSecTmpDir @ROOT@/data\n" % MODSEC_SO + base
    srv = Apache(snippet=base + RULES, load_parapet=load_parapet,
                 name="ms2coll-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    statuses = []
    try:
        # Start just after a second begins, so both servers' requests fall in the same seconds.
        time.sleep(1.0 - time.time() % 1.0)
        t0 = time.time()
        for path, headers, at in SEQUENCE:
            delay = t0 + at - time.time()
            if delay > 0:
                time.sleep(delay)
            statuses.append(srv.request("GET", path, headers=headers).status)
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    per_uri = {}
    for line in log.splitlines():
        m = re.search(r'\[id "(\d+)"\].*?\[msg "([^"]*)"\].*?\[uri "([^"]*)"\]', line)
        if not m:
            continue
        per_uri.setdefault(m.group(3), []).append((m.group(1), m.group(2)))
    seen = []
    for path, _, _ in SEQUENCE:
        uri = path.split("?")[0]
        entries = per_uri.get(uri, [])
        ts = next((int(msg[3:]) for rid, msg in entries if rid == "1"), None)
        out = []
        for rid, msg in entries:
            if rid == "1":
                continue
            t = TIMES.match(msg)
            if t and ts is not None:
                msg = "%s=now%+d" % (t.group(1), int(t.group(2)) - ts)
            out.append((rid, msg))
        seen.append(out)
    return statuses, seen


def test_collections_match_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    ms_status, ms_seen = run(False)
    pp_status, pp_seen = run(True)
    differences = []
    for i, (path, _, _) in enumerate(SEQUENCE):
        if ms_status[i] != pp_status[i]:
            differences.append("%s: status modsecurity %d, parapet %d"
                               % (path, ms_status[i], pp_status[i]))
        if ms_seen[i] != pp_seen[i]:
            differences.append("%s:\n    modsecurity %r\n    parapet     %r"
                               % (path, ms_seen[i], pp_seen[i]))
    compared = sum(len(s) for s in ms_seen)
    print("    %d requests over 6.5 s, %d ModSecurity log lines compared, %d differences"
          % (len(SEQUENCE), compared, len(differences)))
    assert compared > 100, "ModSecurity logged too little: %r" % ms_seen
    if differences:
        raise AssertionError("\n  ".join(differences))


ZERO = r"""
SecRuleEngine On
SecCollectionTimeout 0
SecAction "id:1,phase:1,pass,nolog,initcol:ip=k,setvar:ip.n=+1"
SecRule IP:n|IP:TIMEOUT|IP:UPDATE_COUNTER|IP:IS_NEW "@rx ^" "id:6,phase:2,pass,log,msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
"""


def test_collection_timeout_zero_matches_modsecurity():
    """SecCollectionTimeout 0: every record has expired by the next request (ModSecurity keeps
    TIMEOUT 0; Parapet took 0 for 'default' before and counted on)."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    seen = {}
    for pp in (False, True):
        base = "SecDataDir @ROOT@/data\n"
        if not pp:
            base = "LoadModule security2_module %s\n" % MODSEC_SO + base
        srv = Apache(snippet=base + ZERO, load_parapet=pp, name="ms2coll0")
        srv.start()
        try:
            for path in ("/a", "/b", "/c"):
                srv.get(path)
                time.sleep(0.3)
            log = srv.error_log()
        finally:
            srv.stop()
        seen[pp] = [m.group(2) + " " + m.group(1) for m in
                    (re.search(r'\[msg "([^"]*)"\].*?\[uri "([^"]*)"\]', l)
                     for l in log.splitlines()) if m]
    assert len(seen[False]) == 12, seen[False]
    assert seen[True] == seen[False], "modsecurity %r\nparapet %r" % (seen[False], seen[True])
