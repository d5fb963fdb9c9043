"""Package review as Prefect tasks: take a spec, an SRPM or a distgit directory (path or URL) and review it.

The work is done by the plain functions of tasks/review/run.py (acquire → lay out → parse in the
sandbox → fetch sources → ``rpmbuild -bs`` → rpmlint → checklist); ``review_package`` is the cached
Prefect task the flow maps over packages. The cache key is the sha256 of what was reviewed (the SRPM,
or the spec and the files given beside it) with the review settings and the review tooling's own
files, so an unchanged package is not reviewed again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.review.model import PackageReview
from rdoflow.tasks.review.run import (
    artifact_key,
    review_key,
    review_source,
    write_reviews,
)
from rdoflow.tasks.review.sources import PackageSource, ReviewSettings, acquire


def _review_key(context: Any, parameters: dict[str, Any]) -> str:
    return review_key(parameters["source"], parameters["settings"])


@task(name="acquire-package", task_run_name="acquire {ref}", cache_policy=NO_CACHE)
def acquire_package(ref: str, workroot: Path, settings: ReviewSettings) -> PackageSource:
    """``acquire`` as a task."""
    return acquire(ref, workroot, timeout=settings.fetch_timeout, allow_hosts=settings.allow_hosts)


@task(name="review-package", task_run_name="review {source.ref}", cache_key_fn=_review_key,
      cache_expiration=timedelta(days=30), persist_result=True)
def review_package(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    """``review_source`` as a task, cached by the package's sha256 and the settings' fingerprint."""
    return review_source(source, settings)


@task(name="publish-reviews", cache_policy=NO_CACHE)
def publish_reviews(reviews: list[PackageReview], report_dir: Path | None = None) -> None:
    """A table artifact of every package, a Markdown review per package; the same as files in ``report_dir``."""
    from prefect.artifacts import create_table_artifact

    from rdoflow.reports.review import render_review, summary_rows

    create_table_artifact(summary_rows(reviews), key="package-review",
                          description="Every reviewed package with its counts and verdict.")
    for review in reviews:
        leave_markdown(render_review(review), key=artifact_key(review), description=f"Review of {review.package}")
    if report_dir is not None:  # the summary is a table artifact above; as a file, Markdown
        write_reviews(reviews, report_dir)
