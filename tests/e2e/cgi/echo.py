#!/usr/bin/python3
"""Echo CGI for the end-to-end tests: reports what the application received.

Answers JSON with the method, query string, request headers (from the CGI HTTP_* variables),
CONTENT_LENGTH / CONTENT_TYPE as the server passed them, the body's length and SHA-256, and the
body itself when it is small. Tests compare hashes, so a 50 MB body need not travel back.

Query parameters steer it: sleep=SECONDS waits before answering (timing notes), status=NNN
sets the response status, type=MIME sets the Content-Type, say=TEXT is echoed in the answer.
"""
import hashlib
import json
import os
import sys
import time
import urllib.parse

SMALL_BODY_BYTES = 64 * 1024
READ_BYTES = 64 * 1024


def read_body():
    """Reads stdin as the server offers it: CONTENT_LENGTH bytes, or to EOF when absent."""
    length = os.environ.get("CONTENT_LENGTH")
    remaining = int(length) if length else None
    digest = hashlib.sha256()
    total = 0
    kept = bytearray()
    while remaining is None or remaining > 0:
        want = READ_BYTES if remaining is None else min(READ_BYTES, remaining)
        chunk = sys.stdin.buffer.read(want)
        if not chunk:
            break
        digest.update(chunk)
        total += len(chunk)
        if total <= SMALL_BODY_BYTES:
            kept += chunk
        if remaining is not None:
            remaining -= len(chunk)
    return total, digest.hexdigest(), bytes(kept) if total <= SMALL_BODY_BYTES else None


def request_headers():
    headers = {}
    for name, value in os.environ.items():
        if name.startswith("HTTP_"):
            headers[name[5:].replace("_", "-").lower()] = value
    return headers


def main():
    query = os.environ.get("QUERY_STRING", "")
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if "sleep" in params:
        time.sleep(float(params["sleep"]))
    length, sha, body = read_body()
    answer = {
        "method": os.environ.get("REQUEST_METHOD"),
        "query": query,
        "path_info": os.environ.get("PATH_INFO", ""),
        "headers": request_headers(),
        "content_length": os.environ.get("CONTENT_LENGTH"),
        "content_type": os.environ.get("CONTENT_TYPE"),
        "body_length": length,
        "body_sha256": sha,
        "body": body.decode("latin-1") if body is not None else None,
        "say": params.get("say"),
        "unique_id": os.environ.get("UNIQUE_ID"),
        "server_software": os.environ.get("SERVER_SOFTWARE"),
    }
    out = sys.stdout
    if "status" in params:
        out.write("Status: %s\r\n" % params["status"])
    out.write("Content-Type: %s\r\n\r\n" % params.get("type", "application/json"))
    out.write(json.dumps(answer))
    out.flush()


if __name__ == "__main__":
    main()
