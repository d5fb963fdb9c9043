"""The review of what a drop changed, as Markdown and as a self-contained HTML page: the news first (checks
that newly fail or were fixed, packages that could not be reviewed), the rest summarised.

Renderers take the ``DropReview`` and know nothing of how it was obtained. Every name, URL, hash and piece of
evidence comes from a DLRN server, a distgit or a tool: Markdown escapes it (``cell``/``code``), the HTML
page is autoescaped by Jinja2.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import jinja2

from rdoflow.reports.markdown import cell, code
from rdoflow.reports.review import render_review
from rdoflow.tasks.prerelease.model import (
    BackendDiff,
    DropReview,
    PackageChange,
    PackageDiff,
)

TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
STATUS_WORDS = {"pass": "pass", "fail": "fail", "error": "could not run", "needs_human": "to check by hand",
                "not_applicable": "not applicable", None: "absent"}
MARKS = {"new failure": "❌ new failure", "fixed": "✅ fixed", "changed": "↔ changed"}


def headline(review: DropReview) -> str:
    if review.baseline:
        return f"first drop tested behind {review.link}: the baseline, nothing reviewed"
    news = review.new_failures()
    parts = [f"{len(review.reviewed)} package(s) reviewed"]
    if news:
        parts.append(f"{len(news)} with new failures")
    if review.failed:
        parts.append(f"{len(review.failed)} could not be reviewed")
    if not review.changes:
        return "no package changed since the last drop tested"
    return ", ".join(parts)


def counts_line(review: DropReview) -> str:
    """What changed, in counts: added, removed, changed, status only."""
    kinds = Counter(c.kind for c in review.changes)
    status_only = sum(1 for c in review.changes if c.kind == "changed" and not c.content_changed)
    return (f"{review.packages} packages; since {review.previous or 'nothing'}: {kinds['added']} added, "
            f"{kinds['removed']} removed, {kinds['changed'] - status_only} changed, {status_only} with only their "
            "build status changed")


def _version(change: PackageChange) -> str:
    old = change.old.nvr or "(no NVR)" if change.old else "(none)"
    new = change.new.nvr or "(no NVR)" if change.new else "(removed)"
    return f"{old} → {new}"


def _status_change(news) -> str:
    return f"{STATUS_WORDS[news.before]} → {STATUS_WORDS[news.after]}"


def quiet(review: DropReview) -> list[str]:
    """The rest, summarised: packages where nothing changed in review, what still fails, the unchanged counts."""
    silent = [p for p, d in review.reviewed.items() if not any(x.news or x.lint_news for x in d.diffs)]
    still = {f"{p} ({x.backend})" if x.backend != "static" else p: x.still_failing
             for p, d in review.reviewed.items() for x in d.diffs if x.still_failing}
    totals: Counter = Counter()
    for package in review.reviewed.values():
        for diff in package.diffs:
            totals.update(diff.unchanged)
    lines = []
    if silent:
        lines.append(f"No check changed outcome for {len(silent)} package(s): {', '.join(silent)}.")
    if totals:
        lines.append("Checks with the same outcome as before: " + ", ".join(
            f"{n} {STATUS_WORDS.get(status, status)}" for status, n in sorted(totals.items(), key=lambda kv: -kv[1]))
                     + ".")
    lines += [f"Still failing as before in {package}: {', '.join(checks)}." for package, checks in still.items()]
    lines += [f"Not reviewed: {project}: {why}." for project, why in review.not_reviewed.items()]
    return lines


def _diff_lines(diff: BackendDiff) -> list[str]:
    lines = [f"- {MARKS[c.news]}: {code(c.check)} {cell(c.text)} ({_status_change(c)})"
             + (f": {cell('; '.join(c.evidence[:3]))}" if c.evidence else "") for c in diff.news]
    lines += [f"- {MARKS[m.news]} rpmlint error: {code(m.message)}" for m in diff.lint_news]
    return lines


def _package_md(project: str, package: PackageDiff) -> list[str]:
    origin, change = package.origin, package.change
    lines = [f"### {cell(project)}: {cell(_version(change))}", ""]
    where = f"distgit {code(origin.distgit)} @ {code((change.new.dist_sha or '')[:12])}"
    if origin.maintainers:
        where += f"; maintainers {cell(', '.join(origin.maintainers))}"
    lines += [where + f" (from {origin.known_from})", ""]
    for diff in package.diffs:
        if diff.news or diff.lint_news:
            against = "the previous version" if diff.compared_with == "previous" else "nothing (new to this review)"
            lines += [f"{diff.backend} review, against {against}: {diff.verdict_before or '-'} → "
                      f"{diff.verdict_after}", "", *_diff_lines(diff), ""]
    lines += [f"- note: {cell(note)}" for note in package.notes]
    return lines + ([""] if package.notes else [])


def markdown(review: DropReview) -> str:
    lines = [f"# Drop review: {cell(review.drop)}: {review.verdict.upper()}", "",
             f"{cell(headline(review))}. Behind {code(review.link)} at {code(review.base_url)}: "
             f"{cell(counts_line(review))}.", ""]
    if review.baseline:
        lines += [f"This is the first drop tested behind {code(review.link)}: its {review.packages} packages are the "
                  "baseline the next drop is compared with. Nothing is reviewed yet, since nothing has changed "
                  "(a site that wants every package reviewed the first time sets `first_drop: review-all`).", ""]
    with_news = {p: d for p, d in review.reviewed.items() if any(x.news or x.lint_news for x in d.diffs)}
    if with_news:
        lines += ["## News: checks whose outcome changed", ""]
        for project, package in with_news.items():
            lines += _package_md(project, package)
    if review.failed:
        lines += ["## Could not be reviewed", "", "| package | distgit | commit | why |", "|---|---|---|---|"]
        for project, failure in review.failed.items():
            why = "; ".join([failure.error.message, *failure.error.evidence[:3]])
            lines.append(f"| {cell(project)} | {cell(failure.origin.distgit)} | "
                         f"{cell((failure.change.new.dist_sha or '')[:12])} | {cell(why)} |")
        lines.append("")
    rest = quiet(review)
    if rest:
        lines += ["## The rest", "", *(f"- {cell(line)}" for line in rest), ""]
    if review.changes:
        lines += ["## What the drop changed", "", "| package | change | columns | version | maintainers |",
                  "|---|---|---|---|---|"]
        for change in review.changes:
            origin = (review.reviewed.get(change.project) or review.failed.get(change.project))
            maintainers = ", ".join(origin.origin.maintainers) if origin else ""
            lines.append(f"| {cell(change.project)} | {change.kind} | {cell(', '.join(change.fields))} | "
                         f"{cell(_version(change))} | {cell(maintainers)} |")
    return "\n".join(lines).rstrip() + "\n"


def html(review: DropReview) -> str:
    with_news = {p: d for p, d in review.reviewed.items() if any(x.news or x.lint_news for x in d.diffs)}
    return TEMPLATES.get_template("drop_review.html.j2").render(
        review=review, headline=headline(review), counts=counts_line(review), with_news=with_news,
        quiet=quiet(review), version=_version, status_change=_status_change, marks=MARKS)


def write_reports(review: DropReview, directory: Path) -> dict[str, str]:
    """drop-review.md and drop-review.html in ``directory``, and each reviewed package's whole new review under
    ``drop-review-packages/`` (``PROJECT.md``, ``PROJECT-fedora-review.md``); their paths by kind."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {"markdown": directory / "drop-review.md", "html": directory / "drop-review.html"}
    written["markdown"].write_text(markdown(review))
    written["html"].write_text(html(review))
    packages = directory / "drop-review-packages"
    for project, package in review.reviewed.items():
        for diff in package.diffs:
            if diff.review is not None:
                packages.mkdir(exist_ok=True)
                suffix = "" if diff.backend == "static" else f"-{diff.backend}"
                (packages / f"{project}{suffix}.md").write_text(render_review(diff.review))
    return {kind: str(path.resolve()) for kind, path in written.items()}
