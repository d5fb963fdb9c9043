"""The apply-drop stage's record: the drop, what the undercloud's packages were and became, the images
prepared, the update's or upgrade's steps; left as a Markdown report whether the stage passes or not.

(The renderer sits here rather than in reports/ for now: reports/ is another change's; it takes the
model only, as reports/ renderers do.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rdoflow.errors import ErrorRecord
from rdoflow.reports.markdown import cell, code
from rdoflow.reports.orchestration import render_stage
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.overcloud.model import StageReport
from rdoflow.tasks.prerelease.model import ApplyDrop, ImagesOutcome, PackagesOutcome

ARTIFACT_KEY = "apply-drop"
WHAT = {"update": "the minor update", "upgrade": "the major upgrade"}


def _packages(packages: PackagesOutcome) -> list[str]:
    reused = " (an earlier run's result, reused: the host still runs the drop)" if packages.cached else ""
    lines = ["## Packages", "",
             f"Repository file {code(packages.repo_path)}: baseurl {code(packages.repo_url or '')}"
             + (f"; the host's earlier file kept as {code(packages.previous)}" if packages.previous else "") + ".",
             "", f"Commands: {', '.join(code(command) for command in packages.commands)}{reused}.", "",
             f"{packages.before} packages installed before, {packages.after} after, "
             f"{len(packages.changes)} changed ({packages.seconds:.1f} s)."]
    if packages.changes:
        lines += ["", "| package | before | after |", "|---|---|---|",
                  *(f"| {cell(c.name)} | {cell(c.old or '(not installed)')} | {cell(c.new or '(removed)')} |"
                    for c in packages.changes)]
    kept = [code(path) for path in (packages.pin_file, packages.pin_on_host) if path]
    if kept:
        lines += ["", f"What the host had before (its packages and repository files): {' and '.join(kept)}."]
    return lines


def _images(images: ImagesOutcome) -> list[str]:
    reused = " (an earlier run's result, reused)" if images.cached else ""
    lines = ["## Container images", "",
             f"{code('openstack tripleo container image prepare -e ' + images.prepare_file)} (from "
             f"{cell(images.based_on)}, tag {code(images.tag)}) wrote {code('~/' + images.images_file)}: "
             f"{images.images} images, {images.tagged} of them the drop's ({images.seconds:.1f} s){reused}."]
    if images.sample:
        lines += ["", "````text", *images.sample, "````"]
    return lines


def render_apply_drop(report: ApplyDrop) -> str:
    failed = report.failed_step
    verdict = ("PASS" if report.passed else f"FAIL at {failed.name}" if failed
               else f"FAIL: {report.error.message}" if report.error else "FAIL")
    lines = [f"# Apply drop {report.drop}: {cell(verdict)}", "",
             f"Site {code(report.site)}, undercloud {code(report.address)}: the drop from {code(report.source)}, then "
             f"{WHAT[report.apply]} of stack {code(report.stack)}; {report.seconds:.1f} s in all.", ""]
    if report.packages:
        lines += [*_packages(report.packages), ""]
    if report.images:
        lines += [*_images(report.images), ""]
    if report.steps:
        stage = "Minor update" if report.apply == "update" else "upgrade"
        steps = render_stage(StageReport(stage=stage, site=report.site, stack=report.stack, steps=report.steps))
        lines += ["#" + steps.replace("\n## ", "\n### "), ""]
    elif report.error:
        lines += ["## Error", "", f"**{cell(report.error.reference)}:** {cell(report.error.message)}", ""]
        if report.error.hint:
            lines += [f"**What to do:** {cell(report.error.hint)}", ""]
        if report.error.evidence:
            lines += ["````text", *report.error.evidence, "````", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def leave_report(report: ApplyDrop, report_dir: Path | None) -> str:
    markdown = render_apply_drop(report)
    leave_markdown(markdown, key=ARTIFACT_KEY, report_dir=report_dir,
                   description=f"Drop {report.drop} on {report.site}: {'pass' if report.passed else 'fail'}")
    return markdown


@contextmanager
def recorded(report: ApplyDrop, report_dir: Path | None) -> Iterator[ApplyDrop]:
    """Fill ``report`` inside the block; on the way out, failed or not, time it and leave it (an error is
    recorded, then raised again for the flow to fail with)."""
    started = time.monotonic()
    try:
        yield report
    except BaseException as exc:
        report.error = ErrorRecord.of(exc)
        raise
    finally:
        report.seconds = round(time.monotonic() - started, 1)
        leave_report(report, report_dir)
