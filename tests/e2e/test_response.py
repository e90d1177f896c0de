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
    expect(not list(srv.path("data").iterdir()), "spill file left behind")
