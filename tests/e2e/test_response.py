"""Response path through real Apache (src/apache/output.c, src/engine/body/response.c).

A held response whose spill to disk fails is answered with 500 and a log line, never replayed
short or with later chunks behind a lost one (review H3). SecResponseBodyLimit with
SecResponseBodyLimitAction Reject (500) and ProcessPartial (the first LIMIT bytes inspected, the
rest streamed unheld, nothing past the limit on disk) on large text/html pages (review H4).
OUTPUT rules see the page before mod_deflate compresses it, and a page that is already gzip
from its source is inspected as the bytes it is (review M3).
"""
import gzip
import hashlib
import http.client
import importlib.util
import os
import time
from pathlib import Path

from harness import DEFAULT_MODULES, Group, wait_for

_spec = importlib.util.spec_from_file_location("page", Path(__file__).parent / "cgi" / "page.py")
page = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(page)

KiB = 1024
MiB = 1024 * KiB


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect_status(resp, status, what):
    expect(resp.status == status, "%s: status %d, expected %d; body %r"
           % (what, resp.status, status, resp.body[:300]))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def log_since(srv, mark, needle, timeout=5.0):
    """Waits for needle in the error log after byte offset mark; returns the new text."""
    def found():
        text = srv.error_log()[mark:]
        return text if needle in text else None
    return wait_for(found, timeout) or srv.error_log()[mark:]


# ---- a spill that fails (review H3) ------------------------------------------------------------

SPILL = Group("response-spill", snippet="""
SecFilterEngine On
SecFilterScanOutput On
SecOutputInMemoryLimit 65536
SecUploadDir "@ROOT@/data"
SecFilterSelective OUTPUT "top-secret" "deny,log,status:403"
# The default limits: SecResponseBodyLimit (512 KiB) below SecOutputInMemoryLimit (1 MiB).
ScriptAlias /defaults/ "@ROOT@/cgi-bin/"
<Location /defaults/>
    SecOutputInMemoryLimit 1048576
</Location>
""")


@SPILL.test
def test_failed_spill_answers_500(srv):
    # 1 MiB in 8 KiB writes: the first 64 KiB stay in memory, then the spill to SecUploadDir
    # must happen. With the directory gone, creating the file fails.
    url = "/cgi-bin/page.py?size=%d&chunk=8000" % (MiB + 1000)
    data, away = srv.path("data"), srv.path("data.away")
    mark = len(srv.error_log())
    os.rename(data, away)
    try:
        resp = srv.get(url)
    finally:
        os.rename(away, data)
    expect_status(resp, 500, "held response whose spill failed")
    expect(b"parapet filler" not in resp.body, "part of the held page leaked into the 500")
    text = log_since(srv, mark, "Failed to hold the response body")
    expect("Failed to hold the response body" in text and "code 500" in text,
           "no log line for the failed spill:\n%s" % text)
    # The directory is back: the same page is held, spilled and replayed whole.
    resp = srv.get(url)
    expect_status(resp, 200, "held response after the directory came back")
    expect(sha(resp.body) == sha(page.body(MiB + 1000)), "replayed page differs")
    # The spill file goes with the request's pool, just after the response left.
    expect(wait_for(lambda: not list(srv.path("data").iterdir())), "spill file left behind")


@SPILL.test
def test_pages_do_not_need_the_upload_dir_by_default(srv):
    # Attack run 4.22: with SecUploadDir unusable every scanned page over 1 MiB got 500. With
    # the default limits a held page never reaches the disk, so pages of any size are served
    # (and still inspected up to the limit).
    data, away = srv.path("data"), srv.path("data.away")
    os.rename(data, away)
    try:
        big = srv.get("/defaults/page.py?size=%d" % (5 * MiB))
        denied = srv.get("/defaults/page.py?size=%d&say=top-secret&at=400000" % (5 * MiB))
    finally:
        os.rename(away, data)
    expect_status(big, 200, "5 MiB page with SecUploadDir gone")
    expect(sha(big.body) == sha(page.body(5 * MiB)), "5 MiB page differs")
    expect_status(denied, 403, "marker inside the default limit with SecUploadDir gone")


# ---- SecResponseBodyLimit (review H4) ---------------------------------------------------------

LIMIT_BYTES = 256 * KiB
BIG = page.body(3 * MiB)

LIMIT = Group("response-limit", snippet="""
SecFilterEngine On
SecFilterScanOutput On
SecUploadDir "@ROOT@/data"
SecResponseBodyLimit %d
SecFilterSelective OUTPUT "top-secret" "deny,log,status:403"
ScriptAlias /reject/ "@ROOT@/cgi-bin/"
ScriptAlias /partial/ "@ROOT@/cgi-bin/"
Alias /static-reject/ "@ROOT@/htdocs/"
Alias /static-partial/ "@ROOT@/htdocs/"
<LocationMatch "^/(static-)?reject/">
    SecResponseBodyLimitAction Reject
</LocationMatch>
# A memory limit below the response limit, so the held part spills to SecUploadDir.
<LocationMatch "^/(static-)?partial/">
    SecResponseBodyLimitAction ProcessPartial
    SecOutputInMemoryLimit 65536
</LocationMatch>
""" % LIMIT_BYTES, files={"htdocs/big.html": BIG})


def spooled_bytes(srv):
    """Bytes in SecUploadDir: named files, and the nameless spool files (O_TMPFILE) that only
    the workers' descriptors show ("DIR/#INODE (deleted)")."""
    data = srv.path("data")
    total = sum(p.stat().st_size for p in data.iterdir())
    for pid in [srv.proc.pid] + srv.children():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            path = "/proc/%d/fd/%s" % (pid, fd)
            try:
                target = os.readlink(path)
                if target.startswith(str(data) + "/") and target.endswith(" (deleted)"):
                    total += os.stat(path).st_size
            except OSError:
                continue
    return total


@LIMIT.test
def test_limit_reject(srv):
    mark = len(srv.error_log())
    resp = srv.get("/reject/page.py?size=%d" % (4 * MiB))
    expect_status(resp, 500, "4 MiB page over a 256 KiB limit with Reject")
    expect(b"parapet filler" not in resp.body, "part of the held page leaked into the 500")
    text = log_since(srv, mark, "Response body too large")
    expect("Response body too large (over the limit of %d bytes)" % LIMIT_BYTES in text,
           "no log line for the rejected page:\n%s" % text)
    resp = srv.get("/static-reject/big.html")
    expect_status(resp, 500, "3 MiB static page with Reject")
    for size, status in ((LIMIT_BYTES, 200), (LIMIT_BYTES + 1, 500)):
        resp = srv.get("/reject/page.py?size=%d" % size)
        expect_status(resp, status, "page of %d bytes with Reject" % size)
        if status == 200:
            expect(sha(resp.body) == sha(page.body(size)), "page at the limit differs")
    expect(wait_for(lambda: spooled_bytes(srv) == 0), "held copies left in SecUploadDir")


@LIMIT.test
def test_limit_process_partial(srv):
    for base in ("/partial/", "/cgi-bin/"):  # /cgi-bin/: the default action
        resp = srv.get(base + "page.py?size=%d" % (4 * MiB))
        expect_status(resp, 200, "4 MiB page with ProcessPartial (%s)" % base)
        expect(sha(resp.body) == sha(page.body(4 * MiB)), "page differs (%s)" % base)
    resp = srv.get("/static-partial/big.html")
    expect_status(resp, 200, "3 MiB static page with ProcessPartial")
    expect(sha(resp.body) == sha(BIG), "static page differs")
    expect(resp.header("Content-Length") == str(len(BIG)), "Content-Length %r"
           % resp.header("Content-Length"))
    # Inside the inspected part the OUTPUT rule still denies; past the limit nothing is seen.
    resp = srv.get("/cgi-bin/page.py?size=%d&say=top-secret&at=200000" % (4 * MiB))
    expect_status(resp, 403, "marker inside the first SecResponseBodyLimit bytes")
    resp = srv.get("/partial/page.py?size=%d&say=top-secret&at=1000" % (4 * MiB))
    expect_status(resp, 403, "marker at 1000 with a spilled held part")
    resp = srv.get("/partial/page.py?size=%d&say=top-secret&at=%d" % (4 * MiB, 3 * MiB))
    expect_status(resp, 200, "marker past the limit (documented: not inspected)")
    expect(sha(resp.body) == sha(page.body(4 * MiB, b"top-secret", 3 * MiB)), "page differs")


@LIMIT.test
def test_process_partial_streams_the_rest_unheld(srv):
    # The page pauses for 5 s after 2 MiB. The held part is released at the limit, so the
    # headers and the first MiB arrive during the pause, while SecUploadDir holds at most
    # the limit (the held copy), never what streams behind it.
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        start = time.time()
        conn.request("GET", "/partial/page.py?size=%d&chunk=65536&pause_after=%d&pause=5"
                     % (4 * MiB, 2 * MiB))
        resp = conn.getresponse()
        first = resp.read(MiB)
        during = spooled_bytes(srv)
        waited = time.time() - start
        rest = resp.read()
    finally:
        conn.close()
    expect(resp.status == 200, "status %d" % resp.status)
    expect(waited < 4, "the first MiB took %.1f s: the page was held past the limit" % waited)
    expect(0 < during <= LIMIT_BYTES, "%d bytes in SecUploadDir while streaming (limit %d)"
           % (during, LIMIT_BYTES))
    expect(sha(first + rest) == sha(page.body(4 * MiB)), "page differs")


# ---- mod_deflate and compressed pages (review M3) -----------------------------------------------

GZIP = {"Accept-Encoding": "gzip"}

DEFLATE = Group("response-deflate", snippet="""
SecFilterEngine On
SecFilterScanOutput On
SecFilterSelective OUTPUT "top-secret" "deny,log,status:403"
<Location /cgi-bin/>
    SetOutputFilter DEFLATE
</Location>
ScriptAlias /bytype/ "@ROOT@/cgi-bin/"
<Location /bytype/>
    AddOutputFilterByType DEFLATE text/html
</Location>
# OUTPUT sees a page that is compressed at its source as the bytes it is.
ScriptAlias /magic/ "@ROOT@/cgi-bin/"
<Location /magic/>
    SecFilterSelective OUTPUT "^\\x1f\\x8b" "deny,log,status:406"
</Location>
<Directory "@ROOT@/htdocs/gz">
    ForceType text/html
    AddEncoding gzip .gz
    SetOutputFilter DEFLATE
</Directory>
# A back end on the same server (not inspected itself) behind a reverse proxy: as it compresses,
# and with mod_deflate's INFLATE before Parapet and DEFLATE after it (docs/migration-1.9.md).
ScriptAlias /backend/ "@ROOT@/cgi-bin/"
<Location /backend/>
    SecFilterEngine Off
</Location>
ProxyPass /proxied/ http://127.0.0.1:@PORT@/backend/
ProxyPass /proxied-inflate/ http://127.0.0.1:@PORT@/backend/
<Location /proxied-inflate/>
    SetOutputFilter INFLATE;DEFLATE
</Location>
""", modules=DEFAULT_MODULES + ("filter", "deflate", "proxy", "proxy_http"), files={
    "htdocs/gz/secret.html.gz": gzip.compress(page.body(20000, b"top-secret", 5000)),
    "htdocs/gz/magic.html.gz": gzip.compress(page.body(20000)),
})


def gunzip_page(resp, what):
    expect(resp.header("Content-Encoding") == "gzip", "%s: Content-Encoding %r"
           % (what, resp.header("Content-Encoding")))
    return gzip.decompress(resp.body)


@DEFLATE.test
def test_output_rules_run_before_deflate(srv):
    for base in ("/cgi-bin/", "/bytype/"):  # SetOutputFilter, AddOutputFilterByType
        resp = srv.get(base + "page.py?size=20000&say=top-secret&at=5000", headers=GZIP)
        expect_status(resp, 403, "marker in a page DEFLATE compresses (%s)" % base)
        for size in (20000, 2 * MiB):  # the second is past SecResponseBodyLimit
            resp = srv.get(base + "page.py?size=%d" % size, headers=GZIP)
            expect_status(resp, 200, "benign page (%s, %d bytes)" % (base, size))
            body = gunzip_page(resp, "benign page (%s, %d bytes)" % (base, size))
            expect(sha(body) == sha(page.body(size)), "page differs after gunzip (%s, %d)"
                   % (base, size))
        resp = srv.get(base + "page.py?size=20000")
        expect_status(resp, 200, "benign page without Accept-Encoding (%s)" % base)
        expect(resp.header("Content-Encoding") is None and resp.body == page.body(20000),
               "page without Accept-Encoding was altered (%s)" % base)


@DEFLATE.test
def test_page_compressed_at_its_source(srv):
    want = page.body(20000, b"top-secret", 5000)
    # Compressed by the CGI or a static .gz: held and released as the same bytes, inspected
    # as such (ModSecurity 2 does not decompress either); DEFLATE leaves it alone.
    resp = srv.get("/cgi-bin/page.py?size=20000&say=top-secret&at=5000&gzip=1", headers=GZIP)
    expect_status(resp, 200, "marker inside a page gzip-compressed by the CGI")
    expect(gunzip_page(resp, "CGI gzip page") == want, "CGI gzip page differs")
    resp = srv.get("/gz/secret.html.gz", headers=GZIP)
    expect_status(resp, 200, "marker inside a static .gz page")
    expect(resp.body == srv.path("htdocs/gz/secret.html.gz").read_bytes(), "static .gz altered")
    resp = srv.get("/magic/page.py?size=20000&gzip=1", headers=GZIP)
    expect_status(resp, 406, "OUTPUT rule on the gzip magic bytes")
    resp = srv.get("/magic/page.py?size=20000")
    expect_status(resp, 200, "plain page where the rule wants gzip bytes")


@DEFLATE.test
def test_proxied_compressed_page(srv):
    url = "page.py?size=20000&say=top-secret&at=5000&gzip=auto"
    # The back end compresses because the client accepts gzip: OUTPUT sees gzip bytes.
    resp = srv.get("/proxied/" + url, headers=GZIP)
    expect_status(resp, 200, "marker inside a proxied page compressed by its back end")
    expect(gunzip_page(resp, "proxied gzip page") == page.body(20000, b"top-secret", 5000),
           "proxied gzip page differs")
    # INFLATE (before Parapet) and DEFLATE (after it): the plain page is inspected, and the
    # client still gets gzip.
    resp = srv.get("/proxied-inflate/" + url, headers=GZIP)
    expect_status(resp, 403, "marker in a proxied gzip page behind INFLATE")
    resp = srv.get("/proxied-inflate/page.py?size=200000&gzip=auto", headers=GZIP)
    expect_status(resp, 200, "benign proxied gzip page behind INFLATE")
    expect(sha(gunzip_page(resp, "proxied page behind INFLATE")) == sha(page.body(200000)),
           "proxied page behind INFLATE differs")
