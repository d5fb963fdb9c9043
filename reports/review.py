"""Package reviews as Markdown (one per package, in the shape pasted into a review ticket) and table rows."""

from __future__ import annotations

import re

from rdoflow.reports.markdown import cell, code
from rdoflow.tasks.review.model import MARKS, PackageReview, ReviewItem

SEVERITIES = ("MUST", "SHOULD", "EXTRA")


def _line(text: str) -> str:
    """Text from a package (spec, tarball, tool output) made inert in Markdown: no HTML, no links run. (The
    review arrives redacted: ``PackageReview.redacted``, when it is recorded.)"""
    return re.sub(r"([<>`*_\[\]])", r"\\\1", str(text))


def _raw(text: str) -> str:
    """Text inside the review's code block: only a backtick could end the block early."""
    return str(text).replace("`", "'")


def summary_rows(reviews: list[PackageReview]) -> list[dict[str, object]]:
    """One row per package: its counts and verdict, for a Prefect table artifact."""
    return [{"package": review.package, "nevr": review.nevr or "", "backend": review.backend, **review.counts(),
             "rpmlint_errors": len(review.lint_errors()),
             "rpmlint_warnings": sum(m.level == "W" for m in review.lint), "verdict": review.verdict}
            for review in reviews]


def _item_lines(item: ReviewItem) -> list[str]:
    lines = [f"{MARKS[item.status]}: {_raw(item.text)} ({item.check})"]
    lines += [f"     Note: {_raw(evidence)}" for evidence in item.evidence]
    if item.url:
        lines.append(f"     See: {_raw(item.url)}")
    return lines


def render_review(review: PackageReview) -> str:
    """The review ticket text: verdict, Issues, MUST/SHOULD/EXTRA items by group, rpmlint, notes."""
    counts = review.counts()
    title = review.nevr or review.name or review.package
    lines = [f"# Package review: {_line(title)}: {review.verdict.upper()}", "",
             f"Reviewed {code(review.package)} with the {review.backend} backend; "
             f"{counts['pass']} pass, {counts['fail']} fail, {counts['needs_human']} to check by hand, "
             f"{counts['not_applicable']} not applicable, {counts['error']} could not run.", "",
             "Legend: [x] = Pass, [!] = Fail, [-] = Not applicable, [ ] = Manual review needed, [E] = Check error",
             ""]
    if review.error:
        lines += [f"**Review incomplete:** {_line(review.error)}", ""]
    issues = [item for item in review.failures() if item.severity == "MUST"]
    if issues:
        lines += ["## Issues", ""]
        lines += [f"- {_line(item.text)} ({item.check}): {_line('; '.join(item.evidence))}" for item in issues]
        lines.append("")
    lines.append("```")
    for severity in SEVERITIES:
        chosen = [item for item in review.items if item.severity == severity]
        if not chosen:
            continue
        lines += [f"===== {severity} items =====", ""]
        for group in dict.fromkeys(item.group for item in chosen):
            lines.append(f"{group}:")
            order = {"fail": 0, "error": 0, "needs_human": 1, "pass": 2, "not_applicable": 3}
            for item in sorted((i for i in chosen if i.group == group), key=lambda i: order[i.status]):
                lines += _item_lines(item)
            lines.append("")
    lines += ["", "Rpmlint", "-------"]
    lines += [_raw(message.render()) for message in review.lint] or ["No rpmlint messages."]
    lines.append("```")
    if review.notes:
        lines += ["", *(f"- {_line(note)}" for note in review.notes)]
    return "\n".join(lines) + "\n"


def render_summary(reviews: list[PackageReview]) -> str:
    """A Markdown table of every package with its counts."""
    failed = sum(review.failed for review in reviews)
    lines = [f"# Package review: {len(reviews) - failed} passed, {failed} failed", "",
             "| package | NEVR | pass | fail | by hand | n/a | rpmlint E/W | verdict |", "|---|---|---|---|---|---|---|---|"]
    for row in summary_rows(reviews):
        lines.append(f"| {cell(row['package'])} | {cell(row['nevr'])} | {row['pass']} | {row['fail']} | "
                     f"{row['needs_human']} | {row['not_applicable']} | {row['rpmlint_errors']}/"
                     f"{row['rpmlint_warnings']} | {row['verdict']} |")
    return "\n".join(lines) + "\n"
