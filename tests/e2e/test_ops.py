"""Operating Parapet (issue 18): what an operator sees. A nolog rule's match stays out of the
error log at any LogLevel, while the status, the access log and (when asked) the audit log
still record it; the metrics handler (test_metrics_*) counts across processes and restarts.
"""
import os
import re
import signal
import subprocess
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
