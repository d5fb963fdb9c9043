"""A pre-release drop end to end in the lab (lab.yaml ``dlrn: true``): the lab's DLRN publishes a drop, the watch
sees it as new, the nightly for it applies it to the undercloud, reviews the package it changed against the
last drop tested and votes the result to DLRN, where it is read back; a drop whose upgrade regresses votes
failure with the report's URL.

All real on loopback: DLRN 0.26.1's API and its repositories (RPMs built with rpmbuild from each package's
distgit, a git repository served over HTTP), the host's rpm and dnf, sshd, Ironic, Heat, the Prefect server.
The nightly is called directly, not through a worker: the worker path (a deployment started by the watch) is
tests/test_deployments_server.py's. One nightly in all: the failing drop goes through the nightly's
upgrade-regression stage and its ballot alone, on the cloud the nightly left.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.variables import Variable

from rdoflow.blocks import DlrnApiCredentials
from rdoflow.config.site import load_site
from rdoflow.errors import ResourceFailed
from rdoflow.flows.drop_review import drop_review
from rdoflow.flows.nightly import nightly
from rdoflow.flows.upgrade_regression import upgrade_regression
from rdoflow.flows.watch_prerelease import watch_prerelease
from rdoflow.lab import config as labconfig
from rdoflow.lab.drops import PackageBuild, publish_drop
from rdoflow.lab.site import LAB_DLRN_BLOCK, with_vote
from rdoflow.tasks.pipeline.ballot import ballot
from rdoflow.tasks.pipeline.record import Pipeline
from rdoflow.tasks.prerelease.apply import locate_drop
from rdoflow.tasks.prerelease.dlrn import read_drop
from rdoflow.tasks.prerelease.trigger import variable_name
from rdoflow.tasks.prerelease.vote import VoteTarget, read_votes
from rdoflow.tasks.ssh.remote import run
from tests.conftest import fast_knobs

LAB_KNOBS = fast_knobs(nodes=3, controllers=1).model_copy(update={"dlrn": True})
pytestmark = [pytest.mark.timeout(1800), pytest.mark.slow]
CLIENT = "python-tripleoclient"


def _votes(site, drop: str) -> list:
    target = VoteTarget.for_drop(read_drop(site.drop.base_url, locate_drop(site.drop.base_url, drop), timeout=30))
    return read_votes(DlrnApiCredentials.load(LAB_DLRN_BLOCK), target)


@pytest.fixture(scope="module")
def site(module_lab, prefect_server):
    """The lab's own site.yaml (its DLRN, drop review), voting as the lab's CI account (a saved block)."""
    site = with_vote(load_site(Path(module_lab.dir) / "site.yaml"), Path(module_lab.dir), module_lab.ports)
    # The lab's host is this machine: before its Tempest run, the regression stage waits until no
    # 'stestr run --concurrency N' runs there (a run an SSH drop left), and another lab's run on this machine
    # (another test module, another nightly) matches the lab site's N of 2.
    site.regression.concurrency = 1
    return site


@pytest.fixture(scope="module")
def drops(module_lab, site, tmp_path_factory):
    """Drop A (every package; python-tripleoclient's spec with a License that is not SPDX) tested as the
    baseline; then drop B (python-tripleoclient 20.0.5, its License fixed), which the watch sees as new, and
    the nightly for it."""
    dlrn = module_lab.dlrn()
    reports = tmp_path_factory.mktemp("pipeline-reports")
    # The worker's Prefect server is shared with the other test files: one that watched a link of the same name
    # left its last drop seen there, and this lab's first drop would be 'new' to it, not 'first'.
    Variable.unset(variable_name("current-passed-ci"))
    a = publish_drop(dlrn, {CLIENT: PackageBuild("20.0.0", tags={"License": "ASL 2.0"})})
    first = watch_prerelease(base_url=site.drop.base_url, deployment=None)
    baseline = drop_review(site.drop_review, drop=a.full_hash, store=site.results.location,
                           report_dir=reports / "baseline")
    b = publish_drop(dlrn, {CLIENT: "20.0.5"})
    seen = watch_prerelease(base_url=site.drop.base_url, deployment=None)
    summary = nightly(site=site, drop=seen.drop.full_hash, report_dir=reports / "nightly")
    return {"a": a, "b": b, "first": first, "baseline": baseline, "seen": seen, "summary": summary,
            "reports": reports}


def test_the_watch_sees_the_new_drop_and_the_nightly_for_it_passes(drops):
    assert (drops["first"].change, drops["first"].drop.full_hash) == ("first", drops["a"].full_hash)
    seen = drops["seen"]
    assert (seen.change, seen.previous_hash, seen.drop.full_hash) == ("new", drops["a"].full_hash,
                                                                     drops["b"].full_hash)
    summary = drops["summary"]
    assert summary.verdict == "pass" and summary.drop == drops["b"].full_hash
    stages = {stage.stage: stage.outcome for stage in summary.stages}
    assert stages["upgrade-regression"] == stages["drop-review"] == stages["vote"] == "pass", stages


def test_the_undercloud_ends_on_the_drops_version(site, drops):
    from rdoflow.blocks import SSHHost

    answer = run(SSHHost.from_target(site.undercloud.ssh), ["rpm", "-q", "python3-tripleoclient"]).stdout.strip()
    release = drops["b"].nvrs[CLIENT].removeprefix(f"{CLIENT}-")
    assert answer == f"python3-tripleoclient-{release}.noarch" and release.startswith("20.0.5-0.")


def test_the_drop_review_reports_the_check_the_changed_spec_flipped(drops):
    baseline = (drops["reports"] / "baseline" / "drop-review.md").read_text()
    assert "first drop tested behind current-passed-ci: the baseline" in baseline
    report = (drops["reports"] / "nightly" / "drop-review.md").read_text()
    assert CLIENT in report and "CheckLicenseTag" in report, report
    client = report.split(CLIENT, 1)[1]
    assert "fixed: `CheckLicenseTag` License is a valid SPDX expression. (fail → pass)" in client, report


def test_the_vote_is_read_back_from_the_labs_dlrn_as_success_with_the_reports_url(site, drops):
    [vote] = _votes(site, drops["b"].full_hash)
    assert (vote.job_id, vote.success, vote.user) == ("rdoflow-nightly", True, "rdoflow-ci")
    assert vote.url.startswith("file:///") and vote.url.endswith("/comparison.html")
    assert Path(vote.url.removeprefix("file://")).is_file()
    assert vote.url.removeprefix("file://").startswith(str(Path(site.results.location).resolve()))


def test_a_drop_whose_upgrade_regresses_votes_failure_with_the_reports_url(module_lab, site, drops, tmp_path):
    """Drop C, applied as the major upgrade, after which a test fails (the lab's fault): the nightly's
    upgrade-regression stage inside its ballot, as the nightly runs them."""
    c = publish_drop(module_lab.dlrn(), {"openstack-heat": "19.0.1"})
    upgrading = site.model_copy(deep=True)
    upgrading.drop.apply = "upgrade"
    before = labconfig.load(module_lab.dir)
    knobs = before.model_copy(deep=True)
    knobs.faults.fail_after_upgrade = [r"test_list_servers"]
    labconfig.save(module_lab.dir, knobs)
    try:
        with pytest.raises(ResourceFailed) as caught:
            with Pipeline("nightly", site.name, stages=["upgrade-regression", "vote"], drop=c.full_hash,
                          report_dir=tmp_path) as pipeline, ballot(pipeline, upgrading, c.full_hash, tmp_path):
                with pipeline.stage("upgrade-regression"):
                    upgrade_regression(upgrading, drop=c.full_hash, report_dir=tmp_path)
    finally:
        labconfig.save(module_lab.dir, before)
    report = caught.value.report_urls["html"]
    [vote] = _votes(site, c.full_hash)
    assert (vote.job_id, vote.success, vote.url) == ("rdoflow-nightly", False, report)
    assert report.startswith("file:///") and Path(report.removeprefix("file://")).is_file()
    assert vote.notes.startswith("compare: the regression comparison is red"), vote.notes  # the stage it failed in
    assert "test_list_servers" in vote.notes
    assert [v.success for v in _votes(site, drops["b"].full_hash)] == [True]  # B's vote is B's alone
