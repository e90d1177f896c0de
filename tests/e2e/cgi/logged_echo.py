#!/usr/bin/python3
"""Echo CGI that first records that it was called, for tests that must prove the application
never saw a request (a rejected upload, for instance).

Appends one JSON line per call to the file named by PARAPET_E2E_CGI_LOG (set with SetEnv in the
group's configuration): the method, the query string, UNIQUE_ID and CONTENT_LENGTH, written
before the body is read. Then answers exactly as echo.py does (it runs echo.main from the same
directory). Without PARAPET_E2E_CGI_LOG it is plain echo.py.
"""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import echo  # noqa: E402


def record():
    path = os.environ.get("PARAPET_E2E_CGI_LOG")
    if not path:
        return
    line = json.dumps({
        "method": os.environ.get("REQUEST_METHOD"),
        "query": os.environ.get("QUERY_STRING", ""),
        "unique_id": os.environ.get("UNIQUE_ID"),
        "content_length": os.environ.get("CONTENT_LENGTH"),
    })
    # O_APPEND: one write per line, so concurrent calls do not interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


if __name__ == "__main__":
    record()
    echo.main()
