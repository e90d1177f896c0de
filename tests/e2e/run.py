#!/usr/bin/env python3
"""Runs the end-to-end tests: every test_* function in tests/e2e/test_*.py.

A function marked with a harness.Group gets that group's running Apache as its argument; the
group's Apache is started before its first test and stopped after its last one. Other test
functions take no argument and manage what they need themselves. A test passes by returning,
skips by raising harness.Skip, and fails on any other exception.

Prints one line per test (PASS/FAIL/SKIP), and last `E2E: N passed, N failed, N skipped`.
Exits non-zero when a test failed. Options: -k SUBSTRING runs only matching tests.
"""
import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def load_tests(pattern):
    """(module name, function) in file order, then definition order."""
    tests = []
    for path in sorted(HERE.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, fn in vars(module).items():
            if name.startswith("test_") and callable(fn):
                full = "%s.%s" % (path.stem, name)
                if pattern is None or pattern in full:
                    tests.append((full, fn))
    return tests


def plan(tests):
    """Orders tests so each group's tests run together (at its first test's position)."""
    batches, by_group = [], {}
    for full, fn in tests:
        group = getattr(fn, "group", None)
        if group is None:
            batches.append((None, [(full, fn)]))
        elif id(group) in by_group:
            by_group[id(group)][1].append((full, fn))
        else:
            by_group[id(group)] = (group, [(full, fn)])
            batches.append(by_group[id(group)])
    return batches


class Counts:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def record(self, full, outcome, detail, seconds):
        if outcome == "PASS":
            self.passed += 1
        elif outcome == "SKIP":
            self.skipped += 1
        else:
            self.failed += 1
        line = "%s %s (%.1fs)" % (outcome, full, seconds)
        if detail:
            line += ": " + detail
        print(line, flush=True)


def run_one(full, fn, srv, counts):
    start = time.time()
    try:
        fn(srv) if srv is not None else fn()
    except harness.Skip as why:
        counts.record(full, "SKIP", str(why), time.time() - start)
    except Exception as err:  # any failure of a test is reported, not raised
        detail = "%s: %s" % (type(err).__name__, err)
        tb = traceback.format_exc(limit=-3)
        if srv is not None:
            tail = srv.error_log().strip().splitlines()[-8:]
            tb += "\n    error log tail:\n      " + "\n      ".join(tail)
        counts.record(full, "FAIL", detail + "\n" + tb, time.time() - start)
    else:
        counts.record(full, "PASS", "", time.time() - start)


def run_batch(group, tests, counts):
    if group is None:
        for full, fn in tests:
            run_one(full, fn, None, counts)
        return
    srv = group.create()
    try:
        srv.start()
    except Exception as err:
        for full, _ in tests:
            counts.record(full, "FAIL", "group %s did not start: %s" % (group.name, err), 0.0)
        return
    try:
        for full, fn in tests:
            run_one(full, fn, srv, counts)
    finally:
        srv.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="pattern", help="run only tests whose name contains this")
    args = parser.parse_args()
    counts = Counts()
    for group, tests in plan(load_tests(args.pattern)):
        run_batch(group, tests, counts)
    print("E2E: %d passed, %d failed, %d skipped" % (counts.passed, counts.failed,
                                                     counts.skipped))
    return 1 if counts.failed else 0


if __name__ == "__main__":
    sys.exit(main())
