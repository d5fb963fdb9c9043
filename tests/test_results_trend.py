"""The trend over drops: which drop broke which test, from the results store, on the CLI and as a page.

The store is made the way a pipeline makes it, one pre/post comparison per drop (``compare_files``: both runs
stored, the verdict beside the post run, the reports in the store), from real result files: tacker's stestr
runs 60 and 12 as they are (run 12 has three tests failing that pass in run 60), then run 60 re-written with
python-subunit with chosen tests failing with run 12's real traceback, so each drop breaks known tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from html.parser import HTMLParser
from pathlib import Path

import fsspec
import pytest

from rdoflow.config.site import ComparisonPolicy
from rdoflow.errors import ConfigError
from rdoflow.tasks.results.model import RunMeta
from rdoflow.tasks.results.readers import read_run
from rdoflow.tasks.results.runs import compare_files
from rdoflow.tasks.results.store import ResultsStore
from rdoflow.tasks.results.trend import trend
from tests.cli_runner import rdoflow
from tests.results_streams import write

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
K8S = "tacker.tests.unit.nfvo.drivers.vim.test_kubernetes_driver.TestKubernetes_Driver."
BROKEN_BY_RUN_12 = [K8S + "test_deregister_vim", K8S + "test_deregister_vim_barbican",
                    K8S + "test_encode_vim_auth_barbican"]
SFC = ("tacker.tests.unit.nfvo.drivers.vnffg.sfc_drivers.networking-sfc.test_n_sfc.TestChainSFC."
       "test_delete_flow_classifier")
NSD = "tacker.tests.unit.nfvo.test_nfvo_plugin.TestNfvoPlugin.test_create_nsd_inline"
VNFFGD = "tacker.tests.unit.nfvo.test_nfvo_plugin.TestNfvoPlugin.test_create_vnffgd"  # fails, passes, fails again
# DLRN drops are named by their hashes (commit_distro); five, oldest first.
D1, D2, D3, D4, D5 = ("4f0c1a2b_9d8e7f6a", "7b3e5d4c_1a2b3c4d", "a9c8d7e6_5f4e3d2c", "c1d2e3f4_a5b6c7d8",
                      "e7f8a9b0_c1d2e3f4")
TIMEOUT = ('Traceback (most recent call last):\n  File "tacker/tests/base.py", line 40, in run\n'
           "fixtures._fixtures.timeout.TimeoutException\n")


def _run_60_with(path: Path, failing: dict[str, str]) -> Path:
    """tacker's run 60 as a subunit v2 stream, the tests of ``failing`` failed with the traceback given."""
    run = read_run(FIXTURES / "tacker-stestr-60", RunMeta(run_id="60"))
    status = {"pass": "success", "skip": "skip"}
    return write(path, [(row.test_id, "fail" if row.test_id in failing else status[row.status], row.duration,
                         failing.get(row.test_id) or row.reason or None) for row in run.itertuples()])


def _make_drops(files: Path, location: str, public_url: str | None = None) -> list[Path]:
    """Five drops, each compared with the one before (its pre-upgrade run) and stored."""
    real = read_run(FIXTURES / "tacker-stestr-12", RunMeta(run_id="12"))
    nosuchopt = real.loc[real["test_id"] == BROKEN_BY_RUN_12[0], "reason"].item()  # a real traceback
    posts = [FIXTURES / "tacker-stestr-60", FIXTURES / "tacker-stestr-12",
             _run_60_with(files / "d3", {SFC: nosuchopt, VNFFGD: nosuchopt}),
             _run_60_with(files / "d4", {SFC: nosuchopt, NSD: nosuchopt}),
             _run_60_with(files / "d5", {SFC: nosuchopt, VNFFGD: TIMEOUT})]
    pre = posts[0]
    for drop, post in zip((D1, D2, D3, D4, D5), posts):
        compare_files(pre, post, policy=ComparisonPolicy(), location=location, report_dir=files / drop,
                      suite="tacker", drop=drop, public_url=public_url)
        pre = post
    return posts


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("trend")
    (base / "files").mkdir()
    _make_drops(base / "files", str(base / "store"))
    return str(base / "store")


def _by_drop(found):
    return {drop.drop: drop for drop in found.drops}


def test_each_drop_names_the_tests_it_broke_and_fixed_since_the_drop_before(store):
    drops = _by_drop(trend(store))
    assert list(drops) == [D1, D2, D3, D4, D5]
    broke = {name: [t.test_id for t in drop.introduced] for name, drop in drops.items()}
    fixed = {name: [t.test_id for t in drop.fixed] for name, drop in drops.items()}
    assert broke == {D1: [], D2: BROKEN_BY_RUN_12, D3: [SFC, VNFFGD], D4: [NSD], D5: [VNFFGD]}
    assert fixed == {D1: [], D2: [], D3: BROKEN_BY_RUN_12, D4: [VNFFGD], D5: [NSD]}
    assert drops[D1].previous is None and drops[D3].previous == D2
    why = {t.test_id: t.why for t in drops[D3].introduced + drops[D5].introduced}
    assert why[SFC].startswith("oslo_config.cfg.NoSuchOptError: no such option kubernetes_fernet_path")
    assert drops[D5].introduced[0].why == "fixtures._fixtures.timeout.TimeoutException"


def test_each_drop_has_the_verdict_stored_beside_its_post_run(store):
    drops = _by_drop(trend(store))
    assert {name: drop.verdict for name, drop in drops.items()} == {D1: "pass", D2: "fail", D3: "fail", D4: "fail",
                                                                    D5: "pass"}
    assert any(NSD in reason for reason in drops[D4].reasons)
    # D5 broke test_create_vnffgd again, but its verdict excused it: the store's history saw it flip before.
    assert drops[D5].reasons == ["1 test in 'regression' are known failures or flaky: they do not fail the verdict"]
    record = ResultsStore(store).verdict("tacker", drops[D4].run_id)
    assert (record.outcome, record.drop, record.post) == ("fail", D4, drops[D4].run_id)
    assert record.pre == f"pre-{drops[D3].run_id.rsplit('-', 1)[1]}"  # D4's pre-upgrade run: D3's result file
    html = drops[D4].reports["html"]
    assert html == (Path(store) / "reports" / "tacker" / drops[D4].run_id / "comparison.html").as_uri()
    assert NSD in Path(html.removeprefix("file://")).read_text()


def test_a_test_that_fails_and_passes_by_turns_is_listed_as_flipping(store):
    found = trend(store)
    flips = {test.test_id: test.flips for test in found.flaky}
    assert found.flaky[0].test_id == VNFFGD and flips[VNFFGD] == 3
    assert found.flaky[0].broken_in == [D3, D5] and found.flaky[0].fixed_in == [D4]
    assert SFC not in flips  # broken once and still broken: a regression, not a flip back
    assert flips[NSD] == 2 and set(BROKEN_BY_RUN_12) <= set(flips)  # broken, then fixed by the next drop


def test_the_last_n_drops_read_n_plus_one_tables_and_no_other(store, monkeypatch):
    """The store's read is wrapped, not replaced: each call still reads the real Parquet file, and the wrapper only
    counts which runs were read (no other way exists to see what the trend reads)."""
    read, original = [], ResultsStore.read

    def recorded(self, suite, run_id, columns=None):
        read.append(run_id)
        return original(self, suite, run_id, columns)

    monkeypatch.setattr(ResultsStore, "read", recorded)
    drops = _by_drop(trend(store, drops=3))
    assert list(drops) == [D3, D4, D5] and drops[D3].previous == D2
    assert [t.test_id for t in drops[D3].introduced] == [SFC, VNFFGD]  # what D3 broke: D2's run read to say it
    everything = _by_drop(trend(store))
    assert sorted(read[:4]) == sorted(everything[d].run_id for d in (D2, D3, D4, D5))
    assert len(read) == 4 + 5


def test_a_run_whose_table_is_gone_is_said_for_its_drop_alone(store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    first = _by_drop(trend(str(copy)))[D1].run_id
    (copy / "suite=tacker" / f"run_id={first}" / "results.parquet").unlink()
    drops = _by_drop(trend(str(copy)))
    assert drops[D1].unreadable.startswith("its results could not be read: FileNotFoundError")
    assert drops[D2].introduced == [] and drops[D2].verdict == "fail"  # nothing to compare it with
    assert [t.test_id for t in drops[D3].introduced] == [SFC, VNFFGD]


def test_a_verdict_file_that_is_not_one_is_said_for_its_drop_alone(store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    run_id = _by_drop(trend(str(copy)))[D4].run_id
    (copy / "suite=tacker" / f"run_id={run_id}" / "verdict.json").write_text('{"outcome": "green"}')
    drops = _by_drop(trend(str(copy)))
    assert drops[D4].verdict is None and drops[D4].unreadable.startswith("its verdict.json could not be read")
    assert [t.test_id for t in drops[D4].introduced] == [NSD] and drops[D5].verdict == "pass"


def test_the_cli_answers_which_drop_broke_a_test(store, tmp_path):
    result = rdoflow("results", "trend", "--store", store, "--test", "test_create_vnffgd", "--json",
                     str(tmp_path / "trend.json"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"trend: tacker, last 5 drops: 7 tests broken; latest {D5}: PASS"
    rows = [line.split()[0] for line in lines[2:] if line[:1] not in (" ", "") and "_" in line.split()[0]]
    assert rows[:5] == [D5, D4, D3, D2, D1]  # newest first
    after_d4 = lines[lines.index(next(line for line in lines if line.startswith(D4))) + 1]
    assert after_d4.startswith(f"    broke: {NSD}  (oslo_config.cfg.NoSuchOptError")
    assert f"{VNFFGD}: broke in {D3}, {D5}; fixed in {D4} (oldest first: pass pass fail pass fail)" in lines
    assert f"{VNFFGD}_inline: not broken by these drops (oldest first: pass pass pass pass pass)" in lines
    saved = json.loads((tmp_path / "trend.json").read_text())
    assert [drop["drop"] for drop in saved["drops"]] == [D1, D2, D3, D4, D5] and saved["tests_matched"] == 2


@pytest.mark.parametrize(("args", "words"), [
    (["--drops", "0"], "--drops: expected at least 1 drop, got 0"),
    (["--suite", "tempest"], "no post-upgrade run of suite 'tempest' is stored"),
    (["--test", "test_no_such_thing"], "--test: no test id containing 'test_no_such_thing' in the last 5 drops"),
    (["--public-url", "https://bob:hunter2@ci.example/"], "--public-url: expected a URL without a user or password"),
])
def test_bad_input_exits_2_naming_what_was_wrong(store, args, words):
    result = rdoflow("results", "trend", "--store", store, *args)
    assert result.exit_code == 2 and words in result.stderr, result.output
    assert "hunter2" not in result.output


def test_a_store_of_several_suites_needs_one_named(store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    compare_files(FIXTURES / "tacker-stestr-12", FIXTURES / "tacker-stestr-60", policy=ComparisonPolicy(),
                  location=str(copy), report_dir=tmp_path / "r", suite="tempest")
    with pytest.raises(ConfigError, match=r"post-upgrade runs of 2 suites are stored \(tacker, tempest\)"):
        trend(str(copy))
    assert [drop.drop for drop in trend(str(copy), "tacker").drops] == [D1, D2, D3, D4, D5]


def test_runs_without_a_drop_stand_for_the_day_they_ran(tmp_path):
    compare_files(FIXTURES / "tacker-stestr-60", FIXTURES / "tacker-stestr-12", policy=ComparisonPolicy(),
                  location=str(tmp_path / "store"), report_dir=tmp_path / "r", suite="tacker")
    [drop] = trend(str(tmp_path / "store")).drops
    stored = ResultsStore(str(tmp_path / "store")).runs("tacker")[-1]["stored_at"]
    assert drop.drop == f"(no drop) {stored[:10]}" and drop.verdict == "fail" and drop.previous is None


def test_a_memory_store_keeps_the_reports_and_links_them_at_the_public_url(tmp_path):
    location = f"memory://trend-{uuid.uuid4().hex}"
    fs, root = fsspec.core.url_to_fs(location)
    try:
        _make_drops(tmp_path, location, public_url="https://ci.example/rdoflow/")
        drops = _by_drop(trend(location, public_url="https://ci.example/rdoflow/"))
        run_id = drops[D3].run_id
        assert drops[D3].reports["html"] == f"https://ci.example/rdoflow/reports/tacker/{run_id}/comparison.html"
        assert sorted(fs.ls(f"{root}/reports/tacker/{run_id}", detail=False)) == [
            f"{root}/reports/tacker/{run_id}/comparison.{ext}" for ext in ("html", "json", "junit.xml", "md")]
        report = json.loads(fs.cat_file(f"{root}/reports/tacker/{run_id}/comparison.json"))
        assert report["tests"]["regression"] == [SFC, VNFFGD] and report["post"]["drop"] == D3
        assert [t.test_id for t in drops[D3].introduced] == [SFC, VNFFGD]
    finally:
        fs.rm(root, recursive=True)


def test_names_from_the_runs_are_escaped_in_the_page_and_the_markdown(tmp_path):
    hostile_drop = '<img src=x onerror="alert(1)">'
    hostile_test = "m.C.test_<script>alert(2)</script>"
    pre = write(tmp_path / "pre", [(hostile_test, "success", 1, None)])
    post = write(tmp_path / "post", [(hostile_test, "fail", 1, "Traceback\nValueError: <b>bold</b> | pipe")])
    for drop, run in (("ok", pre), (hostile_drop, post)):
        compare_files(pre, run, policy=ComparisonPolicy(), location=str(tmp_path / "store"),
                      report_dir=tmp_path / "r", suite="s", drop=drop)
    result = rdoflow("results", "trend", "--store", str(tmp_path / "store"), "--html", str(tmp_path / "t.html"),
                     "--md", str(tmp_path / "t.md"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "t.html").read_text()
    assert "<img" not in page and "<script" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page and "test_&lt;script&gt;" in page
    md = (tmp_path / "t.md").read_text()
    assert "<img" not in md and "<script" not in md and "<b>" not in md
    assert "<code>&lt;img src=x onerror=\"alert(1)\"></code>" in md


class _Tables(HTMLParser):
    """The text of each cell of each table of a page, by the table's id."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag in ("li", "br") and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: .ci/run installs it")
def test_the_page_lists_the_drops_with_the_regressions_each_introduced_in_a_browser(store, tmp_path):
    from tests.test_html_report import FLAGS, console_errors

    page = tmp_path / "trend.html"
    assert rdoflow("results", "trend", "--store", store, "--drops", "4", "--test", "test_create_vnffgd",
                   "--html", str(page)).exit_code == 0
    with tempfile.TemporaryDirectory() as profile:
        dump = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0 and console_errors(dump.stderr) == []
    parser = _Tables()
    parser.feed(dump.stdout)
    head, *rows = parser.tables["drops"]
    assert head[:3] == ["drop", "when", "verdict"] and len(rows) == 4
    column = head.index("broke (since the drop before)")
    broke = {row[0].split()[0]: row[column] for row in rows}
    assert list(broke) == [D5, D4, D3, D2]
    for drop, tests in ((D5, [VNFFGD]), (D4, [NSD]), (D3, [SFC, VNFFGD]), (D2, BROKEN_BY_RUN_12)):
        assert broke[drop].startswith(f"{len(tests)} ") and all(test in broke[drop] for test in tests), drop
    assert NSD not in broke[D3] and SFC not in broke[D5]
    assert [row[0] for row in parser.tables["tests"][1:]] == [VNFFGD, VNFFGD + "_inline"]
    assert parser.tables["tests"][1][1:4] == ["pass", "fail", "pass"]  # D2, D3, D4 for test_create_vnffgd
