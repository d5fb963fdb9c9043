"""What a drop changed, read from drops DLRN itself published (the lab's DLRN 0.26.1: its commit import writes
commit.yaml and versions.csv as on RDO's trunk server)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rdoflow.lab.drops import PackageBuild, publish_drop
from rdoflow.tasks.prerelease.changes import diff_versions, read_drop_versions
from rdoflow.tasks.prerelease.drop_review import plan_review
from rdoflow.tasks.prerelease.tested import TestedDrop
from tests.dlrn_lab import running_dlrn


@pytest.fixture(scope="module")
def dlrn(tmp_path_factory):
    with running_dlrn(tmp_path_factory.mktemp("dlrn") / "dlrn") as endpoint:
        yield endpoint


def test_two_drops_dlrn_published_differ_by_the_package_the_second_rebuilt(dlrn):
    first = publish_drop(dlrn)
    drop_1, versions_1 = read_drop_versions(first.base_url, "current-passed-ci", timeout=30)
    source, distgit = "c" * 40, "d" * 40
    second = publish_drop(dlrn, {"python-tripleoclient": PackageBuild("20.1.0", source, distgit)})
    drop_2, versions_2 = read_drop_versions(second.base_url, "current-passed-ci", timeout=30)
    assert (drop_1.full_hash, drop_2.full_hash) == (first.full_hash, second.full_hash)
    assert {name: row.nvr for name, row in versions_1.packages.items()} == first.nvrs
    client = versions_2.packages["python-tripleoclient"]
    assert (client.source_sha, client.dist_sha, client.status) == (source, distgit, "SUCCESS")
    assert client.dist_repo == f"{dlrn.distgits_url}/tripleoclient-distgit.git"
    assert client.last_success is not None and client.last_success > datetime(2026, 1, 1, tzinfo=timezone.utc)
    [change] = diff_versions(versions_1, versions_2)
    assert (change.project, change.kind, change.fields) == ("python-tripleoclient", "changed",
                                                            ["Source Sha", "Dist Sha", "Pkg NVR"])
    assert change.new.nvr.startswith("python-tripleoclient-20.1.0-0.") and change.new.nvr.endswith(".ccccccc.el9")
    last = TestedDrop(link="current-passed-ci", drop=drop_1.full_hash, base_url=first.base_url, versions=versions_1)
    review = plan_review(drop_2, versions_2, last)
    assert (review.previous, [c.project for c in review.changes], review.packages) == (
        first.full_hash, ["python-tripleoclient"], len(versions_2.packages))
    # the drop under test is read from its build even after the link has moved on (to the same component's build)
    later = publish_drop(dlrn, {"python-tripleoclient": PackageBuild("20.2.0", "e" * 40, "f" * 40)})
    assert later.full_hash != second.full_hash
    again, again_versions = read_drop_versions(second.base_url, "current-passed-ci", second.full_hash, timeout=30)
    assert again.full_hash == second.full_hash and again_versions == versions_2.model_copy(
        update={"source": again_versions.source})
