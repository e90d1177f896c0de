#!/usr/bin/env python3
"""A runner for CRS's regression-test format (the ftw / go-ftw YAML files).

    python3 tests/crs/ftw.py [--waf modsecurity|parapet] [--pl N] [--mode On|DetectionOnly]
                             [--json FILE] [FILE_OR_DIR ...]

Each YAML file holds `meta` and `tests`; a test has `test_title` and `stages`, a stage an
`input` (method, uri, version, headers, data or encoded_request; dest_addr and port are
ignored: the runner starts its own server) and an `output` (status: an int or a list,
log_contains / no_log_contains: a regex over the error-log lines of that request,
response_contains: a regex over the response, expect_error). Like the ftw tools it completes
requests: Host, and Content-Length when there is data, unless the test says
`autocomplete_headers: false`. Log lines are tied to the request by its UNIQUE_ID (answered in
X-Unique-Id), so tests cannot see each other's lines.

The default files are tests/crs/ftw/*.yaml, our own CRS-style tests. Prints a line per test,
then `FTW: N passed, N failed`. With --mode DetectionOnly (SecRuleEngine DetectionOnly) nothing
is intercepted, so `status` expectations are not checked there; the log ones are. --json FILE
writes what each test saw (statuses, the rule ids logged for its requests, the anomaly scores
the servers' rule 9999001 logs) for comparing two
servers (tests/e2e/test_crs_ftw_parapet.py).
"""
import argparse
import base64
import json
import re
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers  # noqa: E402
import harness  # noqa: E402

try:
    import yaml
except ImportError:  # Debian's python3 with python3-yaml (tools/deps.sh) has it
    if sys.executable != "/usr/bin/python3" and Path("/usr/bin/python3").exists():
        import os
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

HERE = Path(__file__).resolve().parent


def build_request(inp):
    if "encoded_request" in inp:
        return base64.b64decode(inp["encoded_request"])
    method = inp.get("method", "GET")
    uri = inp.get("uri", "/")
    version = inp.get("version", "HTTP/1.1")
    headers = dict(inp.get("headers") or {})
    data = inp.get("data", "")
    if isinstance(data, list):
        data = "\r\n".join(data)
    body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if inp.get("autocomplete_headers", True):
        names = {k.lower() for k in headers}
        if "host" not in names:
            headers["Host"] = "localhost"
        if body and "content-length" not in names and "transfer-encoding" not in names:
            headers["Content-Length"] = str(len(body))
        if "connection" not in names:
            headers["Connection"] = "close"
    head = "%s %s %s\r\n" % (method, uri, version) + "".join("%s: %s\r\n" % kv for kv in headers.items())
    return head.encode("utf-8") + b"\r\n" + body


def send(port, raw):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(raw)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks)


def status_of(response):
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head)
    return int(m.group(1)) if m else None


def check(stage_out, response, lines, detection_only=False):
    problems = []
    status = status_of(response)
    if "status" in stage_out and not detection_only:
        want = stage_out["status"]
        want = want if isinstance(want, list) else [want]
        if status not in want:
            problems.append("status %s, expected %s" % (status, want))
    text = "\n".join(lines)
    if "log_contains" in stage_out and not re.search(stage_out["log_contains"], text):
        problems.append("log does not contain %r" % stage_out["log_contains"])
    if "no_log_contains" in stage_out and re.search(stage_out["no_log_contains"], text):
        problems.append("log contains %r" % stage_out["no_log_contains"])
    if "response_contains" in stage_out and not re.search(stage_out["response_contains"], response.decode("latin-1")):
        problems.append("response does not contain %r" % stage_out["response_contains"])
    if stage_out.get("expect_error") and not detection_only and status is not None and not (400 <= status):
        problems.append("expected an error, got %s" % status)
    return problems


def load(paths):
    files = []
    for p in paths:
        p = Path(p)
        files += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    tests = []
    for f in files:
        doc = yaml.safe_load(f.read_text())
        if not (doc.get("meta") or {}).get("enabled", True):
            continue
        for t in doc.get("tests") or []:
            tests.append((f.name, t))
    return tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--waf", default="modsecurity")
    ap.add_argument("--pl", type=int, default=4)
    ap.add_argument("--mode", default="On", choices=("On", "DetectionOnly"))
    ap.add_argument("--json", help="write each test's statuses and logged rule ids here")
    ap.add_argument("paths", nargs="*", default=[str(HERE / "ftw")])
    args = ap.parse_args()
    tests = load(args.paths)
    try:
        srv = servers.start(args.waf, args.pl, args.mode)
    except harness.StartError as err:
        print("%s + CRS did not start:\n%s" % (args.waf, str(err)[-3000:]))
        print("FTW: 0 passed, %d failed" % len(tests))
        return 1
    passed = failed = 0
    try:
        results = []
        for fname, t in tests:
            responses = []
            for st in t.get("stages", []):
                stage = st.get("stage", st)
                resp = send(srv.port, build_request(stage.get("input", {})))
                uid = re.search(rb"(?im)^X-Unique-Id: (\S+)", resp.split(b"\r\n\r\n", 1)[0])
                responses.append((stage.get("output", {}), resp, uid.group(1).decode() if uid else None))
            results.append((fname, t, responses))
        time.sleep(1.0)
        log = srv.error_log().splitlines()
        seen_by_test = []
        for fname, t, responses in results:
            problems, seen, scores = [], [], []
            for out, resp, uid in responses:
                lines = [l for l in log if uid and ('[unique_id "%s"]' % uid) in l]
                problems += check(out, resp, lines, args.mode == "DetectionOnly")
                seen += re.findall(r'\[id "(\d+)"\]', "\n".join(lines))
                scores += re.findall(r"scores in=(\d*) out=(\d*)", "\n".join(lines))
            title = t.get("test_title", "?")
            seen_by_test.append({"file": fname, "test": title,
                                 "statuses": [status_of(r) for _, r, _ in responses],
                                 "ids": sorted(set(seen)),
                                 "scores": ["in=%s out=%s" % sc for sc in scores], "passed": not problems})
            if problems:
                failed += 1
                print("FAIL %s %s: %s (rules matched: %s)" % (fname, title, "; ".join(problems),
                                                             " ".join(seen) or "none"))
            else:
                passed += 1
                print("PASS %s %s" % (fname, title))
        if args.json:
            Path(args.json).write_text(json.dumps(seen_by_test, indent=1) + "\n")
    finally:
        srv.stop()
    print("FTW: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
