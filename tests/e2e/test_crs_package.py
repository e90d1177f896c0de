"""CRS as Debian users deploy it: `make install` into a throw-away root, then Apache loads the
installed parapet.load and parapet.conf (as `a2enmod parapet` links them) with Debian's
modsecurity-crs.

- Without a ModSecurity configuration (MODSEC_ETC holds no modsecurity.conf), parapet.conf's
  own copy of the recommended base configuration with SecRuleEngine On and CRS from
  /usr/share/modsecurity-crs: `apache2 -t` says Syntax OK, an XSS request is answered 403 with
  CRS's 941100 and 949110 in the error log, an ordinary page 200.
- With MODSEC_ETC/modsecurity.conf (the recommended file copied there, DetectionOnly as
  shipped), that file is the base configuration: the same XSS request is answered 200 and
  logged, and Parapet's copy is not loaded (its rule ids would collide at start-up).
- Without CRS (CRS_DIR empty) the installed configuration changes nothing: 200, no rule.
- mod_security2 and Parapet loaded together: start-up stops, naming both.
"""
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import harness
from harness import MODSEC_SO, REPO, Apache, Skip

CRS_DIR = "/usr/share/modsecurity-crs"
RECOMMENDED = "/etc/modsecurity/modsecurity.conf-recommended"
XSS = "/?q=%3Cscript%3Ealert(1)%3C/script%3E"


def need_crs():
    if not os.path.exists(CRS_DIR + "/owasp-crs.load"):
        raise Skip("modsecurity-crs is not installed")


def install(crs_dir=CRS_DIR):
    """make install into a temporary DESTDIR; returns (tmp, snippet loading what it installed)."""
    tmp = Path(tempfile.mkdtemp(prefix="parapet-crspkg-"))
    os.chmod(tmp, 0o755)
    (tmp / "modsecurity").mkdir()
    (tmp / "cache").mkdir(mode=0o750)
    if harness.running_as_root():
        user = pwd.getpwnam(harness.CHILD_USER)
        os.chown(tmp / "cache", user.pw_uid, user.pw_gid)
    res = subprocess.run(["make", "-s", "install", "DESTDIR=%s/dest" % tmp,
                          "MODSEC_ETC=%s/modsecurity" % tmp, "CRS_DIR=%s" % crs_dir,
                          "CACHE_DIR=%s/cache" % tmp],
                         cwd=str(REPO), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    avail = next((tmp / "dest").glob("**/mods-available"))
    load = (avail / "parapet.load").read_text()
    # The module from the throw-away root, not the system's.
    load = re.sub(r"(?m)^LoadModule parapet_module \S+",
                  "LoadModule parapet_module %s" % next((tmp / "dest").glob("**/mod_parapet.so")), load)
    (avail / "parapet.load").write_text(load)
    snippet = "Define APACHE_LOG_DIR @ROOT@/logs\nInclude %s/parapet.load\nInclude %s/parapet.conf\n" % (avail, avail)
    return tmp, snippet


def rule_ids(log):
    return set(re.findall(r'\[id "(\d+)"\]', log))


def settle(srv, want):
    deadline = time.time() + 5
    while time.time() < deadline and not want(srv.error_log()):
        time.sleep(0.05)
    return srv.error_log()


def test_installed_conf_loads_crs_blocking():
    need_crs()
    tmp, snippet = install()
    try:
        srv = Apache(snippet=snippet, load_parapet=False, name="crspkg")
        rc, out = srv.configtest()
        print("    apache2 -t: %s" % out.strip().splitlines()[-1])
        assert rc == 0 and "Syntax OK" in out, out
        with srv:
            ok = srv.get("/")
            bad = srv.get(XSS)
            log = settle(srv, lambda t: "949110" in t)
        assert ok.status == 200, ok
        assert bad.status == 403, bad
        ids = rule_ids(log)
        assert {"941100", "949110"} <= ids, log[-3000:]
        print("    GET / 200; XSS 403, rules %s" % " ".join(sorted(ids)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_modsecurity_conf_is_the_base_when_present():
    need_crs()
    if not os.path.exists(RECOMMENDED):
        raise Skip("libapache2-mod-security2 (modsecurity.conf-recommended) is not installed")
    tmp, snippet = install()
    try:
        text = Path(RECOMMENDED).read_text()
        text = re.sub(r"(?m)^SecAuditLog .*$", "SecAuditLog %s/cache/audit.log" % tmp, text)
        text = re.sub(r"(?m)^Sec(Tmp|Data)Dir .*$", r"Sec\1Dir %s/cache" % tmp, text)
        # Copied as a user copies it: unicode.mapping beside it, named relatively (ModSecurity
        # resolves it against the directory of the file that names it).
        shutil.copy("/etc/modsecurity/unicode.mapping", tmp / "modsecurity" / "unicode.mapping")
        assert re.search(r"(?m)^SecUnicodeMapFile unicode.mapping", text)
        assert "SecRuleEngine DetectionOnly" in text
        (tmp / "modsecurity" / "modsecurity.conf").write_text(text)
        srv = Apache(snippet=snippet, load_parapet=False, name="crspkg-msconf")
        with srv:
            resp = srv.get(XSS)
            log = settle(srv, lambda t: "949110" in t)
        assert resp.status == 200, resp
        assert {"941100", "949110"} <= rule_ids(log), log[-3000:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_without_crs_nothing_changes():
    tmp, snippet = install(crs_dir="/nonexistent/modsecurity-crs")
    try:
        srv = Apache(snippet=snippet, load_parapet=False, name="crspkg-nocrs")
        with srv:
            resp = srv.get(XSS)
            time.sleep(0.3)
            log = srv.error_log()
        assert resp.status == 200, resp
        assert not rule_ids(log), log[-3000:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_parapet_and_modsecurity2_refused_together():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    tmp, snippet = install()
    srv = None
    try:
        srv = Apache(snippet="LoadModule security2_module %s\n%s" % (MODSEC_SO, snippet),
                     load_parapet=False, name="crspkg-both")
        rc, out = srv.configtest()
        assert rc != 0, out
        assert "mod_parapet and mod_security2 (ModSecurity 2) are both loaded" in out, out
        print("    apache2 -t: %s" % [l for l in out.splitlines() if "both loaded" in l][0].strip())
    finally:
        if srv is not None:
            srv.cleanup_files()  # never started, so nothing else removes its server root
        shutil.rmtree(tmp, ignore_errors=True)
