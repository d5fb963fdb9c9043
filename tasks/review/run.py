"""One review run over many packages, as plain functions: acquire each package, review them two at a time,
keep each review in a cache, write the reports, fail when one is red.

``rdoflow review`` runs these directly when no Prefect server is configured (a temporary Prefect server
cost more than the review itself); the package-review flow runs the same steps as Prefect tasks
(tasks/review/packages.py), with Prefect's own result cache, for deployments and the nightly. Nothing
here imports Prefect.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from rdoflow.errors import ResourceFailed
from rdoflow.tasks.review.model import PackageReview
from rdoflow.tasks.review.sources import PackageSource, ReviewSettings, acquire
from rdoflow.tasks.review.static import build_srpm, static_review

WORKERS = 2  # packages reviewed at once: the flow's task runner has as many (CI machines have 2 cores)
CACHE_DAYS = 30
MAX_CACHED_BYTES = 16 << 20  # a cached review larger than this is not read (reviewed again instead)


class ReviewFailed(ResourceFailed):
    """At least one package failed its review."""

    reference = "package-review-failed"


def review_key(source: PackageSource, settings: ReviewSettings) -> str:
    """What a review is cached under: the package's sha256 and the settings' fingerprint (which covers the
    macros file, the rpmlint config and version, and the review's code)."""
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


class ReviewCache:
    """Reviews kept as JSON files named by ``review_key``, each good for CACHE_DAYS from when it was written.
    A file that is too old, too large or not a review is ignored: the package is reviewed again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> PackageReview | None:
        path = self.path(key)
        try:
            found = path.stat()
            if found.st_size > MAX_CACHED_BYTES or time.time() - found.st_mtime > CACHE_DAYS * 86400:
                return None
            return PackageReview.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):
            return None

    def put(self, key: str, review: PackageReview) -> None:
        """Written whole or not at all (a second run reading meanwhile sees the old file or none)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=self.directory, suffix=".part", delete=False) as part:
            part.write(review.model_dump_json())
        os.replace(part.name, self.path(key))


def cached_review(source: PackageSource, settings: ReviewSettings, cache: ReviewCache | None,
                  say: Callable[[str], None] = lambda line: None) -> PackageReview:
    """The package's review from ``cache`` when it was reviewed unchanged, with the same settings; otherwise
    reviewed now, and kept there."""
    key = review_key(source, settings)
    if cache is not None and (review := cache.get(key)) is not None:
        reviewed = datetime.fromtimestamp(cache.path(key).stat().st_mtime, timezone.utc)
        say(f"{source.ref}: unchanged since its review of {reviewed:%Y-%m-%d %H:%M} UTC (from {cache.path(key)})")
        return review.model_copy(update={"package": source.ref})
    say(f"{source.ref}: reviewing ({settings.backend})")
    review = review_source(source, settings)
    if cache is not None:
        cache.put(key, review)
    return review


@contextmanager
def review_workspace() -> Iterator[Path]:
    """A directory for one review run's packages, removed afterwards (the reviews are in the results)."""
    root = Path(tempfile.mkdtemp(prefix="rdoflow-review-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def review_packages(refs: list[str], settings: ReviewSettings, *, cache: ReviewCache | None = None,
                    say: Callable[[str], None] = lambda line: None) -> list[PackageReview]:
    """Every package reviewed, WORKERS at a time, in the order given; ConfigError for one that cannot be
    acquired (not a package, not downloadable), before any is reviewed."""
    with review_workspace() as workroot:
        sources = [acquire(ref, workroot / str(number), timeout=settings.fetch_timeout,
                           allow_hosts=settings.allow_hosts) for number, ref in enumerate(refs)]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            return list(pool.map(lambda source: cached_review(source, settings, cache, say), sources))


def artifact_key(review: PackageReview) -> str:
    """A Prefect artifact key (and report file name) for one package's review: lowercase letters, digits
    and dashes."""
    name = review.name or Path(review.package.rstrip("/")).name
    return "package-review-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def write_reviews(reviews: list[PackageReview], report_dir: Path) -> Path:
    """Each package's review as ``package-review-NAME.md`` and the table of all as ``package-review.md``
    (returned)."""
    from rdoflow.reports.review import render_review, render_summary

    report_dir.mkdir(parents=True, exist_ok=True)
    for review in reviews:
        (report_dir / f"{artifact_key(review)}.md").write_text(render_review(review))
    summary = report_dir / "package-review.md"
    summary.write_text(render_summary(reviews))
    return summary


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
