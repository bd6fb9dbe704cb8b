#!/usr/bin/python3
"""test-audit.py BUILD_DIR - after ctest, prove that every test ran.

`make check` and `make check-asan` run this after ctest.  It fails, saying
which and why, when
  - a test source in the tree (tests/unit/**/test_*.c, tests/fuzz/fuzz_*.c,
    tests/integration/**/test_*.py) has no ctest: it was not built or not
    registered (a missing library, a CMake condition, a typo);
  - a registered ctest did not run, or ctest skipped it;
  - a pytest test inside an integration file was skipped;
unless tests/expected-skips.txt lists that skip with its reason.  It ends by
printing the counts, so the size of the suite is always on screen.

Inputs, all written by the build and `make check`:
  BUILD_DIR/test-sources.txt        "<ctest name> <source file>" per test (CMake)
  BUILD_DIR/ctest-results.xml       ctest --output-junit
  BUILD_DIR/test-results/*.xml      pytest --junitxml, one per integration file
"""
import fnmatch
import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("test-audit: " + msg, file=sys.stderr)
    sys.exit(1)


def load_expected_skips(path):
    """[(ctest or pytest id pattern, reason substring)] from expected-skips.txt."""
    rules = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 2 or not parts[0]:
                fail("%s:%d: want '<test pattern> | <reason text>'" % (path, n))
            rules.append((parts[0], parts[1]))
    return rules


def allowed(rules, test_id, reason):
    return any(fnmatch.fnmatchcase(test_id, pat) and text in reason for pat, text in rules)


def main():
    if len(sys.argv) != 2:
        fail("usage: test-audit.py BUILD_DIR")
    build = os.path.abspath(sys.argv[1])
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rules = load_expected_skips(os.path.join(src, "tests", "expected-skips.txt"))
    problems = []

    # 1. Every test source in the tree is registered as a ctest.
    manifest = os.path.join(build, "test-sources.txt")
    if not os.path.exists(manifest):
        fail("%s is missing: configure with CMake first" % manifest)
    registered_src = {}
    with open(manifest) as f:
        for line in f:
            name, _, path = line.strip().partition(" ")
            if name:
                registered_src[os.path.realpath(path)] = name
    patterns = ["tests/unit/**/test_*.c", "tests/fuzz/fuzz_*.c", "tests/integration/**/test_*.py"]
    sources = sorted(p for pat in patterns for p in glob.glob(os.path.join(src, pat), recursive=True))
    for path in sources:
        if os.path.realpath(path) not in registered_src:
            problems.append("%s has no ctest: it was not built (see the CMake output for why)"
                            % os.path.relpath(path, src))

    # 2. Every registered ctest ran, and none was skipped unless expected.
    listed = subprocess.run(["ctest", "--show-only=json-v1"], cwd=build, capture_output=True,
                            text=True, check=True)
    registered = [t["name"] for t in json.loads(listed.stdout)["tests"]]
    junit = os.path.join(build, "ctest-results.xml")
    if not os.path.exists(junit):
        fail("%s is missing: run ctest --output-junit ctest-results.xml first" % junit)
    results = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        results[case.get("name")] = case
    ran = passed = 0
    skipped_ok = []
    for name in registered:
        case = results.get(name)
        if case is None:
            problems.append("ctest %s is registered but did not run" % name)
            continue
        status = case.get("status")
        if status == "run" and case.find("failure") is None:
            ran += 1
            passed += 1
            continue
        if status == "notrun" or case.find("skipped") is not None:
            out = case.findtext("system-out") or ""
            skip = case.find("skipped")
            reason = (skip.get("message", "") if skip is not None else "") + " " + out
            if allowed(rules, name, reason):
                skipped_ok.append("%s (%s)" % (name, out.strip().splitlines()[0] if out.strip()
                                               else "skipped"))
            else:
                problems.append("ctest %s was skipped: %s" % (name, reason.strip()[:300]))
            continue
        ran += 1
        problems.append("ctest %s failed" % name)

    # 3. No pytest test inside an integration file was skipped unexpectedly.
    py_cases = py_skipped = 0
    for xml in sorted(glob.glob(os.path.join(build, "test-results", "*.xml"))):
        ctest_name = os.path.basename(xml)[:-4]
        if ctest_name not in results:
            continue  # left over from an earlier run of a test not run now
        for case in ET.parse(xml).getroot().iter("testcase"):
            py_cases += 1
            skip = case.find("skipped")
            if skip is None:
                continue
            test_id = "%s::%s" % (ctest_name, case.get("name"))
            reason = skip.get("message", "")
            if allowed(rules, test_id, reason):
                py_skipped += 1
                skipped_ok.append("%s (%s)" % (test_id, reason))
            else:
                problems.append("pytest %s was skipped: %s" % (test_id, reason))

    print("test-audit: %d test sources, %d ctests registered, %d ran and passed "
          "(%d pytest cases inside), %d skipped as expected"
          % (len(sources), len(registered), passed, py_cases, len(skipped_ok)))
    for s in skipped_ok:
        print("test-audit:   expected skip: " + s)
    if problems:
        for p in problems:
            print("test-audit: FAIL: " + p, file=sys.stderr)
        fail("%d test(s) meant to run did not (tests/expected-skips.txt lists the "
             "skips that are accepted)" % len(problems))


if __name__ == "__main__":
    main()
