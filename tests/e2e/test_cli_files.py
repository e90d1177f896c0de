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


def test_cli_check_loads_the_whole_crs():
    """The Debian CRS 3.3.4 as libapache2-mod-security2 includes it (owasp-crs.load after the
    recommended configuration) passes `parapet check` unchanged. It failed at
    REQUEST-910-IP-REPUTATION.conf:79 ("unknown variable GEO") before GEO was a variable."""
    recommended = Path("/etc/modsecurity/modsecurity.conf-recommended")
    with tempfile.TemporaryDirectory(prefix="parapet-cli-") as d:
        base = Path(d) / "recommended.conf"
        lines = []
        for line in recommended.read_text().splitlines():
            if line.startswith("SecUnicodeMapFile "):
                line = "SecUnicodeMapFile /etc/modsecurity/unicode.mapping 20127"
            lines.append(line)
        base.write_text("\n".join(lines) + "\n")
        conf = Path(d) / "all.conf"
        conf.write_text("Include %s\nInclude /usr/share/modsecurity-crs/owasp-crs.load\n" % base)
        rc, out = run("check", str(conf))
        expect(rc == 0 and "Syntax OK" in out, "check of the whole CRS: rc %d %s" % (rc, out))
