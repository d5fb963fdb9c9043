"""The undercloud bootstrap stage's record: what it checked, rendered, installed and verified, left as a report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rdoflow.errors import ErrorRecord
from rdoflow.reports.undercloud import render_bootstrap
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.undercloud.model import UndercloudBootstrap

ARTIFACT_KEY = "undercloud-bootstrap"
REPORT_FILE = "undercloud-bootstrap.md"


def leave_report(report: UndercloudBootstrap, report_dir: Path | None) -> str:
    """The report as a Markdown artifact, and as ``report_dir/undercloud-bootstrap.md`` when given."""
    markdown = render_bootstrap(report)
    leave_markdown(markdown, key=ARTIFACT_KEY, report_dir=report_dir, file_name=REPORT_FILE,
                   description=f"Undercloud bootstrap of {report.site}: {'pass' if report.passed else 'fail'}")
    return markdown


@contextmanager
def recorded(report: UndercloudBootstrap, report_dir: Path | None) -> Iterator[UndercloudBootstrap]:
    """Fill ``report`` inside the block; on the way out, failed or not, time it and leave it.

    An error is recorded in the report, then raised again for the flow to fail with.
    """
    started = time.monotonic()
    try:
        yield report
    except BaseException as exc:
        report.error = ErrorRecord.of(exc)
        raise
    finally:
        report.seconds = round(time.monotonic() - started, 1)
        leave_report(report, report_dir)
