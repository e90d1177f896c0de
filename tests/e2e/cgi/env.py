#!/usr/bin/python3
"""Environment CGI for the end-to-end tests: answers JSON with the whole CGI environment the
server gave it (so tests can see variables set by setenv, SetEnv, mod_security-message ...)
and the length of the request body it read. tests/e2e/test_rules.py installs it next to
echo.py as cgi-bin/env.py.
"""
import json
import os
import sys


def main():
    length = int(os.environ.get("CONTENT_LENGTH") or 0)
    body = sys.stdin.buffer.read(length) if length else b""
    answer = {"env": dict(os.environ), "body_length": len(body)}
    sys.stdout.write("Content-Type: application/json\r\n\r\n")
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
