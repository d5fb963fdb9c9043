"""Reviewing what a drop changed, on real RDO specs: two local distgits (python-osc-lib, python-stevedore) whose
second drop flips CheckLicenseTag each way, a distgit nobody answers for (python-oslo-middleware), DLRN's own
sample rows around them, rdoinfo's real maintainers; sdists served from 127.0.0.1 in place of
tarballs.openstack.org. The reviews are the real static review (rpm, rpmbuild, rpmlint in the sandbox)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rdoflow.config.site import DropReviewSite
from rdoflow.reports.drop_review import html, markdown
from rdoflow.tasks.prerelease.changes import parse_versions_csv
from rdoflow.tasks.prerelease.dlrn import Drop
from rdoflow.tasks.prerelease.drop_review import (
    DropReviewFailed,
    partition,
    plan_review,
    require_drop_review_passed,
    review_change,
    review_settings,
    to_review,
)
from rdoflow.tasks.prerelease.origins import package_origins
from rdoflow.tasks.prerelease.tested import TestedDrop
from tests.drop_fixtures import FIXTURES, UNREACHABLE, make_drops
from tests.loopback_http import serve_directory


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """The second drop reviewed against the first, as the drop-review flow does it, with plain functions."""
    root = tmp_path_factory.mktemp("drop-review")
    drops = make_drops(root / "distgits")
    first, second = parse_versions_csv(drops.first, "first/versions.csv"), parse_versions_csv(drops.second, "second")
    drop = Drop(base_url="http://127.0.0.1:8080", link="current-passed-ci", full_hash="c5e4b35c_8170b868",
                timestamp=datetime(2024, 9, 17, tzinfo=timezone.utc), components=[])
    last = TestedDrop(link="current-passed-ci", drop="0bf9d805_11223344", base_url=drop.base_url, versions=first)
    review = plan_review(drop, second, last)
    changed = to_review(review)
    origins = package_origins(changed, str(FIXTURES / "rdoinfo"), info_files="rdo.yml", release="dalmatian")
    with serve_directory(FIXTURES / "sdists") as mirror:
        options = DropReviewSite(base_url=drop.base_url, source_mirror=mirror, allow_hosts=["127.0.0.1"])
        outcomes = [review_change(change, origins[change.project], root / "work" / change.project,
                                  review_settings(options), protocols=["file", "https"], timeout=60)
                    for change in changed]
    return partition(review, outcomes), drops


def test_a_check_the_new_version_fails_is_news_with_its_evidence(reviewed):
    review, _ = reviewed
    osc = review.reviewed["python-osc-lib"]
    [static] = osc.diffs
    assert [(c.check, c.before, c.after, c.news) for c in static.news] == [
        ("CheckLicenseTag", "pass", "fail", "new failure")]
    assert static.news[0].evidence == ["License: ASL 2.0", "not SPDX: ASL 2.0"]
    assert (static.verdict_before, static.verdict_after) == ("pass", "fail")
    assert review.new_failures() == {"python-osc-lib": ["CheckLicenseTag"]}


def test_a_check_the_new_version_passes_again_is_news_as_fixed(reviewed):
    review, _ = reviewed
    [static] = review.reviewed["python-stevedore"].diffs
    assert [(c.check, c.before, c.after, c.news) for c in static.news] == [("CheckLicenseTag", "fail", "pass", "fixed")]
    assert static.new_failures == [] and static.fixed == ["CheckLicenseTag"]


def test_the_checks_that_did_not_change_are_counted_not_listed(reviewed):
    review, _ = reviewed
    [static] = review.reviewed["python-osc-lib"].diffs
    assert static.unchanged["pass"] >= 15 and static.still_failing == []
    assert static.lint_news == []
    assert set(review.reviewed) == {"python-osc-lib", "python-stevedore"}  # nothing else was reviewed


def test_an_unreachable_distgit_fails_that_package_with_its_evidence_and_not_the_others(reviewed):
    review, _ = reviewed
    failure = review.failed["python-oslo-middleware"]
    assert failure.error.reference == "distgit-fetch-failed"
    assert failure.error.message == f"{UNREACHABLE} @ {'2' * 40}: git fetch failed (exit 128)"
    assert any("Failed to connect to 127.0.0.1 port 1" in line for line in failure.error.evidence)
    assert failure.origin.maintainers == ["apevec@redhat.com", "lbezdick@redhat.com"]  # from rdoinfo
    assert review.verdict == "fail"


def test_a_status_only_change_and_a_removed_package_are_reported_not_reviewed(reviewed):
    review, _ = reviewed
    assert review.not_reviewed == {
        "openstack-nova": "only its build status moved (SUCCESS -> FAILED): the drop ships the same build",
        "python-virtualbmc": "removed from the drop"}


def test_the_markdown_report_leads_with_the_news_and_summarises_the_rest(reviewed):
    review, _ = reviewed
    text = markdown(review)
    assert text.startswith("# Drop review: c5e4b35c_8170b868: FAIL\n")
    news = text.split("## News: checks whose outcome changed")[1].split("## Could not be reviewed")[0]
    assert "### python-osc-lib" in news and "❌ new failure: `CheckLicenseTag`" in news
    assert "### python-stevedore" in news and "✅ fixed: `CheckLicenseTag`" in news
    assert "maintainers amoralej@redhat.com (from rdoinfo)" in news
    assert news.count("CheckLicenseTag") == 2 and "CheckSpecParses" not in news  # the rest is quiet
    failed = text.split("## Could not be reviewed")[1].split("## The rest")[0]
    assert "| python-oslo-middleware |" in failed and "Failed to connect to 127.0.0.1 port 1" in failed
    rest = text.split("## The rest")[1].split("## What the drop changed")[0]
    assert "Not reviewed: openstack-nova: only its build status moved" in rest
    assert "openstack-ironic" not in text  # unchanged: not even listed


def test_the_html_report_escapes_what_the_drop_and_git_said(reviewed):
    review, _ = reviewed
    hostile = review.failed["python-oslo-middleware"]
    origin = hostile.origin.model_copy(update={"distgit": "https://127.0.0.1:1/<script>alert(1)</script>.git"})
    page = html(review.model_copy(update={"failed": {"python-oslo-middleware": hostile.model_copy(
        update={"origin": origin})}}))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'class="banner fail"' in page and "CheckLicenseTag" in page
    assert "amoralej@redhat.com" in page


def test_a_red_drop_review_raises_naming_each_package_and_why(reviewed):
    review, _ = reviewed
    with pytest.raises(DropReviewFailed) as caught:
        require_drop_review_passed(review)
    assert caught.value.evidence[0] == "python-osc-lib: newly fails CheckLicenseTag"
    assert caught.value.evidence[1].startswith("python-oslo-middleware: not reviewed: https://127.0.0.1:1/")
