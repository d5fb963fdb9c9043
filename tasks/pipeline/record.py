"""A pipeline run's record of its stages: what ran, how long, what failed first, and the summary
that explains a red verdict in one screen (the failed stage, its first real error, the evidence and
what to do next), left as an artifact and a file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefect.context import FlowRunContext
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from rdoflow.errors import ErrorRecord, RdoflowError
from rdoflow.outcome import Outcome
from rdoflow.reports.pipeline import render_summary
from rdoflow.tasks.artifacts import leave_markdown
from rdoflow.tasks.pipeline.model import PipelineSummary, StageOutcome

REPORTS = Path(".rdoflow/reports")
EVIDENCE_SHOWN = 12  # lines of a failed stage's evidence in the one-screen summary


def run_report_dir(pipeline: str) -> Path:
    """Where a run given no report directory writes its reports: a new one per run (as the CLI makes),
    ``.rdoflow/reports/<pipeline>-<UTC time>-<flow run id>``, so that runs on a worker keep theirs."""
    context = FlowRunContext.get()
    run = f"-{context.flow_run.id.hex[:8]}" if context and context.flow_run else ""
    return REPORTS / f"{pipeline}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}{run}"


def _stage_of(exc: BaseException) -> str | None:
    return getattr(exc, "stage", None)


class Pipeline:
    """Records each stage run inside ``with pipeline.stage(name):``; ``publish`` writes the summary.

    The first failing stage's error is tagged with the stage's name (``exc.stage``) on its way out,
    so that whoever catches it (the CLI, a parent pipeline) can say which stage failed.
    """

    def __init__(self, pipeline: str, site: str, *, stages: list[str], drop: str | None = "",
                 report_dir: Path | None = None) -> None:
        self.summary = PipelineSummary(pipeline=pipeline, site=site, drop=drop or "")
        self.planned = list(stages)
        self.report_dir = report_dir

    @contextmanager
    def stage(self, name: str) -> Iterator[StageOutcome]:
        """Record the stage run inside the block.

        The stage's subflows send no heartbeats of their own: they run in the pipeline's process,
        whose flow run keeps sending its heartbeat, and Prefect 3.9 makes each synchronous flow run
        wait up to a second at its end for its heartbeat thread (7 subflows: about 5 s a nightly).
        """
        outcome = StageOutcome(stage=name, outcome="pass")
        started = time.monotonic()
        try:
            with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                yield outcome
        except BaseException as exc:
            outcome.outcome = "fail"
            self._explain(outcome, exc)
            if _stage_of(exc) is None:
                with suppress(AttributeError):  # the few exceptions that take no attributes stay untagged
                    exc.stage = name
            raise
        finally:
            outcome.seconds = round(time.monotonic() - started, 1)
            self.summary.stages.append(outcome)

    def skip(self, name: str, why: str) -> None:
        self.summary.stages.append(StageOutcome(stage=name, outcome=Outcome.SKIP, summary=why))

    def report(self, kind: str, location: str | Path) -> None:
        """Name a report the summary should point to (e.g. the comparison's HTML)."""
        self.summary.reports[kind] = str(location)

    @staticmethod
    def _explain(outcome: StageOutcome, exc: BaseException) -> None:
        record = ErrorRecord.of(exc, evidence_shown=EVIDENCE_SHOWN)
        outcome.error, outcome.reference = record.message, record.reference
        outcome.evidence, outcome.hint = record.evidence, record.hint or ""
        # A nested pipeline already named the stage inside it that failed.
        inner = _stage_of(exc)
        if isinstance(exc, RdoflowError) and inner and inner != outcome.stage:
            outcome.summary = f"failed in {inner}"

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        self.summary.verdict = "fail" if exc is not None or self.summary.failed else "pass"
        ran = {stage.stage for stage in self.summary.stages}
        for name in self.planned:
            if name not in ran:
                self.skip(name, "not run: an earlier stage failed" if exc is not None else "not run")
        self.publish()

    def publish(self) -> str:
        """The summary as Markdown: an artifact when inside a flow run, and ``<pipeline>.md`` in report_dir."""
        text = render_summary(self.summary)
        leave_markdown(text, key=f"{self.summary.pipeline}-summary", report_dir=self.report_dir,
                       file_name=f"{self.summary.pipeline}.md",
                       description=f"{self.summary.pipeline} on {self.summary.site}: {self.summary.verdict}")
        return text
