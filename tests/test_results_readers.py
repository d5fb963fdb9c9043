"""Reading results: real files from real projects, output of the real tools, and the pitfalls Tempest has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rdoflow.tasks.results.model import REASON_CHARS, ResultFileError, RunMeta
from rdoflow.tasks.results.readers import read_run
from tests.results_streams import write

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
META = RunMeta(run_id="r1", label="pre", suite="tempest")
BIN = Path(sys.executable).parent


def test_a_real_stestr_v1_run_reads_with_its_counts():
    table = read_run(FIXTURES / "tacker-stestr-12", META)
    assert len(table) == 502
    assert table["status"].value_counts().to_dict() == {"pass": 318, "skip": 180, "fail": 4}
    assert table.loc[table["status"] == "fail", "reason"].str.contains("Traceback").all()


def test_exists_events_are_folded_and_uxsuccess_is_kept_apart():
    table = read_run(FIXTURES / "rally-subunit_v2.stream", META)
    assert len(table) == 7  # each test is listed once as 'exists' first: not 14
    assert table["status"].value_counts().to_dict() == {"fail": 3, "pass": 2, "skip": 1, "uxsuccess": 1}


def test_setupclass_records_are_fixtures_of_their_class_not_tests():
    table = read_run(FIXTURES / "stestr-all_skips.subunit", META)
    assert table["fixture"].all()
    assert table["class_name"].iloc[0].startswith("tempest.api.data_processing.")
    assert (table["reason"] == "Sahara support is required").all()


def test_junit_without_classname_and_with_a_duplicated_id():
    table = read_run(FIXTURES / "fuelccp-tempest.xml", META)
    assert table["status"].value_counts().to_dict()["skip"] == 676
    assert table["flaky_in_run"].sum() == 1
    assert table["test_id"].is_unique


def test_subunit_v1_and_its_v2_conversion_by_subunit_1to2_read_the_same(tmp_path):
    v2 = tmp_path / "run.subunit"
    with open(FIXTURES / "tacker-stestr-12", "rb") as v1, open(v2, "wb") as out:
        subprocess.run([BIN / "subunit-1to2"], stdin=v1, stdout=out, check=True)
    left, right = read_run(FIXTURES / "tacker-stestr-12", META), read_run(v2, META)
    assert left[["test_id", "status"]].equals(right[["test_id", "status"]])


def test_junit_from_subunit2junitxml_reads_like_the_stream_it_came_from(tmp_path):
    xml = tmp_path / "run.xml"
    with open(FIXTURES / "rally-subunit_v2.stream", "rb") as stream, open(xml, "wb") as out:
        subprocess.run([BIN / "subunit2junitxml"], stdin=stream, stdout=out)  # exits 1: the run has failures
    from_xml, from_stream = read_run(xml, META), read_run(FIXTURES / "rally-subunit_v2.stream", META)
    assert set(from_xml["test_id"]) == set(from_stream["test_id"])
    failing = {"fail", "uxsuccess"}
    assert set(from_xml.loc[from_xml["status"] == "fail", "test_id"]) == \
        set(from_stream.loc[from_stream["status"].isin(failing), "test_id"])


def test_a_stestr_repository_directory_reads_its_latest_run(tmp_path):
    (tmp_path / ".stestr.conf").write_text("[DEFAULT]\ntest_path=./suite\ntop_dir=./\n")
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "__init__.py").write_text("")
    (tmp_path / "suite" / "test_real.py").write_text(
        "import unittest\n\nclass T(unittest.TestCase):\n"
        "    def test_ok(self):\n        pass\n"
        "    def test_bad(self):\n        self.assertEqual(1, 2)\n"
        "    @unittest.skip('not here')\n    def test_skipped(self):\n        pass\n")
    for _ in range(2):
        subprocess.run([BIN / "stestr", "run"], cwd=tmp_path, capture_output=True)
    table = read_run(tmp_path, META)
    assert dict(zip(table["test_id"], table["status"])) == {
        "suite.test_real.T.test_bad": "fail", "suite.test_real.T.test_ok": "pass",
        "suite.test_real.T.test_skipped": "skip"}
    assert "AssertionError: 1 != 2" in table.set_index("test_id").loc["suite.test_real.T.test_bad", "reason"]


def test_tempest_attributes_are_split_off_the_test_id(tmp_path):
    path = write(tmp_path / "s", [("tempest.api.a.T.test_x[id-1234,smoke,negative]", "success", 1, None)])
    row = read_run(path, META).iloc[0]
    assert (row.test_id, row.tags, row.idempotent_id) == ("tempest.api.a.T.test_x", "smoke,negative", "1234")
    assert row.duration == 1.0 and row.worker == "worker-0"


def test_a_retried_test_keeps_its_last_status_and_is_marked_flaky_in_run(tmp_path):
    path = write(tmp_path / "s", [("m.C.test_a", "fail", 1, "boom"), ("m.C.test_b", "success", 1, None),
                                  ("m.C.test_a", "success", 1, None)])
    table = read_run(path, META).set_index("test_id")
    assert table.loc["m.C.test_a", "status"] == "pass" and table.loc["m.C.test_a", "flaky_in_run"]
    assert not table.loc["m.C.test_b", "flaky_in_run"]


def test_two_tests_of_one_name_told_apart_by_their_idempotent_id_both_stay(tmp_path):
    """heat-tempest-plugin 3.0.0 has such pairs (test_heat_api's gabbi tests): one name, two ids. Each
    keeps its id in its name; the same name and id twice is still a retry."""
    name = "heat_tempest_plugin.tests.api.test_heat_api.stacks_create_stack.test_request"
    path = write(tmp_path / "s", [(f"{name}[id-aa]", "success", 1, None), (f"{name}[id-bb]", "fail", 1, "boom"),
                                  (f"{name}[id-bb]", "success", 1, None), ("m.C.test_a", "success", 1, None)])
    table = read_run(path, META).set_index("test_id")
    assert sorted(table.index) == [f"{name}[id-aa]", f"{name}[id-bb]", "m.C.test_a"]
    assert table.loc[f"{name}[id-bb]", "status"] == "pass" and table.loc[f"{name}[id-bb]", "flaky_in_run"]
    assert not table.loc[f"{name}[id-aa]", "flaky_in_run"]


def test_unicode_and_a_huge_traceback_are_kept_trimmed_to_their_end(tmp_path):
    huge = "Traceback (most recent call last):\n" + "  frame ✓ ünïcode\n" * 20000 + "ValueError: the end ☃"
    table = read_run(write(tmp_path / "s", [("m.C.test_u", "fail", 1, huge)]), META)
    reason = table.iloc[0]["reason"]
    assert reason.endswith("ValueError: the end ☃") and len(reason) < REASON_CHARS + 50


def test_a_test_in_progress_at_the_end_of_the_stream_counts_as_failed(tmp_path):
    table = read_run(write(tmp_path / "s", [("m.C.test_ok", "success", 1, None), ("m.C.test_hung", None, 5, None)]),
                     META).set_index("test_id")
    assert table.loc["m.C.test_hung", "status"] == "fail"
    assert "never finished" in table.loc["m.C.test_hung", "reason"]


def test_a_truncated_stream_is_an_error_with_the_byte_offset(tmp_path):
    whole = write(tmp_path / "whole", [(f"m.C.test_{i}", "success", 1, None) for i in range(20)]).read_bytes()
    (tmp_path / "cut").write_bytes(whole[: len(whole) - 7])
    with pytest.raises(ResultFileError, match=r"truncated subunit v2 stream near byte \d+ of \d+"):
        read_run(tmp_path / "cut", META)


@pytest.mark.parametrize("name", ["rally-subunit_v2.stream", "stestr-all_skips.subunit", "pitfalls"])
def test_the_fast_v2_reader_gives_what_python_subunit_gives(tmp_path, name):
    from rdoflow.tasks.results.model import frame
    from rdoflow.tasks.results.readers import read_subunit_v2, read_subunit_v2_reference

    if name == "pitfalls":
        path = write(tmp_path / "s", [("t.a.C.test_x[id-9,smoke]", "fail", 1, "Tracé ☃\n" * 3000),
                                      ("setUpClass (t.a.D)", "fail", 0, "boom"), ("t.a.C.test_x[id-9,smoke]", "success", 2, None),
                                      ("t.a.C.test_y", "skip", 0, "off"), ("t.a.C.test_hung", None, 3, None)])
    else:
        path = FIXTURES / name
    data = path.read_bytes()
    fast, reference = frame(read_subunit_v2(name, data), META), frame(read_subunit_v2_reference(name, data), META)
    # python-subunit rounds timestamps to microseconds; the fast reader keeps nanoseconds
    pd.testing.assert_frame_equal(fast, reference, check_exact=False, atol=1e-5)


def test_a_file_that_is_not_results_is_refused_without_echoing_its_bytes(tmp_path):
    (tmp_path / "passwd").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(ResultFileError) as refused:
        read_run(tmp_path / "passwd", META)
    assert "starts with 16 bytes that are not subunit, JUnit XML or JSON" in refused.value.message
    assert "root" not in refused.value.message.replace(str(tmp_path), "")


def test_a_corrupt_stream_is_refused_without_its_bytes_or_a_control_character(tmp_path):
    corrupt = bytearray(write(tmp_path / "s", [("m.C.test_\x1b[31mred", "success", 1, None)]).read_bytes())
    corrupt[-1] ^= 0xFF  # a bad CRC: python-subunit reports the packet
    (tmp_path / "s").write_bytes(bytes(corrupt) + b"\xb3\x1b[2J")
    with pytest.raises(ResultFileError, match=r"corrupt or truncated subunit v2 stream near byte \d+") as refused:
        read_run(tmp_path / "s", META)
    shown = refused.value.render().replace(str(tmp_path), "")
    assert "test_" not in shown and "[2J" not in shown
    assert not any(ord(c) < 32 and c != "\n" or 127 <= ord(c) < 160 for c in shown), repr(shown)


def test_a_password_in_a_failure_message_is_masked_when_the_run_is_read(tmp_path):
    table = read_run(write(tmp_path / "s", [("m.C.test_login", "fail", 1,
                                             'Traceback\nAssertionError: body {"password": "hunter2-s3cr3t"}')]), META)
    assert "hunter2-s3cr3t" not in table.loc[0, "reason"] and "**********" in table.loc[0, "reason"]
