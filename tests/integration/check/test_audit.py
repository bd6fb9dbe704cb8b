"""scripts/test-audit.py, the step of `make check` that fails when a test
did not run: fed made-up build directories (a manifest of test sources, a
ctest JUnit file, pytest JUnit files) it must pass a complete run and fail,
naming the test, on each way a test can silently go missing."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

AUDIT = os.path.join(hdmtest.SOURCE_DIR, "scripts", "test-audit.py")
SRC = hdmtest.SOURCE_DIR


def all_sources():
    """(ctest name, source) for every test source of the tree, as CMake writes them."""
    out = []
    for d, _, files in os.walk(os.path.join(SRC, "tests")):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), SRC)
            if rel.startswith("tests/unit/") and f.startswith("test_") and f.endswith(".c"):
                out.append(("unit." + f[:-2], os.path.join(d, f)))
            elif rel.startswith("tests/fuzz/fuzz_") and f.endswith(".c"):
                out.append(("fuzz." + f[:-2], os.path.join(d, f)))
            elif rel.startswith("tests/integration/") and f.startswith("test_") \
                    and f.endswith(".py"):
                name = rel[len("tests/integration/"):-3].replace("/", ".")
                out.append(("integration." + name, os.path.join(d, f)))
    return out


def make_build(tmp_path, sources, statuses=None, pytest_skips=()):
    """A fake build directory whose ctest knows `sources`' tests (one CTestTestfile)."""
    b = tmp_path / "build"
    (b / "test-results").mkdir(parents=True)
    (b / "test-sources.txt").write_text("".join("%s %s\n" % s for s in sources))
    statuses = statuses or {}
    names = [n for n, _ in sources] + list(statuses.keys() - {n for n, _ in sources})
    (b / "CTestTestfile.cmake").write_text("".join(
        'add_test(%s "/bin/true")\n' % n for n in names))
    cases = []
    for n in names:
        st = statuses.get(n, "run")
        if st == "skip77":
            cases.append('<testcase name="%s" status="notrun"><skipped message="SKIP_RETURN_CODE=77"/>'
                         '<system-out>SKIPPED</system-out></testcase>' % n)
        elif st == "missing":
            continue
        elif st == "fail":
            cases.append('<testcase name="%s" status="fail"><failure message="Failed"/></testcase>'
                         % n)
        else:
            cases.append('<testcase name="%s" status="run"/>' % n)
    (b / "ctest-results.xml").write_text("<testsuite>%s</testsuite>" % "".join(cases))
    for ctest_name, case, reason in pytest_skips:
        (b / "test-results" / (ctest_name + ".xml")).write_text(
            '<testsuites><testsuite><testcase name="%s"><skipped message="%s"/></testcase>'
            '<testcase name="other"/></testsuite></testsuites>' % (case, reason))
    return b


def audit(build):
    return subprocess.run([sys.executable, AUDIT, str(build)], capture_output=True, text=True,
                          timeout=60)


def test_complete_run_passes_and_counts(tmp_path):
    src = all_sources()
    r = audit(make_build(tmp_path, src, {"check.hailort": "skip77"}))
    assert r.returncode == 0, r.stderr
    assert "%d test sources, %d ctests registered, %d ran and passed" % (
        len(src), len(src) + 1, len(src)) in r.stdout
    assert "expected skip: check.hailort" in r.stdout


def test_unbuilt_test_source_fails(tmp_path):
    src = all_sources()
    dropped = [s for s in src if s[0].startswith("unit.")]
    r = audit(make_build(tmp_path, [s for s in src if not s[0].startswith("unit.")]))
    assert r.returncode != 0
    assert "tests/unit/common/test_pyjson.c has no ctest" in r.stderr
    assert "%d test(s) meant to run did not" % len(dropped) in r.stderr


def test_registered_but_not_run_fails(tmp_path):
    src = all_sources()
    r = audit(make_build(tmp_path, src, {src[0][0]: "missing"}))
    assert r.returncode != 0 and "ctest %s is registered but did not run" % src[0][0] in r.stderr


def test_unexpected_ctest_skip_fails(tmp_path):
    src = all_sources()
    r = audit(make_build(tmp_path, src, {"unit.test_base64": "skip77"}))
    assert r.returncode != 0 and "ctest unit.test_base64 was skipped" in r.stderr


def test_failed_ctest_fails(tmp_path):
    src = all_sources()
    r = audit(make_build(tmp_path, src, {"unit.test_base64": "fail"}))
    assert r.returncode != 0 and "ctest unit.test_base64 failed" in r.stderr


def test_pytest_skips(tmp_path):
    src = all_sources()
    # A tool missing on the machine: a skip nobody accepted.
    b = make_build(tmp_path, src, pytest_skips=[
        ("integration.deploy.test_scripts", "test_shellcheck", "shellcheck is not installed")])
    r = audit(b)
    assert r.returncode != 0
    assert "pytest integration.deploy.test_scripts::test_shellcheck was skipped" in r.stderr
    # One that tests/expected-skips.txt accepts, with its reason.
    b = make_build(tmp_path / "2", src, pytest_skips=[
        ("integration.deploy.test_units", "test_x", "needs root: useradd --root")])
    r = audit(b)
    assert r.returncode == 0, r.stderr
    assert "expected skip: integration.deploy.test_units::test_x" in r.stdout
