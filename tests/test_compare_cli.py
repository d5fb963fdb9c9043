"""``rdoflow compare``: exit 0 pass, 1 fail, 2 for bad input (at least twelve kinds), and its JSON report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rdoflow.tasks.results.model import CATEGORIES
from tests.cli_runner import rdoflow
from tests.results_streams import stream, write

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
GOOD = [("m.C.test_a[id-1111,smoke]", "success", 1, None), ("m.C.test_b", "success", 1, None)]


def compare(tmp_path, pre, post, *extra):

    args = ["compare", str(pre), str(post), "--store", str(tmp_path / "store"), "--reports", str(tmp_path / "r"),
            *extra]
    return rdoflow(*args)


def test_a_pass_exits_0_and_the_json_has_verdict_reasons_counts_and_untagged_ids(tmp_path):
    pre = write(tmp_path / "pre", GOOD)
    post = write(tmp_path / "post", GOOD + [("m.C.test_new", "success", 1, None)])
    result = compare(tmp_path, pre, post, "--json", str(tmp_path / "out.json"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["verdict"] == "pass" and report["reasons"]
    assert set(report["counts"]) == set(CATEGORIES)
    assert report["tests"]["added"] == ["m.C.test_new"]
    assert "m.C.test_a" in report["tests"]["unchanged"]  # the [id-…,smoke] suffix is not part of the id


def test_a_regression_exits_1_and_junit_marks_it_as_a_failure(tmp_path):
    pre = write(tmp_path / "pre", GOOD)
    post = write(tmp_path / "post", [GOOD[0], ("m.C.test_b", "fail", 1, "Traceback\nValueError: broke")])
    result = compare(tmp_path, pre, post, "--junit", str(tmp_path / "out.xml"))
    assert result.exit_code == 1
    assert "verdict: FAIL" in result.output and "m.C.test_b" in result.output
    xml = (tmp_path / "out.xml").read_text()
    assert 'failures="1"' in xml and "ValueError: broke" in xml


def test_runs_are_stored_and_listed(tmp_path):

    compare(tmp_path, FIXTURES / "tacker-stestr-12", FIXTURES / "tacker-stestr-60")
    listing = rdoflow("results", "list", "--store", str(tmp_path / "store"))
    assert listing.exit_code == 0
    assert "pre-" in listing.output and "post-" in listing.output and "502" in listing.output


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    whole = stream([(f"m.C.test_{i}", "success", 1, None) for i in range(10)])
    cases = {
        "truncated subunit": (whole[:-9], "truncated subunit v2 stream near byte"),
        "random bytes": (os.urandom(512).replace(b"\xb3", b"\x00").replace(b"<", b"\x00"), "not a result file"),
        "empty file": (b"", "the file is empty"),
        "blank lines": (b"\n\n  \n", "the file is empty"),
        "wrong format (a passwd file)": (b"root:x:0:0:root:/root:/bin/bash\n", "not a result file"),
        "text-piped subunit": (whole.replace(b"\xb3", "\ufffd".encode()), "went through a text pipe"),
        "XML external entity": (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                b"<testsuite><testcase name='&x;'/></testsuite>", "refused"),
        "billion laughs": (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]>'
                           b"<testsuite><testcase name='&b;'/></testsuite>", "refused"),
        "malformed XML": (b"<testsuite><testcase name='a'></testsuite>", "not well-formed XML"),
        "XML that is not JUnit": (b"<html><body>results</body></html>", "not subunit, JUnit XML or JSON"),
        "JUnit with no tests": (b'<testsuite tests="0"></testsuite>', "no test results"),
        "script results, bad JSON": (b'{"script": "a", "status": "pass"}\n{"script": \n', "line 2: not JSON"),
        "script results, bad status": (b'{"script": "a", "status": "green"}\n', "expected an object with 'script'"),
    }
    made = {}
    for name, (content, message) in cases.items():
        path = tmp_path / name.replace(" ", "_").replace("(", "").replace(")", "").replace(",", "")
        path.write_bytes(content)
        made[name] = (path, message)
    (tmp_path / "not-a-repo").mkdir()
    made["a directory without a stestr repo"] = (tmp_path / "not-a-repo", "not a stestr repository")
    made["a missing file"] = (tmp_path / "nowhere.subunit", "no such file")
    made["an unreadable file"] = (Path("/proc/self/mem"), "cannot be read")
    return made


def test_every_kind_of_bad_input_exits_2_naming_the_file_and_the_problem(tmp_path):
    good = write(tmp_path / "good", GOOD)
    cases = _bad_inputs(tmp_path)
    assert len(cases) >= 12
    for name, (path, message) in cases.items():
        result = compare(tmp_path, good, path)
        assert result.exit_code == 2, f"{name}: {result.output}"
        assert str(path) in result.output and message in result.output, f"{name}: {result.output}"


def test_etc_passwd_given_as_a_result_file_exits_2_without_printing_its_bytes(tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    result = compare(tmp_path, passwd, passwd)
    assert result.exit_code == 2
    assert "starts with 16 bytes that are not subunit, JUnit XML or JSON" in result.output
    assert "root:x" not in result.output


def test_a_bad_policy_file_exits_2_naming_the_field(tmp_path):
    good = write(tmp_path / "good", GOOD)
    policy = tmp_path / "policy.yaml"
    policy.write_text("known_failures:\n  - test: '('\n    reason: broken regex\n")
    result = compare(tmp_path, good, good, "--policy", str(policy))
    assert result.exit_code == 2
    assert "known_failures[0].test" in result.output and "(line 2)" in result.output


@pytest.mark.parametrize("report", ["--md", "--html"])
def test_names_and_messages_are_written_escaped_into_the_reports(tmp_path, report):
    pre = write(tmp_path / "pre", [("m.C.test_<script>alert(1)</script>", "success", 1, None)])
    post = write(tmp_path / "post", [("m.C.test_<script>alert(1)</script>", "fail", 1, "<img src=x onerror=alert(2)>")])
    out = tmp_path / ("out.md" if report == "--md" else "out.html")
    assert compare(tmp_path, pre, post, report, str(out)).exit_code == 1
    text = out.read_text()
    if report == "--html":
        assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
        assert "<img src=x" not in text
    else:  # no raw HTML, whatever a Markdown viewer does with it
        assert "<script>" not in text and "<img" not in text
        assert "m.C.test_&lt;script>alert(1)&lt;/script>" in text and "&lt;img src=x" in text


def test_a_backtick_in_a_test_name_stays_inside_its_code_span_in_markdown(tmp_path):
    pre = write(tmp_path / "pre", [("m.C.test_`**bold**`", "success", 1, None)])
    post = write(tmp_path / "post", [("m.C.test_`**bold**`", "fail", 1, "E")])
    assert compare(tmp_path, pre, post, "--md", str(tmp_path / "out.md")).exit_code == 1
    assert "- `` m.C.test_`**bold**` ``" in (tmp_path / "out.md").read_text()


def test_a_password_in_a_failure_message_reaches_no_report(tmp_path):
    pre = write(tmp_path / "pre", GOOD)
    post = write(tmp_path / "post", [GOOD[0], ("m.C.test_b", "fail", 1, 'Traceback\nKeystoneError: {"password": '
                                                                        '"hunter2-s3cr3t"} refused')])
    reports = {kind: tmp_path / f"out.{kind}" for kind in ("md", "html", "junit", "json")}
    result = compare(tmp_path, pre, post, *(arg for kind, path in reports.items() for arg in (f"--{kind}", str(path))))
    assert result.exit_code == 1, result.output
    assert "hunter2-s3cr3t" not in result.output
    for kind, path in reports.items():
        assert "hunter2-s3cr3t" not in path.read_text(), kind
    assert "**********" in reports["md"].read_text() and "**********" in reports["junit"].read_text()


def test_the_junit_report_reads_back_with_junitparser(tmp_path):
    from junitparser import Failure, JUnitXml

    pre = write(tmp_path / "pre", GOOD)
    post = write(tmp_path / "post", [("m.C.test_a", "fail", 1, "E1"), ("m.C.test_b", "fail", 1, "E2")])
    compare(tmp_path, pre, post, "--junit", str(tmp_path / "out.xml"))
    cases = [case for suite in JUnitXml.fromfile(str(tmp_path / "out.xml")) for case in suite]
    assert {(case.classname, case.name) for case in cases} == {("m.C", "test_a"), ("m.C", "test_b")}
    assert all(isinstance(case.result[0], Failure) for case in cases)


def test_runs_the_regression_stage_stored_are_not_their_own_history_when_compared_again(tmp_path):
    """The stage stores a run as pre-<time>-<digest>; `rdoflow compare` of the same two files stores them
    again as pre-<digest>. The stage's copies are the same runs, not history: a regression between them
    stays a regression (it was called flaky, and the verdict passed)."""
    import hashlib

    from rdoflow.tasks.results.model import RunMeta
    from rdoflow.tasks.results.runs import read_and_store

    pre = write(tmp_path / "pre", GOOD)
    post = write(tmp_path / "post", [GOOD[0], ("m.C.test_b", "fail", 1, "Traceback\nValueError: broke")])
    for path, label in ((pre, "pre"), (post, "post")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        read_and_store(path, RunMeta(run_id=f"{label}-20261207T140906Z-{digest}", label=label, suite="tempest"),
                       str(tmp_path / "store"))
    result = compare(tmp_path, pre, post)
    assert result.exit_code == 1, result.output
    assert "1 test passed before and failed after: m.C.test_b" in result.output
