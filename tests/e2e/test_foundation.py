"""Foundation: what only a real Apache can show about the adapter (src/apache).

Module identity and <IfModule mod_security.c>; the inbound phase at fixups on query strings
and bodies (urlencoded, chunked, PUT, 50 MB streamed) with byte-identical replay to a CGI, also
across an internal redirect; per-directory merging and DynamicOnly; no second inspection of an
ErrorDocument; the outbound phase; SecServerSignature across a graceful restart; the timing
notes; SecChrootDir. Rule semantics belong in tests/eval, not here.
"""
import hashlib
import os
import subprocess
import re
import signal
import time
from pathlib import Path

from harness import DEFAULT_MODULES, Apache, Group, RandomBody, Skip, running_as_root, wait_for

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OCTETS = {"Content-Type": "application/octet-stream"}
DENIED_PAGE = "PARAPET-DENIED-PAGE"
MiB = 1024 * 1024

RULES = Group("rules", snippet="""
<IfModule mod_security.c>
    SecFilterEngine On
    SecFilterScanPOST On
    SecFilterDefaultAction "deny,log,status:403"
    SecUploadDir "@ROOT@/data"
    # The 50 MB streaming tests need more than the default 12.5 MiB.
    SecRequestBodyLimit 1073741824
    SecFilter "<script"
    SecFilterSelective ARGS "union.+select"
</IfModule>
# Only applies when the module is *not* known as mod_security.c.
<IfModule !mod_security.c>
    Redirect 302 /ifmodule-negated http://127.0.0.1/
</IfModule>
<Location /static-off>
    SecFilterEngine Off
</Location>
<Location /extra>
    SecFilter "forbidden-word"
</Location>
ScriptAlias /dyn/cgi/ "@ROOT@/cgi-bin/"
<Location /dyn>
    SecFilterEngine DynamicOnly
</Location>
ErrorDocument 403 /errors/denied.html
<Directory "@ROOT@/htdocs/ht">
    AllowOverride Options
</Directory>
# A rewrite in a directory context ends in an internal redirect after the body was read.
<Directory "@ROOT@/htdocs/rw">
    Options +FollowSymLinks
    RewriteEngine On
    RewriteRule ^go$ /cgi-bin/echo.py [L]
</Directory>
""", modules=DEFAULT_MODULES + ("rewrite",), files={
    "htdocs/rw/index.html": "rewrite dir\n",
    "htdocs/ht/.htaccess": 'SecFilter "htaccess-word"\n',
    "htdocs/ht/index.html": "htaccess rules here\n",
    "htdocs/static-off/index.html": "engine off here\n",
    "htdocs/extra/index.html": "extra rules here\n",
    "htdocs/dyn/index.html": "static under DynamicOnly\n",
    "htdocs/errors/denied.html": "<html><body>%s</body></html>\n" % DENIED_PAGE,
})


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def expect_status(resp, status, what):
    expect(resp.status == status, "%s: expected %d, got %d: %r" % (what, status, resp.status,
                                                                   resp.body[:300]))


# ---- module identity --------------------------------------------------------------------------

def test_module_loads():
    srv = Apache(name="modules")
    try:
        rc, out = srv.apache2("-t", "-D", "DUMP_MODULES")
    finally:
        srv.cleanup_files()
    expect(rc == 0, "apache2 -M failed: %s" % out)
    expect("parapet_module (shared)" in out, "parapet_module not listed:\n%s" % out)


@RULES.test
def test_ifmodule_mod_security_c_is_honoured(srv):
    # The rules above sit inside <IfModule mod_security.c>: they only work if the module's
    # name is mod_security.c. The negated block must be skipped for the same reason.
    expect_status(srv.get("/?q=<script>"), 403, "rule inside <IfModule mod_security.c>")
    expect_status(srv.get("/ifmodule-negated"), 404, "<IfModule !mod_security.c> block")


# ---- inbound phase: query and body ------------------------------------------------------------

@RULES.test
def test_get_attack_denied_benign_passes(srv):
    expect_status(srv.get("/cgi-bin/echo.py?q=<script>alert(1)</script>"), 403, "XSS in query")
    resp = srv.get("/cgi-bin/echo.py?q=hello+world")
    expect_status(resp, 200, "benign query")
    expect(resp.json()["query"] == "q=hello+world", "CGI got %r" % resp.json()["query"])


@RULES.test
def test_trace_is_inspected(srv):
    """The core answers TRACE before fixups; Parapet inspects it at post_read_request."""
    expect_status(srv.request("TRACE", "/cgi-bin/echo.py?q=<script>x</script>"), 403,
                  "XSS in a TRACE request line")
    expect_status(srv.request("TRACE", "/index.html"), 200, "benign TRACE")


@RULES.test
def test_post_attack_denied(srv):
    resp = srv.request("POST", "/cgi-bin/echo.py", body="name=<script>alert(1)</script>",
                       headers=FORM)
    expect_status(resp, 403, "XSS in urlencoded body")
    resp = srv.request("POST", "/cgi-bin/echo.py", body="id=1+union+all+select+password",
                       headers=FORM)
    expect_status(resp, 403, "SQL injection in ARGS from the body")


@RULES.test
def test_post_benign_reaches_cgi_identical(srv):
    body = b"a=1&b=hello+world&c=%41%42&d=" + b"x" * 5000
    resp = srv.request("POST", "/cgi-bin/echo.py", body=body, headers=FORM)
    expect_status(resp, 200, "benign POST")
    got = resp.json()
    expect(got["body"].encode("latin-1") == body, "CGI body differs")
    expect(got["content_length"] == str(len(body)), "CONTENT_LENGTH %r" % got["content_length"])


@RULES.test
def test_chunked_post(srv):
    pieces = [b"a=1&", b"b=" + b"y" * 70000, b"&c=3"]
    body = b"".join(pieces)
    resp = srv.request("POST", "/cgi-bin/echo.py", body=pieces, headers=FORM, chunked=True)
    expect_status(resp, 200, "chunked benign POST")
    got = resp.json()
    expect(got["body_sha256"] == hashlib.sha256(body).hexdigest(), "chunked body differs")
    # The handler sees a body of known length, not chunked framing it cannot use.
    expect(got["content_length"] == str(len(body)), "CONTENT_LENGTH %r" % got["content_length"])
    expect("transfer-encoding" not in got["headers"], "Transfer-Encoding still passed on")
    resp = srv.request("POST", "/cgi-bin/echo.py", body=[b"q=<scr", b"ipt>"], headers=FORM,
                       chunked=True)
    expect_status(resp, 403, "attack split across chunks")


@RULES.test
def test_put_body_replayed(srv):
    body = os.urandom(300 * 1024)  # past the in-memory limit: replayed from the spill file
    resp = srv.request("PUT", "/cgi-bin/echo.py", body=body, headers=OCTETS)
    expect_status(resp, 200, "PUT")
    got = resp.json()
    expect(got["method"] == "PUT", "method %r" % got["method"])
    expect(got["body_sha256"] == hashlib.sha256(body).hexdigest(), "PUT body differs")
    expect(got["body_length"] == len(body), "PUT length %d" % got["body_length"])


@RULES.test
def test_body_replayed_after_internal_redirect(srv):
    body = b"a=1&b=" + b"z" * 100000
    resp = srv.request("POST", "/rw/go", body=body, headers=FORM)
    expect_status(resp, 200, "POST rewritten to the CGI")
    got = resp.json()
    expect(got["body_sha256"] == hashlib.sha256(body).hexdigest(), "body lost in the redirect")
    resp = srv.request("POST", "/rw/go", body="a=<script>", headers=FORM)
    expect_status(resp, 403, "attack through the rewritten URL")


def test_bad_regex_fails_configtest():
    srv = Apache('<IfModule mod_security.c>\nSecFilterEngine On\nSecFilter "(unclosed"\n'
                 '</IfModule>\n', name="badregex")
    try:
        conf = srv.prepare()
        line = 1 + srv.conf.read_text().splitlines().index('SecFilter "(unclosed"')
        rc, out = srv.configtest()
    finally:
        srv.cleanup_files()
    expect(rc != 0, "apache2 -t accepted a bad regex:\n%s" % out)
    expect(str(conf) in out, "output does not name %s:\n%s" % (conf, out))
    expect(re.search(r"\bline %d\b" % line, out), "output does not name line %d:\n%s"
           % (line, out))
    print("    apache2 -t said: %s" % " ".join(out.split())[:240])


# ---- per-directory merging and ErrorDocument ------------------------------------------------

@RULES.test
def test_engine_off_in_location(srv):
    expect_status(srv.get("/static-off/index.html?q=<script>"), 200, "engine Off in <Location>")
    expect_status(srv.get("/index.html?q=<script>"), 403, "server-level rule elsewhere")
    expect_status(srv.get("/extra/index.html?w=forbidden-word"), 403, "rule added in <Location>")
    expect_status(srv.get("/index.html?w=forbidden-word"), 200, "<Location> rule outside it")


@RULES.test
def test_htaccess_rules_merge(srv):
    expect_status(srv.get("/ht/index.html?w=htaccess-word"), 403, ".htaccess rule")
    expect_status(srv.get("/ht/index.html?q=<script>"), 403, "server rule inherited there")
    expect_status(srv.get("/index.html?w=htaccess-word"), 200, ".htaccess rule elsewhere")


@RULES.test
def test_dynamic_only_skips_static_files(srv):
    expect_status(srv.get("/dyn/index.html?q=<script>"), 200, "static file under DynamicOnly")
    expect_status(srv.get("/dyn/cgi/echo.py?q=<script>"), 403, "CGI under DynamicOnly")


def denial_lines(srv):
    return [l for l in srv.error_log().splitlines() if "Access denied" in l and "<script" in l]


@RULES.test
def test_error_document_not_reinspected(srv):
    # The ErrorDocument request carries the original request line, which matches the rule
    # again: inspecting it would turn the custom page into a recursive error.
    before = len(denial_lines(srv))
    resp = srv.get("/index.html?q=<script>")
    expect_status(resp, 403, "denied request with ErrorDocument")
    expect(DENIED_PAGE.encode() in resp.body, "custom error page not served: %r" % resp.body)
    expect(b"Additionally" not in resp.body, "ErrorDocument was denied too")
    expect(len(denial_lines(srv)) - before == 1, "expected exactly one denial logged")


# ---- large bodies stay out of memory -----------------------------------------------------------

@RULES.test
def test_50mb_post_streams_with_bounded_memory(srv):
    warm = srv.request("POST", "/cgi-bin/echo.py", body=os.urandom(MiB), headers=OCTETS)
    expect_status(warm, 200, "warm-up POST")
    before = srv.children_rss_kb()
    hwm_before = srv.children_rss_kb("VmHWM")
    body = RandomBody(50 * MiB)
    hdrs = dict(OCTETS, **{"Content-Length": str(body.total)})
    started = time.time()
    resp = srv.request("POST", "/cgi-bin/echo.py", body=body, headers=hdrs, timeout=300)
    seconds = time.time() - started
    after = srv.children_rss_kb()
    hwm_after = srv.children_rss_kb("VmHWM")
    expect_status(resp, 200, "50 MB POST")
    got = resp.json()
    expect(got["body_length"] == body.total, "CGI got %d bytes" % got["body_length"])
    expect(got["body_sha256"] == body.hexdigest(), "50 MB body differs")
    common = [pid for pid in before if before[pid] and after.get(pid)]
    expect(common, "no Apache child survived the request")
    growth = max(after[pid] - before[pid] for pid in common)
    hwm_growth = max(hwm_after[pid] - hwm_before[pid] for pid in common)
    print("    50 MB POST in %.1fs; children %s; RSS growth max %d KiB, peak (VmHWM) growth "
          "max %d KiB" % (seconds, sorted(common), growth, hwm_growth))
    expect(growth < 5 * 1024, "RSS grew by %d KiB" % growth)
    # The same size with an attack up front: the big body is inspected, not just passed on.
    def attack():
        yield b"<script>"
        yield from RandomBody(50 * MiB - 8)
    resp = srv.request("POST", "/cgi-bin/echo.py", body=attack(), headers=hdrs, timeout=300)
    expect_status(resp, 403, "50 MB body starting with an attack")


# ---- outbound phase --------------------------------------------------------------------------

OUTPUT = Group("output", snippet="""
SecFilterEngine On
SecFilterScanOutput On
SecFilterOutputMimeTypes "application/json text/html"
SecFilterSelective OUTPUT "top-secret" "deny,log,status:403"
""")


@OUTPUT.test
def test_output_scanned_and_denied(srv):
    resp = srv.get("/cgi-bin/echo.py?say=harmless")
    expect_status(resp, 200, "clean scanned response")
    expect(resp.json()["say"] == "harmless", "released body differs")
    resp = srv.get("/cgi-bin/echo.py?say=top-secret")
    expect_status(resp, 403, "response with a forbidden word")
    expect(b"top-secret" not in resp.body, "held body leaked into the denial")
    # A response type outside the MIME list streams untouched.
    resp = srv.get("/cgi-bin/echo.py?say=top-secret&type=text/plain")
    expect_status(resp, 200, "unscanned MIME type")


@OUTPUT.test
def test_output_denial_of_error_page(srv):
    # The held response is itself an error (404); the denial must still win.
    resp = srv.get("/cgi-bin/echo.py?say=top-secret&status=404")
    expect_status(resp, 403, "scanned 404 page with a forbidden word")


# ---- identity ---------------------------------------------------------------------------------

SIGNATURE = "Microsoft-IIS/5.0"
IDENTITY = Group("identity", snippet="""
ServerTokens Full
SecServerSignature "%s"
SecFilterEngine On
SecFilter "<script"
""" % SIGNATURE)


@IDENTITY.test
def test_server_signature(srv):
    for path, status in (("/", 200), ("/no-such-page", 404), ("/cgi-bin/echo.py", 200)):
        resp = srv.get(path)
        expect_status(resp, status, path)
        expect(resp.header("Server") == SIGNATURE, "%s: Server is %r" % (path,
                                                                           resp.header("Server")))
    expect(srv.get("/cgi-bin/echo.py").json()["server_software"] == SIGNATURE,
           "CGI SERVER_SOFTWARE is not the signature")
    log = srv.error_log()
    expect("original server banner: Apache/" in log, "real banner not logged:\n%s" % log)


@IDENTITY.test
def test_graceful_restart_keeps_identity_and_rules(srv):
    # A restart unloads and reloads the module and reads the configuration again.
    def generations():
        return srv.error_log().count("resuming normal operations")
    before = generations()
    os.kill(srv.proc.pid, signal.SIGUSR1)
    # Generous: on a loaded CI machine re-reading the configuration can take a while.
    expect(wait_for(lambda: generations() > before, timeout=60), "no graceful restart seen")
    resp = wait_for(lambda: (lambda r: r if r.status == 200 else None)(srv.get("/")))
    expect(resp is not None, "server did not answer after the restart")
    expect(resp.header("Server") == SIGNATURE, "Server after restart: %r" % resp.header("Server"))
    expect_status(srv.get("/?q=<script>"), 403, "rule after the restart")


# ---- timing notes -----------------------------------------------------------------------------

@RULES.test
def test_timing_notes(srv):
    marker = "t%d" % time.time_ns()
    resp = srv.get("/cgi-bin/echo.py?sleep=0.1&m=" + marker)
    expect_status(resp, 200, "sleeping CGI")

    def logged():
        return [l for l in srv.access_log_lines() if marker in l]
    lines = wait_for(logged)
    expect(lines, "no access log line for the request")
    t1, t2, t3, total = (int(v) for v in lines[0].split()[-4:])
    print("    time1=%d time2=%d time3=%d %%D=%d (CGI slept 100000 us)" % (t1, t2, t3, total))
    expect(t1 <= t2 <= t3 <= total, "notes out of order: %d %d %d %d" % (t1, t2, t3, total))
    expect(t3 - t2 >= 100000, "time3 - time2 = %d us < the CGI's 100 ms" % (t3 - t2))


# ---- chroot -----------------------------------------------------------------------------------

def test_chroot_missing_dir_refuses_start():
    jail = "/nonexistent/parapet-jail-%d" % os.getpid()
    srv = Apache("SecChrootDir %s\n" % jail, name="chroot-bad")
    rc, out = srv.start_expecting_failure()
    expect(rc is not None, "apache2 started with a missing chroot dir")
    expect(rc != 0, "apache2 exited with 0")
    expect("SecChrootDir" in out and jail in out, "no SecChrootDir message:\n%s" % out)
    print("    apache2 said: %s" % " ".join(out.split())[:240])


PEEK_CGI = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* A static CGI: can it open the path in its query string? */
int main(void)
{
    const char *path = getenv("QUERY_STRING");
    int fd = path ? open(path, O_RDONLY) : -1;
    printf("Content-Type: text/plain\r\n\r\n%s\n", fd >= 0 ? "READ" : "DENIED");
    return 0;
}
"""


def test_chroot_jails_children():
    """The seed's layout: the server tree at the same path inside the jail. A file that exists
    only inside is served; one that exists only outside is not; a CGI run from the jail cannot
    read the host's files; every process's root is the jail."""
    if not running_as_root():
        raise Skip("chroot needs root")
    # The jail holds only the site's data: no libraries, no LoadFile for libgcc_s. The module
    # loads what the event MPM's exiting threads need before the chroot (docs/chroot.md).
    # mod_cgi forks per request from the jailed child; mod_cgid's daemon would need more.
    modules = ("mpm_event", "authz_core", "mime", "dir", "unique_id", "alias", "cgi")
    srv = Apache("SecChrootDir @ROOT@/jail\n", modules=modules, name="chroot-ok")
    srv.prepare()
    jail = srv.root / "jail"
    inside = Path(str(jail) + str(srv.root))  # the same absolute paths, inside the jail
    for sub in ("htdocs", "run", "cgi-bin"):
        (inside / sub).mkdir(parents=True)
    (inside / "htdocs" / "index.html").write_text("inside the jail\n")
    (srv.root / "htdocs" / "outside-only.html").write_text("host file\n")
    secret = srv.root / "host-secret.txt"
    secret.write_text("host secret\n")
    os.chmod(secret, 0o644)
    src = srv.root / "peek.c"
    src.write_text(PEEK_CGI)
    cc = subprocess.run(["gcc", "-static", "-O1", "-o", str(inside / "cgi-bin" / "peek"),
                         str(src)], capture_output=True, text=True)
    if cc.returncode != 0:
        raise Skip("no static C toolchain for the jailed CGI: %s" % cc.stderr.strip()[:200])
    for p in [jail] + list(inside.parents) + [inside] + list(inside.rglob("*")):
        if str(p).startswith(str(jail)):
            os.chmod(p, 0o755)
    libs = [str(p) for p in jail.rglob("*.so*")]
    expect(not libs, "the jail holds libraries: %r" % libs)
    with srv:
        resp = srv.get("/")
        expect_status(resp, 200, "static file served from the jail")
        expect(resp.body == b"inside the jail\n", "served %r" % resp.body)
        expect_status(srv.get("/outside-only.html"), 404, "a file that exists only outside")
        resp = srv.get("/cgi-bin/peek?" + str(secret))
        expect_status(resp, 200, "static CGI inside the jail")
        expect(resp.body.strip() == b"DENIED", "the jailed CGI read the host's %s: %r"
               % (secret, resp.body))
        roots = {pid: os.readlink("/proc/%d/root" % pid) for pid in srv.children()}
        roots[srv.proc.pid] = os.readlink("/proc/%d/root" % srv.proc.pid)
        expect(all(r == str(jail) for r in roots.values()), "process roots: %r" % roots)
        # The event MPM's start-up thread exits once the workers run: that first exit is
        # where glibc loads libgcc_s, which a data-only jail does not hold.
        errors = [l for l in srv.error_log().splitlines() if "libgcc_s" in l or "AH00052" in l]
        expect(not errors, "a child aborted in the jail: %r" % errors)


def test_response_token_and_obsolete_chroot_lock():
    """SecServerResponseToken On adds Parapet's product token; SecChrootLock (1.8-era) is
    accepted so old configurations still start."""
    srv = Apache('ServerTokens Full\n<IfModule mod_security.c>\nSecServerResponseToken On\n'
                 'SecChrootLock /var/run/modsec.lock\n</IfModule>\n', name="token")
    with srv:
        server = srv.get("/").header("Server") or ""
    expect("Parapet/" in server, "Server header %r has no Parapet token" % server)


def test_per_request_engine_switch():
    """MODSEC_ENABLE set for a request (SetEnvIf) overrides SecFilterEngine (1.9dev4)."""
    srv = Apache('SetEnvIf X-Trusted-Scanner "^yes$" MODSEC_ENABLE=Off\n'
                 'SetEnvIf X-Force-Waf "^yes$" MODSEC_ENABLE=On\n'
                 '<IfModule mod_security.c>\nSecFilterEngine On\nSecFilter "attack"\n'
                 '<Location /cgi-bin/echo.py>\nSecFilterEngine Off\n</Location>\n'
                 '</IfModule>\n', name="switch")
    with srv:
        expect_status(srv.get("/index.html?q=attack"), 403, "engine On")
        expect_status(srv.get("/index.html?q=attack", headers={"X-Trusted-Scanner": "yes"}),
                      200, "MODSEC_ENABLE=Off")
        expect_status(srv.get("/cgi-bin/echo.py?q=attack"), 200, "engine Off in the Location")
        expect_status(srv.get("/cgi-bin/echo.py?q=attack", headers={"X-Force-Waf": "yes"}),
                      403, "MODSEC_ENABLE=On where the engine is Off")
