"""Package review: take a spec, an SRPM or a distgit directory (path or URL) and review it.

Plain functions do the work (acquire → lay out → parse in the sandbox → fetch sources →
``rpmbuild -bs`` → rpmlint → checklist); ``review_package`` is the cached Prefect task the
flow maps over packages. The cache key is the sha256 of what was reviewed (the SRPM, or the
spec and the files given beside it) with the review settings and the review tooling's own
files, so an unchanged package is not reviewed again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from rdoflow.errors import ConfigError, ResourceFailed
from rdoflow.config.ssh import SSHTarget
from rdoflow.tasks.review.model import PackageReview

REVIEW_DATA = Path(__file__).resolve().parent / "data"
MACROS = REVIEW_DATA / "macros.rdo"
RPMLINT_CONFIG = REVIEW_DATA / "rpmlint"
# The modules whose code decides a static review's outcome: part of its cache key.
STATIC_REVIEW_CODE = ("checks.py", "model.py", "static.py", "specfacts.py")
Kind = Literal["spec", "srpm", "distgit"]


class ReviewSettings(BaseModel):
    """How packages are reviewed; part of the cache key."""

    backend: Literal["static", "fedora-review"] = Field(
        "static", description="'static': the built-in review on this machine; 'fedora-review': a review host.")
    source_mirror: str | None = Field(
        None, description="Fetch each Source by its file name from this base URL instead of the spec's URL.")
    fetch_sources: bool = Field(True, description="Download Sources not given beside the spec, and the upstream "
                                                  "tarball to compare Source0 with.")
    upstream_version: str | None = Field(
        None, description="Version to put in a DLRN template spec (Version: XXX); default: from the tarball given.")
    mock_config: str = Field("centos-stream-9-x86_64", description="fedora-review backend: the mock config.")
    fedora_review_command: str = Field("fedora-review", description="fedora-review backend: the command's "
                                                                    "name or path on the review host.")
    review_host: SSHTarget | None = Field(
        None, description="fedora-review backend: the SSH review host; empty runs fedora-review on this machine.")
    review_workdir: str = Field("rdoflow-review", description="fedora-review backend: directory on the review "
                                                              "host (relative to the login's home) for the SRPMs.")
    timeout: float = Field(1800, gt=0, description="Seconds one package's review may take (fedora-review builds).")
    fetch_timeout: float = Field(60, gt=0, description="Seconds a source download may stall.")

    def fingerprint(self) -> str:
        """sha256 of the settings and of the files that decide a static review's outcome."""
        from importlib.metadata import version

        digest = hashlib.sha256(self.model_dump_json().encode())
        for path in sorted([MACROS, *RPMLINT_CONFIG.glob("*.toml"),
                           *(Path(__file__).parent / name for name in STATIC_REVIEW_CODE)]):
            digest.update(path.read_bytes())
        digest.update(version("rpmlint").encode())
        return digest.hexdigest()


class PackageSource(BaseModel):
    """A package as given, copied into a directory of its own."""

    ref: str = Field(description="The path or URL as the user gave it.")
    kind: Kind
    path: Path = Field(description="The local copy: the .spec, the .src.rpm or the distgit directory.")
    sha256: str


class SourceFetchFailed(ConfigError):
    """A package, or one of its Sources, could not be downloaded."""

    reference = "source-fetch-failed"


def is_url(ref: str) -> bool:
    return urlparse(ref).scheme in ("http", "https")


def package_kind(path: Path, ref: str) -> Kind:
    if path.is_dir():
        specs = sorted(path.glob("*.spec"))
        if len(specs) != 1:
            found = ", ".join(spec.name for spec in specs) or "none"
            raise ConfigError(ref, [f"{ref}: a distgit directory must hold exactly one .spec file (found: {found})"])
        return "distgit"
    if path.name.endswith(".src.rpm"):
        return "srpm"
    if path.suffix == ".spec":
        return "spec"
    raise ConfigError(ref, [f"{ref}: not a package: expected a .spec file, a .src.rpm or a distgit directory"])


def content_sha256(path: Path) -> str:
    """sha256 of a file, or of a directory's files (relative names and contents, .git left out)."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts)
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def download(url: str, destination: Path, *, timeout: float) -> Path:
    """GET ``url`` into ``destination`` (streamed); SourceFetchFailed names the URL and the reason."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            response.raise_for_status()
            with destination.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
    except httpx.HTTPStatusError as exc:
        raise SourceFetchFailed(url, [f"{url}: HTTP {exc.response.status_code}"]) from exc
    except httpx.HTTPError as exc:
        raise SourceFetchFailed(url, [f"{url}: {type(exc).__name__}: {exc}"]) from exc
    return destination


def acquire(ref: str, workroot: Path, *, timeout: float = 60) -> PackageSource:
    """Copy (or download) the package ``ref`` into ``workroot``; ConfigError for anything not a package."""
    workroot.mkdir(parents=True, exist_ok=True)
    if is_url(ref):
        name = Path(urlparse(ref).path).name
        if not name.endswith((".spec", ".src.rpm")):
            raise ConfigError(ref, [f"{ref}: a package URL must end in .spec or .src.rpm"])
        local = download(ref, workroot / "given" / name, timeout=timeout)
    else:
        given = Path(ref).expanduser()
        if not given.exists():
            raise ConfigError(ref, [f"{ref}: no such file or directory; expected a .spec file, a .src.rpm "
                                    "or a distgit directory"])
        package_kind(given, ref)
        local = workroot / "given" / given.name
        if given.is_dir():
            shutil.copytree(given, local, ignore=shutil.ignore_patterns(".git"), dirs_exist_ok=True)
        else:
            local.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(given, local)
    return PackageSource(ref=ref, kind=package_kind(local, ref), path=local, sha256=content_sha256(local))


def _review_key(context: Any, parameters: dict[str, Any]) -> str:
    source: PackageSource = parameters["source"]
    settings: ReviewSettings = parameters["settings"]
    return f"package-review-{source.sha256[:24]}-{settings.fingerprint()[:24]}"


def review_source(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    """Review one acquired package with the backend the settings choose."""
    from rdoflow.tasks.review.static import static_review

    if settings.backend == "static":
        return static_review(source, settings)
    return _fedora_review(source, settings)


def _fedora_review(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    from rdoflow.blocks.ssh import SSHHost
    from rdoflow.tasks.review import fedora_review
    from rdoflow.tasks.review.static import build_srpm

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
    return acquire(ref, workroot, timeout=settings.fetch_timeout)


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
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from rdoflow.reports.review import render_review, render_summary, summary_rows

    create_table_artifact(summary_rows(reviews), key="package-review",
                          description="Every reviewed package with its counts and verdict.")
    for review in reviews:
        create_markdown_artifact(render_review(review), key=artifact_key(review),
                                 description=f"Review of {review.package}")
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "package-review.md").write_text(render_summary(reviews))
        for review in reviews:
            (report_dir / f"{artifact_key(review)}.md").write_text(render_review(review))


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
