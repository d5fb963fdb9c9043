"""Stage: review packages (specs, SRPMs, distgit directories) before they enter the distribution."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field

from rdoflow.tasks.review.model import PackageReview
from rdoflow.tasks.review.packages import (
    acquire_package,
    publish_reviews,
    review_package,
)
from rdoflow.tasks.review.run import require_reviews_passed, review_workspace
from rdoflow.tasks.review.sources import ReviewSettings


@flow(name="package-review", task_runner=ThreadPoolTaskRunner(max_workers=2))
def package_review(
    packages: list[str] = Field(..., description="Spec files, SRPMs or distgit directories: paths or URLs."),
    settings: ReviewSettings | None = Field(None, description="Backend and sources; the defaults review "
                                                              "statically on this machine."),
    report_dir: Path | None = Field(None, description="Also write the reviews here (a directory)."),
) -> list[PackageReview]:
    """Review every package concurrently (unchanged ones come from the cache), publish, fail on a red one."""
    settings = settings or ReviewSettings()
    with review_workspace() as workroot:
        sources = acquire_package.map(packages, [workroot / str(n) for n in range(len(packages))],
                                      unmapped(settings))
        reviews = review_package.map(sources, unmapped(settings)).result()
    publish_reviews(reviews, report_dir)
    require_reviews_passed(reviews)
    return reviews
