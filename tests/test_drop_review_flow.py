"""The drop-review flow on the Prefect test server, against a DLRN tree served on 127.0.0.1: the first drop is the
baseline, the second is reviewed against it, and the same drop reviewed again gives the same news from the
review cache. The distgits are local git repositories of real RDO specs (tests/drop_fixtures.py)."""

from __future__ import annotations

import pytest

from tests.conftest import artifact_of, task_runs_of
from tests.dlrn_tree import DlrnTree
from tests.drop_fixtures import FIXTURES, OSC_LIB_SOURCE, make_drops
from tests.loopback_http import serve_directory


def _publish(tree: DlrnTree, distro: str, versions_csv: str, built: int) -> str:
    full = tree.build(OSC_LIB_SOURCE, distro, built)
    (tree.root / OSC_LIB_SOURCE[:2] / OSC_LIB_SOURCE[2:4] / full / "versions.csv").write_text(versions_csv)
    tree.promote(full)
    return full


def test_the_first_drop_is_the_baseline_and_the_next_is_reviewed_against_it(prefect_server, tmp_path):
    from rdoflow.config.site import DropReviewSite
    from rdoflow.flows.drop_review import drop_review
    from rdoflow.tasks.prerelease.drop_review import DropReviewFailed
    from rdoflow.tasks.prerelease.tested import TestedDrops

    drops = make_drops(tmp_path / "distgits")
    dlrn, store = tmp_path / "dlrn", str(tmp_path / "results")
    dlrn.mkdir()
    with serve_directory(dlrn) as url, serve_directory(FIXTURES / "sdists") as mirror:
        tree = DlrnTree(dlrn, url)
        options = DropReviewSite(base_url=url, rdoinfo=str(FIXTURES / "rdoinfo"), info_files="rdo.yml",
                                 distgit_protocols=["file", "https"], source_mirror=mirror,
                                 allow_hosts=["127.0.0.1"], fetch_timeout=60)
        first = _publish(tree, drops.osc_lib[0], drops.first, 1726488000)
        baseline = drop_review(options, store=store, report_dir=tmp_path / "r1")
        assert (baseline.drop, baseline.baseline, baseline.reviewed, baseline.verdict) == (first, True, {}, "pass")
        assert TestedDrops(store).last("current-passed-ci").drop == first

        second = _publish(tree, drops.osc_lib[1], drops.second, 1726574400)
        state = drop_review(options, store=store, report_dir=tmp_path / "r2", fail=False, return_state=True)
        review = state.result()
        assert (review.drop, review.previous) == (second, first)
        assert review.new_failures() == {"python-osc-lib": ["CheckLicenseTag"]}
        assert review.reviewed["python-stevedore"].diffs[0].fixed == ["CheckLicenseTag"]
        assert list(review.failed) == ["python-oslo-middleware"]
        assert review.reports["html"].endswith("r2/drop-review.html")
        whole = (tmp_path / "r2" / "drop-review-packages" / "python-osc-lib.md").read_text()
        assert whole.startswith("# Package review: python-osc-lib-3.1.0-1.el9: FAIL")  # the new version, whole
        assert "❌ new failure: `CheckLicenseTag`" in artifact_of(state.state_details.flow_run_id, "drop-review").data
        remembered = TestedDrops(store).last("current-passed-ci")
        assert remembered.drop == second  # and the package that could not be fetched keeps its old row:
        assert remembered.versions.packages["python-oslo-middleware"].dist_sha == "1" * 40

        again = drop_review(options, store=store, report_dir=tmp_path / "r3", return_state=True)
    assert again.is_failed()
    with pytest.raises(DropReviewFailed) as caught:
        again.result()
    assert caught.value.evidence[0] == "python-osc-lib: newly fails CheckLicenseTag"  # against the first, not itself
    states = {run.state.name for run in task_runs_of(again.state_details.flow_run_id)
              if run.task_key.startswith("review_package")}
    assert states == {"Cached"}  # every version was reviewed by the previous run
