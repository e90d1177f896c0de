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
        said = srv.console() + srv.error_log()
        expect(said.count(restricted) == 1, "start-up should say it once:\n%s" % said)
        expect(srv.get("/?q=restricted-word").status == 403, "restricted rule kept its status")
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
