#!/usr/bin/env python3
"""Engine behaviour without Apache: table-driven cases run through `build/parapet eval`.

A case file (tests/eval/cases/*.case) holds many cases. Each case is a few lines:

    ### name of the case
    --- config
    SecFilterEngine On
    SecFilter "<script"
    --- request
    GET /?q=<script> HTTP/1.1
    Host: localhost
    --- expect
    {"intercepted": true, "status": 403, "matched": [{"var": "THE_REQUEST"}]}

`@TMP@` in a config is the case's temp dir (with an empty `uploads/` in it), `@ROOT@` the
repository. Besides the verdict, `files_left` (files in @TMP@/uploads afterwards) and
`files_mode` can be expected. Optional sections: `--- response` (a raw HTTP response for OUTPUT rules), `--- config+`
(appended to the file's shared `--- config` block given before the first case).
`expect` is a JSON object compared as a subset: every key given must be equal; a list of
objects is compared element-wise as subsets and must have the same length. An expect of
{"error": "text"} means `parapet eval` must fail (exit 2) with text in its stderr.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PARAPET = os.path.join(ROOT, "build", "parapet")


def parse_file(path):
    shared, cases, cur, section = [], [], None, None
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("### "):
                cur = {"name": line[4:].strip(), "sections": {}}
                cases.append(cur)
                section = None
                continue
            if line.startswith("--- "):
                section = line[4:].strip()
                if cur is None and section == "config":
                    continue
                cur["sections"][section] = []
                continue
            if cur is None:
                if line.strip() and not line.startswith("#"):
                    shared.append(line)
                continue
            if section:
                cur["sections"][section].append(line)
    return shared, cases


def subset(expected, actual, path="$"):
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected object, got {actual!r}"
        for k, v in expected.items():
            if k not in actual:
                return f"{path}.{k}: missing in {actual!r}"
            err = subset(v, actual[k], f"{path}.{k}")
            if err:
                return err
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return f"{path}: expected {len(expected)} items, got {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            err = subset(e, a, f"{path}[{i}]")
            if err:
                return err
        return None
    if isinstance(expected, str) and expected.startswith("~"):
        return None if isinstance(actual, str) and expected[1:] in actual else \
            f"{path}: {actual!r} does not contain {expected[1:]!r}"
    return None if expected == actual else f"{path}: expected {expected!r}, got {actual!r}"


def http_text(lines):
    # Trailing empty lines of the section end the headers; keep one blank line after them.
    while lines and lines[-1] == "":
        lines = lines[:-1]
    text = "\r\n".join(lines)
    if "" not in lines:
        text += "\r\n\r\n"
    return text


def substitute(lines, tmp):
    return [l.replace("@TMP@", tmp).replace("@ROOT@", ROOT) for l in lines]


def run_case(tmp, shared, case):
    s = case["sections"]
    uploads = os.path.join(tmp, "uploads")
    shutil.rmtree(uploads, ignore_errors=True)
    os.makedirs(uploads)
    conf = os.path.join(tmp, "parapet.conf")
    with open(conf, "w") as f:
        f.write("\n".join(substitute(shared + s.get("config+", []) + s.get("config", []), tmp)) + "\n")
    req = os.path.join(tmp, "request.http")
    with open(req, "w", newline="") as f:
        f.write(http_text(s.get("request", ["GET / HTTP/1.1", "Host: localhost"])))
    cmd = [PARAPET, "eval", "-c", conf, req]
    if "response" in s:
        resp = os.path.join(tmp, "response.http")
        with open(resp, "w", newline="") as f:
            f.write(http_text(s["response"]))
        cmd += ["--response", resp]
    expected = json.loads("\n".join(s["expect"]))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if "error" in expected:
        if p.returncode != 2 or expected["error"] not in p.stderr:
            return f"expected error {expected['error']!r}, got rc={p.returncode} {p.stderr!r}"
        return None
    if p.returncode == 2:
        return f"parapet eval failed: {p.stderr.strip()}"
    try:
        actual = json.loads(p.stdout)
    except ValueError:
        return f"not JSON: {p.stdout!r}"
    want_rc = 1 if actual.get("intercepted") else 0
    if p.returncode != want_rc:
        return f"exit code {p.returncode} does not match intercepted={actual.get('intercepted')}"
    # "files_left": how many files the upload directory holds after the transaction ended.
    actual["files_left"] = len(os.listdir(uploads))
    if "files_mode" in expected:
        modes = {oct(os.stat(os.path.join(uploads, n)).st_mode & 0o777) for n in os.listdir(uploads)}
        actual["files_mode"] = sorted(modes)
    err = subset(expected, actual)
    return f"{err}\n      verdict: {p.stdout.strip()}" if err else None


def main():
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "eval", "cases", "*.case")))
    if len(sys.argv) > 1:
        files = [f for f in files if any(a in f for a in sys.argv[1:])]
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="parapet-eval-") as tmp:
        for path in files:
            shared, cases = parse_file(path)
            for case in cases:
                name = f"{os.path.basename(path)[:-5]}: {case['name']}"
                err = run_case(tmp, shared, case)
                if err:
                    failed += 1
                    print(f"FAIL eval {name}\n      {err}")
                else:
                    passed += 1
                    print(f"PASS eval {name}")
    print(f"EVAL: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
