"""Package review: take a spec, an SRPM or a distgit directory (path or URL) and review it.

Plain functions do the work (acquire → lay out → parse in the sandbox → fetch sources →
``rpmbuild -bs`` → rpmlint → checklist); ``review_package`` is the cached Prefect task the
flow maps over packages. The cache key is the sha256 of what was reviewed (the SRPM, or the
spec and the files given beside it) with the review settings and the review tooling's own
files, so an unchanged package is not reviewed again.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.errors import ResourceFailed
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.review.model import PackageReview
from rdoflow.tasks.review.sources import PackageSource, ReviewSettings, acquire
from rdoflow.tasks.review.static import build_srpm, static_review


def _review_key(context: Any, parameters: dict[str, Any]) -> str:
    source: PackageSource = parameters["source"]
    settings: ReviewSettings = parameters["settings"]
    return f"package-review-{source.sha256[:24]}-{settings.fingerprint()[:24]}"


def review_source(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    """Review one acquired package with the backend the settings choose; recorded redacted, whichever
    backend (the sandbox's output, or fedora-review's from another host) said it."""
    if settings.backend == "static":
        return static_review(source, settings).redacted()
    return _fedora_review(source, settings).redacted()


def _fedora_review(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    from rdoflow.blocks.ssh import SSHHost
    from rdoflow.tasks.review import fedora_review

    srpm = source.path if source.kind == "srpm" else build_srpm(source, settings)
    if isinstance(srpm, PackageReview):  # the SRPM could not be built: that review is the answer
        return srpm
    if settings.review_host is None:
        review = fedora_review.review_locally(srpm, mock_config=settings.mock_config, timeout=settings.timeout,
                                              command=settings.fedora_review_command)
    else:
        host = SSHHost.from_target(settings.review_host)
        review = fedora_review.review_on_host(host, srpm, mock_config=settings.mock_config,
                                              workdir=settings.review_workdir, timeout=settings.timeout,
                                              command=settings.fedora_review_command)
    return review.model_copy(update={"package": source.ref, "sha256": source.sha256})


@task(name="acquire-package", task_run_name="acquire {ref}", cache_policy=NO_CACHE)
def acquire_package(ref: str, workroot: Path, settings: ReviewSettings) -> PackageSource:
    """``acquire`` as a task."""
    return acquire(ref, workroot, timeout=settings.fetch_timeout, allow_hosts=settings.allow_hosts)


@task(name="review-package", task_run_name="review {source.ref}", cache_key_fn=_review_key,
      cache_expiration=timedelta(days=30), persist_result=True)
def review_package(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    """``review_source`` as a task, cached by the package's sha256 and the settings' fingerprint."""
    return review_source(source, settings)


@contextmanager
def review_workspace() -> Iterator[Path]:
    """A directory for one review run's packages, removed afterwards (the reviews are in Prefect's results)."""
    root = Path(tempfile.mkdtemp(prefix="rdoflow-review-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


class ReviewFailed(ResourceFailed):
    """At least one package failed its review."""

    reference = "package-review-failed"


def artifact_key(review: PackageReview) -> str:
    """A Prefect artifact key for one package's review (lowercase letters, digits and dashes)."""
    name = review.name or Path(review.package.rstrip("/")).name
    return "package-review-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@task(name="publish-reviews", cache_policy=NO_CACHE)
def publish_reviews(reviews: list[PackageReview], report_dir: Path | None = None) -> None:
    """A table artifact of every package, a Markdown review per package; the same as files in ``report_dir``."""
    from prefect.artifacts import create_table_artifact

    from rdoflow.reports.review import render_review, render_summary, summary_rows

    create_table_artifact(summary_rows(reviews), key="package-review",
                          description="Every reviewed package with its counts and verdict.")
    for review in reviews:
        leave_markdown(render_review(review), key=artifact_key(review), report_dir=report_dir,
                       description=f"Review of {review.package}")
    if report_dir is not None:  # the summary is a table artifact above; as a file, Markdown
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "package-review.md").write_text(render_summary(reviews))


def require_reviews_passed(reviews: list[PackageReview]) -> None:
    """Raise ReviewFailed naming each failed package and its first failures."""
    failed = [review for review in reviews if review.failed]
    if failed:
        evidence = []
        for review in failed:
            reasons = [review.error] if review.error else []
            reasons += [f"{item.check}: {'; '.join(item.evidence[:1])}" for item in review.failures()][:3]
            reasons += [message.render() for message in review.lint_errors()][:3]
            evidence.append(f"{review.package}: {' | '.join(r for r in reasons if r)}")
        raise ReviewFailed(f"{len(failed)} of {len(reviews)} package(s) failed review", evidence=evidence,
                           hint="read each package's review (artifact package-review-NAME or its report file)")
