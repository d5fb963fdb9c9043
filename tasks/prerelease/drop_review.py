"""Reviewing what a drop changed: each changed package's distgit at its new and its previous commit, reviewed
with the package review's backends, and the difference of the two reviews: only the checks whose outcome
changed are news (a new failure, a fixed one, another change), the rest is counted.

Both versions are reviewed by the same rdoflow (the previous one's review comes from the review cache when it
was reviewed before), so a check that flips is the package's doing, never a change in rdoflow's checks.
A package whose distgit cannot be fetched fails that package, with its evidence, not the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.config.site import DropReviewSite
from rdoflow.errors import ConfigError, ErrorRecord, ResourceFailed
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.prerelease.changes import diff_versions, everything_added
from rdoflow.tasks.prerelease.distgit import (
    DEFAULT_PROTOCOLS,
    DistgitFetchFailed,
    checkout,
)
from rdoflow.tasks.prerelease.dlrn import Drop
from rdoflow.tasks.prerelease.model import (
    BackendDiff,
    CheckChange,
    DropReview,
    DropVersions,
    FetchFailure,
    LintChange,
    PackageChange,
    PackageDiff,
    PackageOrigin,
)
from rdoflow.tasks.prerelease.tested import TestedDrop, TestedDrops
from rdoflow.tasks.review.model import PackageReview, ReviewItem
from rdoflow.tasks.review.packages import review_package, review_source
from rdoflow.tasks.review.sources import PackageSource, ReviewSettings, acquire

FAILING = ("fail", "error")
Review = Callable[[PackageSource, ReviewSettings], PackageReview]


class DropReviewFailed(ResourceFailed):
    """A drop's changed packages: a check newly fails, or a package could not be reviewed."""

    reference = "drop-review-failed"


def _items(review: PackageReview) -> dict[str, ReviewItem]:
    """A review's items by check name (a name that repeats gets #2, #3...), with the review's own completion as
    one more check: a review that could not complete is a failure of its own."""
    found: dict[str, ReviewItem] = {}
    completed = ReviewItem(check="ReviewCompleted", text="The review completed.",
                           status="error" if review.error else "pass", evidence=[review.error] if review.error else [])
    for item in [completed, *review.items]:
        key, n = item.check, 1
        while key in found:
            n += 1
            key = f"{item.check}#{n}"
        found[key] = item
    return found


def _lint_errors(review: PackageReview | None) -> dict[tuple[str, str], str]:
    """rpmlint's errors by what they say, not where (a line number moves when a line is added above)."""
    return {(m.id, m.details): m.render() for m in review.lint_errors()} if review else {}


def _news(was: str | None, now: str | None) -> str | None:
    if was == now:
        return None
    if now in FAILING and was not in FAILING:
        return "new failure"
    if was in FAILING and now not in FAILING:
        return "fixed"
    return "changed"


def diff_reviews(before: PackageReview | None, after: PackageReview) -> BackendDiff:
    """``after`` against ``before``: the checks whose outcome changed, rpmlint errors that appeared or went, the
    rest counted by status. Without ``before`` (a new package), its failures are the news."""
    now, then = _items(after), _items(before) if before else {}
    news, unchanged, still = [], Counter(), []
    for key in [*now, *(k for k in then if k not in now)]:
        item_now, item_then = now.get(key), then.get(key)
        pair = (item_then.status if item_then else None, item_now.status if item_now else None)
        kind = _news(*pair)
        if kind is None or (before is None and kind == "changed"):
            unchanged[pair[1]] += 1
            if pair[1] in FAILING:
                still.append(key)
            continue
        shown = item_now or item_then
        news.append(CheckChange(check=key, text=shown.text, severity=shown.severity, before=pair[0], after=pair[1],
                                news=kind, evidence=shown.evidence[:8]))
    lint_then, lint_now = _lint_errors(before), _lint_errors(after)
    lint_news = [LintChange(message=lint_now[k], news="new failure") for k in lint_now if k not in lint_then]
    lint_news += [LintChange(message=lint_then[k], news="fixed") for k in lint_then if k not in lint_now]
    return BackendDiff(backend=after.backend, nevr_before=before.nevr if before else None, nevr_after=after.nevr,
                       verdict_before=before.verdict if before else None, verdict_after=after.verdict, news=news,
                       lint_news=lint_news, unchanged=dict(unchanged), still_failing=still,
                       compared_with="previous" if before else "nothing", review=after)


def review_settings(options: DropReviewSite, base: ReviewSettings | None = None) -> list[ReviewSettings]:
    """The static review, and fedora-review on the site's review host when it names one; the site's source
    mirror and allowed hosts added to ``base``."""
    base = base or ReviewSettings()
    base = base.model_copy(update={"source_mirror": options.source_mirror or base.source_mirror,
                                   "allow_hosts": [*options.allow_hosts, *base.allow_hosts]})
    static = base.model_copy(update={"backend": "static"})
    if options.review_host is None:
        return [static]
    return [static, base.model_copy(update={"backend": "fedora-review", "review_host": options.review_host})]


def _fetch(url: str | None, sha: str | None, workroot: Path, side: str, *, protocols: Sequence[str],
           timeout: float) -> PackageSource:
    tree = checkout(url, sha, workroot / side / "tree", protocols=protocols, timeout=timeout)
    try:
        return acquire(str(tree), workroot / side / "acquired")
    except ConfigError as exc:  # not a distgit (no .spec, or two): this package cannot be reviewed
        raise DistgitFetchFailed(f"{url} @ {sha}: not a distgit: {exc.message.removeprefix(str(tree) + ': ')}",
                                 hint="a distgit holds exactly one .spec file at its top") from exc


def review_change(change: PackageChange, origin: PackageOrigin, workroot: Path, settings: Sequence[ReviewSettings],
                  *, protocols: Sequence[str] = DEFAULT_PROTOCOLS, timeout: float = 120,
                  review: Review = review_source) -> PackageDiff | FetchFailure:
    """Fetch the package's distgit at its new commit (and its previous one), review both with each of
    ``settings``, and diff them; FetchFailure when the new version cannot be fetched."""
    new = change.new
    try:
        after_source = _fetch(origin.distgit, new.dist_sha, workroot, "new", protocols=protocols, timeout=timeout)
    except DistgitFetchFailed as exc:
        return FetchFailure(change=change, origin=origin, error=ErrorRecord.of(exc, evidence_shown=8))
    notes, before_source = [], None
    old = change.old
    if old is not None and (old.dist_sha, old.dist_repo) == (new.dist_sha, new.dist_repo):
        before_source = after_source
        notes.append("distgit unchanged (same commit): the upstream commit or the build changed")
    elif old is not None:
        try:
            before_source = _fetch(old.dist_repo or origin.distgit, old.dist_sha, workroot, "old",
                                   protocols=protocols, timeout=timeout)
        except DistgitFetchFailed as exc:
            notes.append(f"previous version not fetched, so every failure counts as news: {exc.message}")
    diffs = []
    for each in settings:
        after = _named(review(after_source, each), origin.distgit, new.dist_sha)
        before = None
        if before_source is after_source:
            before = after
        elif before_source is not None:
            before = _named(review(before_source, each), old.dist_repo or origin.distgit, old.dist_sha)
        diffs.append(diff_reviews(before, after))
    return PackageDiff(change=change, origin=origin, diffs=diffs, notes=notes)


def _named(review: PackageReview, url: str | None, sha: str | None) -> PackageReview:
    """The review named by the distgit and commit it reviewed, not by the temporary directory it was read from."""
    return review.model_copy(update={"package": f"{url}@{(sha or '')[:12]}"})


def partition(review: DropReview, outcomes: Sequence[PackageDiff | FetchFailure]) -> DropReview:
    """``review`` with each outcome in its side of the partition, keyed by project."""
    reviewed = {o.change.project: o for o in outcomes if isinstance(o, PackageDiff)}
    failed = {o.change.project: o for o in outcomes if isinstance(o, FetchFailure)}
    return review.model_copy(update={"reviewed": reviewed, "failed": failed})


def not_reviewed(changes: Sequence[PackageChange]) -> dict[str, str]:
    """Changed packages that get no review, and why."""
    why = {}
    for change in changes:
        if change.kind == "removed":
            why[change.project] = "removed from the drop"
        elif not change.content_changed:
            why[change.project] = (f"only its build status moved ({change.old.status} -> {change.new.status}): "
                                   "the drop ships the same build")
    return why


def reviewed_baseline(previous: DropVersions | None, current: DropVersions, failed: Sequence[str]) -> DropVersions:
    """What the next drop is compared with: ``current``, less the packages that could not be reviewed (their
    previous row, or none), so that they show as changed again next time and are retried."""
    packages = dict(current.packages)
    for project in failed:
        row = previous.packages.get(project) if previous else None
        if row is None:
            packages.pop(project, None)
        else:
            packages[project] = row
    return DropVersions(source=current.source, packages=packages)


def require_drop_review_passed(review: DropReview) -> None:
    """Raise DropReviewFailed naming each package with a new failure, and each that could not be reviewed."""
    if review.verdict == "pass":
        return
    evidence = [f"{project}: newly fails {', '.join(names)}" for project, names in review.new_failures().items()]
    evidence += [f"{project}: not reviewed: {failure.error.message}" for project, failure in review.failed.items()]
    raise DropReviewFailed(f"drop {review.drop}: {len(review.new_failures())} package(s) with new review failures, "
                           f"{len(review.failed)} that could not be reviewed", evidence=evidence,
                           hint="read the drop review (artifact drop-review, or drop-review.md/.html)")


def _cached_review(source: PackageSource, settings: ReviewSettings) -> PackageReview:
    """The package review's cached task: a version reviewed in an earlier run is not reviewed again."""
    return review_package(source, settings)


@task(name="review-drop-package", task_run_name="review {change.project}", cache_policy=NO_CACHE)
def review_drop_package(change: PackageChange, origin: PackageOrigin, workroot: Path,
                        settings: list[ReviewSettings], protocols: list[str],
                        timeout: float = 120) -> PackageDiff | FetchFailure:
    """``review_change`` as a task, each version's review through the package review's cache."""
    return review_change(change, origin, workroot, settings, protocols=protocols, timeout=timeout,
                         review=_cached_review)


def plan_review(drop: Drop, versions: DropVersions, last: TestedDrop | None,
                first_drop: Literal["baseline", "review-all"] = "baseline") -> DropReview:
    """The review to make of ``drop``: what changed since ``last`` (and what will not be reviewed, and why).

    The first drop behind a link is the baseline (nothing reviewed: nothing has changed yet), unless the site
    asks for ``review-all``: then every package is new, and its failures are all news."""
    common = {"base_url": drop.base_url, "link": drop.link, "drop": drop.full_hash, "built": drop.timestamp,
              "packages": len(versions.packages)}
    if last is None:
        if first_drop == "baseline":
            return DropReview(previous=None, baseline=True, **common)
        return DropReview(previous=None, changes=everything_added(versions), **common)
    changes = diff_versions(last.versions, versions)
    return DropReview(previous=last.drop, changes=changes, not_reviewed=not_reviewed(changes), **common)


def to_review(review: DropReview) -> list[PackageChange]:
    """The changes that get a review: added packages, and those whose compared columns moved."""
    return [change for change in review.changes if change.content_changed]


@task(name="plan-drop-review", task_run_name="compare {drop.full_hash} with the last drop tested",
      cache_policy=NO_CACHE)
def plan_drop_review(drop: Drop, versions: DropVersions, store: str, first_drop: str = "baseline") -> DropReview:
    """``plan_review`` against the last drop tested behind the drop's link, as the results store keeps it."""
    return plan_review(drop, versions, TestedDrops(store).baseline_for(drop.link, drop.full_hash), first_drop)


@task(name="remember-drop", task_run_name="remember {review.drop} as tested behind {review.link}",
      cache_policy=NO_CACHE)
def remember_drop(review: DropReview, versions: DropVersions, store: str) -> str:
    """Keep the review in the results store and make the drop the link's baseline (less what failed to fetch)."""
    tested_drops = TestedDrops(store)
    compared_with = tested_drops.baseline_for(review.link, review.drop)
    baseline = reviewed_baseline(compared_with.versions if compared_with else None, versions, list(review.failed))
    return tested_drops.remember(TestedDrop(link=review.link, drop=review.drop, base_url=review.base_url,
                                            versions=baseline), review, compared_with)


@task(name="publish-drop-review", cache_policy=NO_CACHE)
def publish_drop_review(review: DropReview, report_dir: Path | None = None) -> DropReview:
    """The review as a Markdown artifact, a table of the changed packages, and (with ``report_dir``) Markdown and
    HTML files; the review with where its files are."""
    from prefect.artifacts import create_table_artifact

    from rdoflow.reports.drop_review import markdown, write_reports

    leave_markdown(markdown(review), key="drop-review", description=f"drop {review.drop}: {review.verdict}")
    rows = [{"package": c.project, "change": c.kind, "columns": ", ".join(c.fields),
             "old": c.old.nvr if c.old else "", "new": c.new.nvr if c.new else "",
             "outcome": ("could not be reviewed" if c.project in review.failed else
                         "new failures" if c.project in review.new_failures() else
                         "reviewed" if c.project in review.reviewed else review.not_reviewed.get(c.project, ""))}
            for c in review.changes]
    if rows:
        create_table_artifact(rows, key="drop-review-packages", description=f"what drop {review.drop} changed")
    if report_dir is None:
        return review
    return review.model_copy(update={"reports": write_reports(review, report_dir)})
