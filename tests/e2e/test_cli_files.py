"""parapet check / eval read their files fully or fail with a clear message (review 2.C: the
return of apr_file_read_full was unchecked, so a directory named as the configuration or the
request file read as empty: "Syntax OK" with no rules, or "no start line")."""
import subprocess
import tempfile
from pathlib import Path

PARAPET = Path(__file__).resolve().parents[2] / "build" / "parapet"


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def run(*args):
    p = subprocess.run([str(PARAPET), *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def test_cli_unreadable_files_are_errors():
    with tempfile.TemporaryDirectory(prefix="parapet-cli-") as d:
        conf = Path(d) / "p.conf"
        conf.write_text("SecFilterEngine On\nSecFilter attack\n")
        req = Path(d) / "r.http"
        req.write_text("GET /?q=attack HTTP/1.1\r\nHost: x\r\n\r\n")
        rc, out = run("eval", "-c", str(conf), str(req))
        expect(rc == 1 and '"intercepted":true' in out, "baseline eval: rc %d %s" % (rc, out))
        rc, out = run("check", d)
        expect(rc != 0 and "%s: cannot read: Is a directory" % d in out,
               "check of a directory: rc %d %s" % (rc, out))
        rc, out = run("eval", "-c", d, str(req))
        expect(rc == 2 and "cannot read: Is a directory" in out,
               "eval with a directory as configuration: rc %d %s" % (rc, out))
        rc, out = run("eval", "-c", str(conf), d)
        expect(rc == 2 and "%s: cannot read: Is a directory" % d in out,
               "eval with a directory as request: rc %d %s" % (rc, out))
