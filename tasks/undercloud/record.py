"""The undercloud bootstrap stage's record: what it checked, rendered, installed and verified, left as a report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel, Field

from rdoflow.errors import RdoflowError
from rdoflow.reports.undercloud import render_bootstrap
from rdoflow.tasks.undercloud.preflight import Check, Preflight
from rdoflow.tasks.undercloud.conf import ConfChanges, RenderedConf
from rdoflow.tasks.undercloud.install import HostUndercloud, InstallOutcome

ARTIFACT_KEY = "undercloud-bootstrap"
REPORT_FILE = "undercloud-bootstrap.md"


class ConfRecord(BaseModel):
    """The rendered undercloud.conf and how it compares with the host's."""

    sha256: str
    text: str = Field(description="The rendered file (no secrets).")
    host_sha256: str | None = Field(None, description="sha256 of the host's ~/undercloud.conf before; None: absent.")
    changes: ConfChanges | None = Field(None, description="Keys that differ from the host's file, when it differed.")

    @classmethod
    def of(cls, conf: RenderedConf, observed: HostUndercloud) -> ConfRecord:
        return cls(sha256=conf.sha256, text=conf.text, host_sha256=observed.conf_sha256,
                   changes=observed.changes)


class StageError(BaseModel):
    """The error that ended the stage, as the user must read it."""

    reference: str
    message: str
    evidence: list[str] = Field(default_factory=list)
    hint: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> StageError:
        if isinstance(exc, RdoflowError):
            return cls(reference=exc.reference, message=exc.message, evidence=exc.evidence, hint=exc.hint)
        return cls(reference="unexpected", message=f"{type(exc).__name__}: {exc}")


class UndercloudBootstrap(BaseModel):
    """What the undercloud-bootstrap stage did on one site."""

    site: str
    address: str
    drop: str | None = Field(None, description="The DLRN hash under test, as given to the stage.")
    seconds: float = 0.0
    preflight: Preflight | None = None
    conf: ConfRecord | None = None
    install: InstallOutcome | None = None
    checks: list[Check] = Field(default_factory=list, description="Verifications after the install (or skip).")
    error: StageError | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.install is not None and all(c.outcome != "fail" for c in self.checks)


def leave_report(report: UndercloudBootstrap, report_dir: Path | None) -> str:
    """The report as a Markdown artifact, and as ``report_dir/undercloud-bootstrap.md`` when given."""
    markdown = render_bootstrap(report)
    create_markdown_artifact(markdown, key=ARTIFACT_KEY,
                             description=f"Undercloud bootstrap of {report.site}: {'pass' if report.passed else 'fail'}")
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / REPORT_FILE).write_text(markdown)
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
        report.error = StageError.of(exc)
        raise
    finally:
        report.seconds = round(time.monotonic() - started, 1)
        leave_report(report, report_dir)
