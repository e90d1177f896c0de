#!/usr/bin/python3
"""Page CGI for the end-to-end tests of the response path: a generated body of a given size.

Query parameters: size=BYTES of body (default 1000); type=MIME (default text/html); say=TEXT
placed at offset at=BYTES (default 0) instead of the filler there; chunk=BYTES written and
flushed per write (default 8192); pause=SECONDS slept once after pause_after=BYTES were
written; gzip=1 sends the body gzip-compressed with Content-Encoding: gzip, as a back end that
compresses itself does, and gzip=auto does so only when the request accepts gzip. The filler is printable and position-dependent, so a body that
was cut, reordered or duplicated never matches its SHA-256, which the test computes with
body() below (the script is imported by the tests for that).
"""
import gzip
import os
import sys
import time
import urllib.parse

LINE = b"<p>parapet filler line %08d: the quick brown fox jumps over the lazy dog</p>\n"


def body(size, say=b"", at=0):
    """The page body: filler lines cut to size, with say written over it at offset at."""
    out = bytearray()
    n = 0
    while len(out) < size:
        out += LINE % n
        n += 1
    del out[size:]
    if say:
        out[at:at + len(say)] = say
        del out[size:]
    return bytes(out)


def main():
    params = dict(urllib.parse.parse_qsl(os.environ.get("QUERY_STRING", ""),
                                         keep_blank_values=True))
    size = int(params.get("size", "1000"))
    data = body(size, params.get("say", "").encode(), int(params.get("at", "0")))
    chunk = int(params.get("chunk", "8192"))
    pause_after = int(params.get("pause_after", "-1"))
    out = sys.stdout.buffer
    head = "Content-Type: %s\r\n" % params.get("type", "text/html")
    accepts = "gzip" in os.environ.get("HTTP_ACCEPT_ENCODING", "")
    if params.get("gzip") == "1" or (params.get("gzip") == "auto" and accepts):
        data = gzip.compress(data)
        head += "Content-Encoding: gzip\r\n"
    out.write(head.encode() + b"\r\n")
    out.flush()
    paused = False
    for off in range(0, len(data), chunk):
        out.write(data[off:off + chunk])
        out.flush()
        if not paused and 0 <= pause_after <= off + chunk:
            time.sleep(float(params.get("pause", "0")))
            paused = True


if __name__ == "__main__":
    main()
