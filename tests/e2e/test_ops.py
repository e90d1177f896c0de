"""Operating Parapet (issue 18): what an operator sees. A nolog rule's match stays out of the
error log at any LogLevel, while the status, the access log and (when asked) the audit log
still record it; the metrics handler (test_metrics_*) counts across processes and restarts.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from harness import Apache, Group, Skip, running_as_root, wait_for


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


# ---- nolog ----------------------------------------------------------------------------------

NOLOG = Group("ops-nolog", log_level="debug", snippet="""
SecFilterEngine On
SecFilterDefaultAction "deny,log,status:403"
SecAuditEngine RelevantOnly
SecAuditLog "@ROOT@/logs/audit.log"
SecFilterSelective ARGS "quietzebra" "deny,nolog,auditlog,status:403,id:quiet-rule-77,msg:'quietmsg-okapi'"
SecFilterSelective ARGS "loudzebra" "deny,log,status:406,id:loud-rule-78,msg:'loudmsg-okapi'"
""")


@NOLOG.test
def test_nolog_match_leaves_error_log_silent(srv):
    """LogLevel debug: a nolog match writes nothing that names it; a log match does (so the
    test would see the line if it were written)."""
    resp = srv.get("/?q=quietzebra-1")
    expect(resp.status == 403, "nolog deny answered %d" % resp.status)
    resp = srv.get("/?q=loudzebra-1")
    expect(resp.status == 406, "log deny answered %d" % resp.status)
    expect(wait_for(lambda: "loudmsg-okapi" in srv.error_log()),
           "the logged match is not in the error log:\n%s" % srv.error_log()[-2000:])
    expect(wait_for(lambda: len([l for l in srv.access_log_lines() if "zebra" in l]) == 2),
           "access log lines: %r" % srv.access_log_lines()[-4:])
    errlog = srv.error_log()
    leaked = [l for l in errlog.splitlines()
              if "quiet" in l or "intercepted with code 403" in l]
    expect(not leaked, "the nolog match reached the error log at LogLevel debug:\n%s"
           % "\n".join(leaked))
    expect("intercepted with code 406" in errlog, "no info line for the logged match")
    access = [l for l in srv.access_log_lines() if "quietzebra" in l]
    expect(access and '" 403 ' in access[0], "access log: %r" % access)
    audit = srv.path("logs/audit.log").read_text(errors="replace")
    expect("quietzebra" in audit, "auditlog asked, but the audit log lacks the request")


# ---- start-up warnings and parapet check ------------------------------------------------------

PARAPET = Path(__file__).resolve().parents[2] / "build" / "parapet"


def conf_line(srv, needle):
    """1-based line of the generated httpd.conf holding needle."""
    for no, line in enumerate(srv.conf.read_text().splitlines(), 1):
        if needle in line:
            return no
    raise AssertionError("%r not in the configuration" % needle)


def test_startup_warnings_restricted_actions_and_missing_exec():
    """SecFilterActionsRestricted names, at start-up, the actions it drops and the rule; an
    exec program that does not exist is a warning (the server starts, the action fails with
    a log line when the rule matches); a missing SecUploadApproveScript still stops start-up."""
    srv = Apache("""
SecFilterEngine On
SecFilterActionsRestricted On
SecFilter "restricted-word" "pass,status:200,id:1501,msg:'imported rule'"
SecFilterActionsRestricted Off
SecFilter "exec-word" "deny,status:403,exec:/nonexistent/parapet-notify"
""", name="ops-warn")
    srv.prepare()
    rc, out = srv.configtest()
    expect(rc == 0, "configtest failed:\n%s" % out)
    restricted = '%s:%d: SecFilter: SecFilterActionsRestricted is On: actions "pass,status:200" ' \
                 'of this rule id 1501 are ignored' % (srv.conf, conf_line(srv, "restricted-word"))
    missing = '%s:%d: SecFilter: exec program "/nonexistent/parapet-notify" is not an executable' \
              % (srv.conf, conf_line(srv, "exec-word"))
    expect(restricted in out, "configtest does not name the ignored actions:\n%s" % out)
    expect(missing in out, "configtest does not warn about the exec program:\n%s" % out)
    with srv:
        # apache2 listens after its first configuration pass; the warning comes with the
        # second (the first is not repeated), so it may not be written yet.
        expect(srv.get("/?q=restricted-word").status == 403, "restricted rule kept its status")
        said = wait_for(lambda: restricted in srv.console() + srv.error_log()
                        and srv.console() + srv.error_log())
        expect(said and said.count(restricted) == 1, "start-up should say it once:\n%s" % said)
        expect(srv.get("/?q=exec-word").status == 403, "exec rule did not deny")
        expect(wait_for(lambda: "exec /nonexistent/parapet-notify failed" in srv.error_log()),
               "no log line for the failed exec:\n%s" % srv.error_log()[-1500:])
    bad = Apache('SecUploadApproveScript /nonexistent/parapet-approve\n', name="ops-approve")
    rc, out = bad.start_expecting_failure()
    expect(rc not in (None, 0), "a missing approval script did not stop start-up")
    expect("/nonexistent/parapet-approve" in out, "no message names the script:\n%s" % out)


def run_check(*args, cwd="/"):
    res = subprocess.run([str(PARAPET), "check"] + list(args), capture_output=True, text=True,
                         cwd=cwd)
    return res.returncode, res.stdout + res.stderr


def tree(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in Path(root).rglob("*"))


def test_check_resolves_against_server_root_and_changes_nothing():
    """The 1.9.5 release's example layout: SecAuditLog logs/audit_log and an Include relative
    to ServerRoot. `parapet check -d ROOT` validates it from any working directory and
    creates no file; without -d ServerRoot is Debian's /etc/apache2."""
    root = Path(tempfile.mkdtemp(prefix="parapet-check-"))
    try:
        (root / "logs").mkdir()
        (root / "conf.d").mkdir()
        (root / "conf.d" / "rules.conf").write_text(
            'SecFilterSelective ARGS "union.+select" "deny,log,status:406,id:7"\n')
        main = root / "modsecurity.conf"
        main.write_text("""<IfModule mod_security.c>
SecFilterEngine On
SecAuditEngine RelevantOnly
SecAuditLog logs/audit_log
SecGuardianLog logs/guardian_log
SecFilterDebugLog logs/modsec_debug_log
SecFilterDebugLevel 1
Include conf.d/*.conf
SecFilter "notify-word" "deny,exec:/nonexistent/notify-admin"
</IfModule>
""")
        before = tree(root)
        rc, out = run_check("-d", str(root), str(main))
        expect(rc == 0, "check with -d failed (%d):\n%s" % (rc, out))
        expect("Syntax OK" in out, out)
        expect("%s:9: warning: SecFilter: exec program" % main in out,
               "no warning for the exec program:\n%s" % out)
        expect(tree(root) == before, "parapet check changed the tree: %r -> %r"
               % (before, tree(root)))
        # A broken included rule is reported at its file and line, found via ServerRoot.
        (root / "conf.d" / "rules.conf").write_text('SecFilterSelective ARGS "(" "deny"\n')
        rc, out = run_check("-d", str(root), str(main))
        expect(rc == 2 and "%s:1:" % (root / "conf.d" / "rules.conf") in out,
               "bad included rule (%d):\n%s" % (rc, out))
        (root / "conf.d" / "rules.conf").write_text("")
        # Debian's ServerRoot by default: logs/ is /etc/apache2/logs there, which Debian lacks.
        rc, out = run_check(str(main))
        if not Path("/etc/apache2/logs").is_dir():
            expect(rc == 2 and "/etc/apache2/logs/audit_log" in out,
                   "default ServerRoot is not /etc/apache2 (%d):\n%s" % (rc, out))
        # The approval script decides security: a missing one stays an error.
        (root / "conf.d" / "rules.conf").write_text(
            "SecUploadApproveScript /nonexistent/approve\n")
        rc, out = run_check("-d", str(root), str(main))
        expect(rc == 2 and "/nonexistent/approve" in out, "approval script (%d):\n%s" % (rc, out))
        rc, out = run_check("-d", str(root / "missing"), str(main))
        expect(rc == 2 and "ServerRoot" in out, "missing ServerRoot (%d):\n%s" % (rc, out))
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---- metrics --------------------------------------------------------------------------------

PROMTOOL = shutil.which("promtool")

METRICS_CONF = """
<IfModule mpm_event_module>
    ServerLimit 2
    StartServers 2
    ThreadsPerChild 16
    MaxRequestWorkers 32
    MinSpareThreads 32
    MaxSpareThreads 64
</IfModule>
CustomLog "@ROOT@/logs/who.log" "%P %>s %r"
SecFilterEngine On
SecFilterScanPOST On
SecFilterDefaultAction "deny,log,status:403"
SecUploadDir "@ROOT@/data"
SecFilterSelective ARGS "attackone" "id:1001"
SecFilterSelective ARGS "attacktwo" "deny,status:406,id:1002"
SecFilterSelective ARGS "watchme" "pass,log,id:1003"
SecFilterSelective ARG_x "^(a+)+$" "id:1004"
SecFilter "noidword"
<Location /approve/>
    SecUploadApproveScript "@ROOT@/bin/approve.sh"
</Location>
<Location /slow/>
    SecUploadApproveScript "@ROOT@/bin/slow.sh"
    SecUploadApproveTimeout 1
</Location>
<Location /scan/>
    SecUploadScanClamd unix:@ROOT@/run/no-clamd-here.sock
</Location>
ScriptAlias /approve/ "@ROOT@/cgi-bin/"
ScriptAlias /scan/ "@ROOT@/cgi-bin/"
ScriptAlias /slow/ "@ROOT@/cgi-bin/"
<Location /parapet-metrics>
    SetHandler parapet-metrics
    SecFilterEngine Off
</Location>
"""

APPROVE_SH = """#!/bin/sh
if grep -q EVIL "$1"; then echo "0 evil content"; else echo "1 fine"; fi
"""

SLOW_SH = """#!/bin/sh
exec sleep 10
"""

BOUNDARY = "metricsboundary42"
MP_TYPE = {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY}


def upload_body(content):
    return ("--%s\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n%s\r\n--%s--\r\n" % (BOUNDARY, content, BOUNDARY)
            ).encode()


# (name, method, path, body, headers, expected status)
TRAFFIC = [
    ("benign", "GET", "/index.html?q=hello", None, None, 200),
    ("attackone", "GET", "/index.html?q=attackone", None, None, 403),
    ("attacktwo", "GET", "/index.html?q=attacktwo", None, None, 406),
    ("watchme", "GET", "/index.html?q=watchme", None, None, 200),
    ("noid", "GET", "/index.html?q=noidword", None, None, 403),
    ("regexlimit", "GET", "/index.html?x=" + "a" * 36 + "b", None, None, 403),
    ("form", "POST", "/cgi-bin/echo.py", b"a=1&b=" + b"z" * 300,
     {"Content-Type": "application/x-www-form-urlencoded"}, 200),
    ("ambiguous", "POST", "/cgi-bin/echo.py",
     b"preamble text\r\n" + upload_body("x"), MP_TYPE, 400),
    ("approved", "POST", "/approve/echo.py", upload_body("good data"), MP_TYPE, 200),
    ("rejected", "POST", "/approve/echo.py", upload_body("EVIL data"), MP_TYPE, 403),
    ("unscanned", "POST", "/scan/echo.py", upload_body("any"), MP_TYPE, 403),
    ("slowapprove", "POST", "/slow/echo.py", upload_body("slow"), MP_TYPE, 403),
]
REPEAT = {"benign": 40, "attackone": 12, "attacktwo": 9, "watchme": 7, "noid": 5,
          "regexlimit": 3, "form": 8, "ambiguous": 6, "approved": 5, "rejected": 4,
          "unscanned": 3, "slowapprove": 1}


def send_traffic(srv, rounds=1):
    """Sends REPEAT[name] x rounds of each kind from 16 threads; checks every status."""
    jobs = [t for t in TRAFFIC for _ in range(REPEAT[t[0]] * rounds)]
    errors, lock = [], threading.Lock()

    def worker(mine):
        for name, method, path, body, headers, want in mine:
            try:
                got = srv.request(method, path, body=body, headers=headers).status
            except Exception as exc:  # noqa: BLE001 - reported below
                got = repr(exc)
            if got != want:
                with lock:
                    errors.append((name, got, want))
    threads = [threading.Thread(target=worker, args=(jobs[i::16],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect(not errors, "unexpected statuses: %r" % errors[:10])


def expected_counts(rounds):
    n = {k: v * rounds for k, v in REPEAT.items()}
    body = lambda name: len(next(t[3] for t in TRAFFIC if t[0] == name))  # noqa: E731
    total = sum(n.values())
    passed = n["benign"] + n["watchme"] + n["form"] + n["approved"]
    return {
        "parapet_requests_inspected_total": total,
        "parapet_requests_passed_total": passed,
        'parapet_requests_intercepted_total{phase="2",status="403"}':
            n["attackone"] + n["noid"] + n["regexlimit"] + n["rejected"] + n["unscanned"]
            + n["slowapprove"],
        'parapet_requests_intercepted_total{phase="2",status="406"}': n["attacktwo"],
        'parapet_requests_intercepted_total{phase="2",status="400"}': n["ambiguous"],
        'parapet_rule_matches_total{rule_id="1001"}': n["attackone"],
        'parapet_rule_matches_total{rule_id="1002"}': n["attacktwo"],
        'parapet_rule_matches_total{rule_id="1003"}': n["watchme"],
        'parapet_rule_matches_total{rule_id="1004"}': n["regexlimit"],
        # rules without an id, the multipart rejection and the upload rejections
        "parapet_matches_without_id_total":
            n["noid"] + n["ambiguous"] + n["rejected"] + n["unscanned"] + n["slowapprove"],
        "parapet_rule_matches_untracked_total": 0,
        'parapet_body_bytes_inspected_total{direction="request"}':
            sum(n[k] * body(k) for k in ("form", "ambiguous", "approved", "rejected",
                                         "unscanned", "slowapprove")),
        'parapet_body_bytes_inspected_total{direction="response"}': 0,
        "parapet_multipart_bodies_rejected_total": n["ambiguous"],
        'parapet_multipart_rejected_flags_total{flag="MULTIPART_DATA_BEFORE"}': n["ambiguous"],
        'parapet_upload_files_total{outcome="stored"}':
            n["approved"] + n["rejected"] + n["unscanned"] + n["slowapprove"],
        'parapet_upload_files_total{outcome="approved"}': n["approved"],
        'parapet_upload_files_total{outcome="rejected"}':
            n["rejected"] + n["unscanned"] + n["slowapprove"],
        "parapet_approval_script_timeouts_total": n["slowapprove"],
        "parapet_approval_script_failures_total": 0,
        "parapet_approval_script_duration_seconds_count":
            n["approved"] + n["rejected"] + n["slowapprove"],
        'parapet_approval_script_duration_seconds_bucket{le="+Inf"}':
            n["approved"] + n["rejected"] + n["slowapprove"],
        # only the timed-out runs took more than a second
        'parapet_approval_script_duration_seconds_bucket{le="1"}':
            n["approved"] + n["rejected"],
        "parapet_clamd_timeouts_total": 0,
        "parapet_clamd_failures_total": n["unscanned"],
        "parapet_clamd_scan_duration_seconds_count": n["unscanned"],
        "parapet_regex_limit_hits_total": n["regexlimit"],
    }


def scrape(srv):
    resp = srv.get("/parapet-metrics")
    expect(resp.status == 200, "metrics answered %d" % resp.status)
    ctype = resp.header("Content-Type") or ""
    expect(ctype.startswith("text/plain; version=0.0.4"), "Content-Type %r" % ctype)
    text = resp.body.decode()
    if PROMTOOL:
        res = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                             text=True)
        expect(res.returncode == 0 and not (res.stdout + res.stderr).strip(),
               "promtool check metrics (%d): %s\n%s" % (res.returncode, res.stdout + res.stderr,
                                                       text))
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return values, text


def differences(values, want):
    return {k: (values.get(k), v) for k, v in want.items() if values.get(k, 0) != v}


def compare(values, want, when):
    wrong = differences(values, want)
    expect(not wrong, "%s: (scraped, expected) %r" % (when, wrong))


def scrape_settled(srv, want, when):
    """Apache counts a request in its logging phase, after the client has the response: a
    scrape right after the last answer may come before the last counts. Scrapes until the
    counts are what they must be (a few seconds at most), then checks them."""
    got = {}

    def settled():
        got["values"], got["text"] = scrape(srv)
        return not differences(got["values"], want)
    wait_for(settled, timeout=10, interval=0.1)
    compare(got["values"], want, when)
    return got["values"], got["text"]


def wait_new_generation(srv, old_children):
    """After a restart signal: new children serve (none of the old PIDs is left)."""
    def ready():
        kids = set(srv.children())
        if not kids or kids & old_children:
            return False
        try:
            return srv.get("/parapet-metrics").status == 200
        except OSError:
            return False
    expect(wait_for(ready, timeout=20), "no new generation of children after the restart")


def test_metrics_exact_across_processes_and_restarts():
    """Traffic of every kind from 16 client threads to two children of 16 threads each; the
    scrape (validated by promtool) counts every request, match, body byte, upload and latency
    exactly. A graceful restart (SIGUSR1) keeps the counts and adds to them; a full restart
    (SIGHUP) starts again from zero."""
    if PROMTOOL is None:
        raise Skip("promtool not installed (Debian package prometheus, tools/deps.sh)")
    srv = Apache(METRICS_CONF, files={"bin/approve.sh": APPROVE_SH, "bin/slow.sh": SLOW_SH}, name="ops-metrics")
    srv.prepare()
    os.chmod(srv.path("bin"), 0o755)
    os.chmod(srv.path("bin/approve.sh"), 0o755)
    os.chmod(srv.path("bin/slow.sh"), 0o755)
    with srv:
        values, text = scrape(srv)
        compare(values, {k: 0 for k in expected_counts(1)}, "before any traffic")
        resp = srv.request("POST", "/parapet-metrics", body=b"x")
        expect(resp.status == 405, "POST to the metrics answered %d" % resp.status)
        send_traffic(srv)
        pids = {l.split()[0] for l in srv.path("logs/who.log").read_text().splitlines()}
        expect(len(pids) >= 2, "all traffic went to one process %r; the test needs two" % pids)
        values, text = scrape_settled(srv, expected_counts(1), "after one round")
        reset_time = values["parapet_metrics_reset_time_seconds"]
        # The approval script's latency: every run in some bucket, the sum plausible.
        approve_sum = values["parapet_approval_script_duration_seconds_sum"]
        expect(1.0 <= approve_sum < 30.0,
               "approval script time sum %r (one run timed out after 1 s)" % approve_sum)
        print("    %d requests from %d processes counted exactly; approval script %.1f ms avg"
              % (values["parapet_requests_inspected_total"], len(pids),
                 1000 * approve_sum / values["parapet_approval_script_duration_seconds_count"]))

        old = set(srv.children())
        os.kill(srv.proc.pid, signal.SIGUSR1)
        wait_new_generation(srv, old)
        values, _ = scrape(srv)
        compare(values, expected_counts(1), "after a graceful restart")
        expect(values["parapet_metrics_reset_time_seconds"] == reset_time, "reset time moved")
        send_traffic(srv)
        values, _ = scrape_settled(srv, expected_counts(2),
                                   "after a graceful restart and a second round")

        old = set(srv.children())
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait_new_generation(srv, old)
        values, text = scrape(srv)
        compare(values, {k: 0 for k in expected_counts(1)}, "after a full restart")
        expect(values["parapet_metrics_reset_time_seconds"] > reset_time,
               "reset time did not move on the full restart")
        expect('parapet_rule_matches_total{rule_id="1001"} 0' in text,
               "the rule table lost its ids:\n%s" % text)
