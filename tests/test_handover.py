"""The handover report of one run: per area what passed, what failed and why, one page in HTML and Markdown."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from rdoflow.reports.handover import markdown
from rdoflow.tasks.regression.stage import leave_handover, store_run
from rdoflow.tasks.regression.suites import SuiteRun
from rdoflow.tasks.results.handover import first_real_line, handover
from rdoflow.tasks.results.model import RunMeta
from rdoflow.tasks.results.readers import read_run
from tests.cli_runner import rdoflow
from tests.results_streams import write

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
FUELCCP = FIXTURES / "fuelccp-tempest.xml"  # a real full Tempest run: 1,682 results, 133 failures
NODES = "ironic_tempest_plugin.tests.api.admin.test_nodes.TestNodes.test_create_node"
STACKS = "heat_tempest_plugin.tests.api.test_heat_api.test_stacks_list"
IDENTITY = "tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_update_user_password"
TRACEBACK = ('Traceback (most recent call last):\n  File "tempest/lib/common/rest_client.py", line 768, in _error_checker\n'
             "    raise exceptions.BadRequest(resp_body, resp=resp)\ntempest.lib.exceptions.BadRequest: Bad request\n"
             'Details: {"auth": {"password": "hunter2-s3cr3t"}}\n')


@pytest.fixture(scope="module")
def fuelccp():
    meta = RunMeta(run_id="fuelccp", suite="tempest", label="post")
    return handover(read_run(FUELCCP, meta), meta)


def test_a_real_run_says_per_area_whether_it_passed_and_the_totals(fuelccp):
    outcomes = {area.results.area: (area.outcome, area.results.tests, area.failing) for area in fuelccp.areas}
    assert outcomes == {"identity": ("pass", 189, 0), "compute-and-volumes": ("fail", 718, 72),
                        "networking": ("fail", 282, 21), "bare-metal": ("not run", 70, 0),
                        "orchestration": ("fail", 46, 34), "admin": ("fail", 337, 6), "other": ("not run", 40, 0)}
    assert fuelccp.totals == {"pass": 873, "fail": 133, "skip": 676, "xfail": 0, "uxsuccess": 0, "error": 0,
                              "tests": 1682}


def test_each_failed_area_lists_its_failures_with_the_exception_as_why(fuelccp):
    orchestration = next(area for area in fuelccp.areas if area.results.area == "orchestration")
    assert len(orchestration.failed) == 10  # at most that many per area; the page says how many more
    assert all(test.test_id.startswith("tempest.api.orchestration.") for test in orchestration.failed)
    assert orchestration.failed[0].why.startswith("tempest.lib.exceptions.BadRequest: Bad request Details: {")
    text = markdown(fuelccp)
    assert text.startswith("# Handover: 4 of 7 areas failed: Compute and volumes, Networking, Orchestration, "
                           "Administration\n")
    assert "| Bare metal | Nodes, ports, allocations" in text and "| ➖ not run | 0 | 0 | 70 |" in text
    assert "## Orchestration: 34 failed of 46" in text and "… and 24 more" in text


@pytest.mark.parametrize(("reason", "why"), [
    (TRACEBACK, 'tempest.lib.exceptions.BadRequest: Bad request Details: {"auth": {"password": "**********"}}'),
    ("Feature not enabled\nsecond line", "Feature not enabled"),
    ("did not run: setUpClass of its class failed: Traceback (most recent call last):\n"
     '  File "t.py", line 1, in setUpClass\n    boom()\nValueError: no nodes', "ValueError: no nodes"),
    ("", ""),
])
def test_why_is_the_failures_first_real_line_redacted(reason, why):
    assert first_real_line(reason) == why


def test_names_and_reasons_cannot_add_markup_to_either_page(tmp_path):
    name = "tempest.api.identity.v3.T.test_`x`_<img src=x>|y"
    raw = write(tmp_path / "run", [(name, "fail", 1, "Oops <script>alert(1)</script> | `tick`"),
                                   (STACKS, "success", 1, None)])
    result = rdoflow("results", "handover", str(raw), "--reports", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    md = next((tmp_path / "out").glob("*.md")).read_text()
    html = next((tmp_path / "out").glob("*.html")).read_text()
    assert "<img" not in md and "<script" not in md
    assert "| <code>tempest.api.identity.v3.T.test_\\`x\\`_&lt;img src=x>\\|y</code> | Oops &lt;script>alert(1)&lt;/script> \\| \\`tick\\` |" in md
    assert "<img" not in html and "<script>" not in html and "&lt;script&gt;alert(1)" in html


def test_a_stored_run_is_found_by_its_id_and_a_wrong_id_is_bad_input(tmp_path):
    pre = write(tmp_path / "pre", [(IDENTITY, "success", 1, None), (NODES, "success", 1, None)])
    post = write(tmp_path / "post", [(IDENTITY, "success", 1, None), (NODES, "fail", 1, TRACEBACK)])
    store = str(tmp_path / "store")
    assert rdoflow("compare", str(pre), str(post), "--store", store, "--reports", str(tmp_path)).exit_code == 1
    run_id = next(p.name.removeprefix("run_id=") for p in (tmp_path / "store").glob("suite=*/run_id=post-*"))
    result = rdoflow("results", "handover", run_id, "--store", store, "--html", str(tmp_path / "h.html"),
                     "--md", str(tmp_path / "h.md"))
    assert result.exit_code == 0, result.output
    assert "handover: 1 of 2 areas failed: Bare metal" in result.output
    assert "Bare metal: fail (1 tests, 1 failed)" in result.output and "hunter2-s3cr3t" not in result.output
    md = (tmp_path / "h.md").read_text()
    assert f"Run `{run_id}` (suite tempest, label post)" in md and "hunter2-s3cr3t" not in md
    assert "BadRequest: Bad request Details:" in (tmp_path / "h.html").read_text()
    missing = rdoflow("results", "handover", "post-000000000000", "--store", store)
    assert missing.exit_code == 2 and "post-000000000000" in missing.output and "rdoflow results list" in missing.output


def test_the_regression_stage_leaves_the_handover_beside_its_summary(tmp_path):
    raw = write(tmp_path / "raw.subunit", [(IDENTITY, "success", 1, None), (NODES, "fail", 1, TRACEBACK)])
    suite_run = SuiteRun(kind="tempest", label="pre", host="stack@uc:22", workdir="/w", result_file=str(raw),
                         started_at=datetime(2026, 12, 7, tzinfo=timezone.utc), duration=2.0, expected=2, exit_status=1)
    location = str(tmp_path / "store")
    stored = store_run(suite_run, location, drop="abc123")
    files, urls = leave_handover(stored, location, tmp_path / "reports", "https://ci.example/rdoflow/")
    assert files == {"md": str(tmp_path / "reports/handover-pre.md"), "html": str(tmp_path / "reports/handover-pre.html")}
    md = Path(files["md"]).read_text()
    assert "# Handover: 1 of 2 areas failed: Bare metal" in md and "drop abc123" in md
    assert "| Identity | " in md and "| ✅ pass | 1 | 0 | 0 |" in md
    # The same pages in the store, under the run's id, at the site's public URL; the secret stays out of both.
    in_store = f"reports/tempest/{stored.meta.run_id}/handover"
    assert urls == {"html": f"https://ci.example/rdoflow/{in_store}.html", "md": f"https://ci.example/rdoflow/{in_store}.md"}
    assert (tmp_path / "store" / f"{in_store}.md").read_text() == md
    stored_html = (tmp_path / "store" / f"{in_store}.html").read_text()
    assert "BadRequest: Bad request Details:" in stored_html and "hunter2-s3cr3t" not in stored_html
