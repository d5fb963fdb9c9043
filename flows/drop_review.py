"""Review what a pre-release drop changed: the packages whose source or distgit moved since the last drop
tested behind the link, each reviewed at its new and previous distgit commit; only what changed is news."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field

from rdoflow.config.site import DropReviewSite
from rdoflow.tasks.prerelease.changes import drop_versions
from rdoflow.tasks.prerelease.drop_review import (
    partition,
    plan_drop_review,
    publish_drop_review,
    remember_drop,
    require_drop_review_passed,
    review_drop_package,
    review_settings,
    to_review,
)
from rdoflow.tasks.prerelease.model import DropReview
from rdoflow.tasks.prerelease.origins import map_origins
from rdoflow.tasks.review.run import review_workspace
from rdoflow.tasks.review.sources import ReviewSettings


@flow(name="drop-review", flow_run_name="drop-review-{options.link}", task_runner=ThreadPoolTaskRunner(max_workers=2))
def drop_review(
    options: DropReviewSite = Field(..., description="The DLRN server and link, rdoinfo, the review backends "
                                                     "(a site's drop_review section)."),
    drop: str | None = Field(None, description="The drop under test (DLRN full hash); empty: the one behind the "
                                               "link now."),
    store: str = Field(".rdoflow/results", description="The results store (a site's results.location): it keeps "
                                                       "the last drop tested per link, and each drop's review."),
    settings: ReviewSettings | None = Field(None, description="Review settings beyond the site's (the backend "
                                                              "is chosen here: static, and fedora-review with a "
                                                              "review host)."),
    report_dir: Path | None = Field(None, description="Also write drop-review.md and .html here."),
    fail: bool = Field(True, description="Fail the run when a check newly fails or a package could not be "
                                         "reviewed (after reporting and remembering the drop)."),
) -> DropReview:
    """Read the drop and its versions.csv, compare with the last drop tested, map the changed packages through
    rdoinfo, review each at both commits (concurrently), report the news, remember the drop."""
    current, versions = drop_versions(options.base_url, options.link, drop)
    review = plan_drop_review(current, versions, store, options.first_drop)
    changed = to_review(review)
    origins = map_origins(changed, options.rdoinfo, options.info_files, options.release, options.distgit_protocols)
    with review_workspace() as workroot:
        outcomes = review_drop_package.map(
            changed, [origins[change.project] for change in changed],
            [workroot / str(n) for n in range(len(changed))], unmapped(review_settings(options, settings)),
            unmapped(options.distgit_protocols), unmapped(options.fetch_timeout)).result()
    review = publish_drop_review(partition(review, outcomes), report_dir)
    remember_drop(review, versions, store)
    if fail:
        require_drop_review_passed(review)
    return review
