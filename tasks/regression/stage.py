"""The regression_run stage: run the suite (``suites``), store its results, summarize them.

The results are stored (one partition of the results store per run) before
anything reads them for a verdict: a comparison that fails later loses nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import RegressionSite, SiteConfig
from rdoflow.errors import ErrorRecord, RdoflowError, TransientError
from rdoflow.redaction import redact
from rdoflow.reports.handover import headline
from rdoflow.reports.handover import markdown as handover_markdown
from rdoflow.reports.handover import write_html as write_handover_html
from rdoflow.reports.regression import render_failure, render_summary
from rdoflow.tasks.artifacts import leave_link, leave_markdown
from rdoflow.tasks.regression.model import (
    COUNTED,
    FAILED_SHOWN,
    FailedTest,
    RegressionRun,
)
from rdoflow.tasks.regression.suites import (
    NothingRan,
    SuiteRun,
    remove_scratch,
    run_suite,
)
from rdoflow.tasks.results.areas import run_areas
from rdoflow.tasks.results.handover import handover, publish_handover
from rdoflow.tasks.results.model import FAILING, ResultFileError, RunMeta
from rdoflow.tasks.results.runs import StoredRun, read_and_store, read_stored
from rdoflow.tasks.results.store import ResultsStore
from rdoflow.tasks.retries import TRANSIENT_RETRIES

REASON_SHOWN = 300  # characters of each failure's reason shown there


def run_id(suite_run: SuiteRun) -> str:
    """Unique per run: label, start time and the digest of the raw results."""
    digest = hashlib.sha256()
    with open(suite_run.result_file, "rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
    return f"{suite_run.label}-{suite_run.started_at:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:12]}"


def counts_of(table: pd.DataFrame) -> dict[str, int]:
    """Results by status; a failed fixture (setUpClass of a class...) counts as one 'error', not a test failure."""
    failed_fixture = table["fixture"] & table["status"].isin(FAILING)
    statuses = table.loc[~failed_fixture, "status"].value_counts()
    counts = {status: int(statuses.get(status, 0)) for status in COUNTED if status != "error"}
    return {**counts, "error": int(failed_fixture.sum()), "tests": len(table)}


def failures_of(table: pd.DataFrame) -> list[FailedTest]:
    failing = table[table["status"].isin(FAILING)].head(FAILED_SHOWN)
    return [FailedTest(test_id=row.test_id, status="error" if row.fixture else row.status,
                       reason=_reason_start(row.reason)) for row in failing.itertuples()]


def _reason_start(reason: str) -> str:
    """The first words of the reason (of a traceback, its last line: the exception), passwords masked."""
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        lines = lines[-1:]
    text = redact(" ".join(" ".join(lines).split()))
    return text if len(text) <= REASON_SHOWN else text[:REASON_SHOWN] + "…"


def store_run(suite_run: SuiteRun, location: str, drop: str) -> RegressionRun:
    """Read the raw results into the normalized table and store it, with the raw file beside it. A result
    file fetched to a temporary directory (no report directory given) is removed, stored or not: the run's
    ``result_file`` is then the copy in the store."""
    try:
        meta = RunMeta(run_id=run_id(suite_run), label=suite_run.label, drop=drop, suite=suite_run.kind,
                       host=suite_run.host, started_at=suite_run.started_at)
        raw = Path(suite_run.result_file)
        try:
            stored = read_and_store(raw, meta, location)
        except ResultFileError as exc:  # an empty or unreadable stream: the suite said nothing
            raise NothingRan(f"the {suite_run.kind} run on {suite_run.host} left no test results: {exc.message}",
                             evidence=exc.evidence,
                             hint="run the suite by hand in the workdir and read its output") from exc
        store = ResultsStore(location)
        raw_stored = f"{stored.location}/raw{raw.suffix}"
        store.fs.put_file(str(raw), raw_stored)
    finally:
        remove_scratch(suite_run)
    result_file = raw_stored if suite_run.scratch else str(raw)
    return RegressionRun(meta=meta, location=stored.location, counts=counts_of(stored.table), result_file=result_file,
                         raw_stored=raw_stored, duration=suite_run.duration, expected=suite_run.expected,
                         failed=failures_of(stored.table), areas=run_areas(stored.table)[1])


def stored_run(run: RegressionRun, location: str) -> StoredRun:
    """A stored run as the comparison takes it (``tasks.results.runs.compare_stored``): its table
    read back from the store."""
    return read_stored(run.meta, location)


@task(name="regression-suite", task_run_name="{regression.kind}-{label}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def run_suite_task(host: SSHHost, regression: RegressionSite, label: str, report_dir: Path | None = None) -> SuiteRun:
    """``run_suite``, retried on transient SSH faults only; any other failure leaves its report first."""
    try:
        return run_suite(host, regression, label, report_dir)
    except TransientError:
        raise
    except RdoflowError as exc:
        _leave_failure(exc, regression.kind, label, report_dir)
        raise


def _leave_failure(exc: RdoflowError, kind: str, label: str, report_dir: Path | None) -> None:
    leave_markdown(render_failure(ErrorRecord.of(exc), kind, label), key=f"regression-run-{label}",
                   description=f"{kind} {label}: failed", report_dir=report_dir)


@task(name="store-regression-run", task_run_name="store-{suite_run.label}", cache_policy=NO_CACHE)
def store_run_task(suite_run: SuiteRun, site: SiteConfig, drop: str = "",
                   report_dir: Path | None = None) -> RegressionRun:
    """``store_run``, then the summary: a Markdown artifact (and file) and a table of the failed tests."""
    try:
        stored = store_run(suite_run, site.results.location, drop)
    except RdoflowError as exc:
        _leave_failure(exc, suite_run.kind, suite_run.label, report_dir)
        raise
    written = leave_markdown(render_summary(stored), key=f"regression-run-{stored.meta.label}",
                             report_dir=report_dir, description=f"{stored.meta.suite} {stored.meta.label}: "
                             f"{stored.counts['pass']} passed, {stored.counts['fail']} failed")
    handover_files, handover_urls = leave_handover(stored, site.results.location, report_dir,
                                                   site.results.public_url)
    if stored.failed:
        create_table_artifact([test.model_dump() for test in stored.failed],
                              key=f"regression-failures-{stored.meta.label}",
                              description=f"Failed tests of {stored.meta.run_id} (first {FAILED_SHOWN})")
    return stored.model_copy(update={"report": str(written) if written else None, "handover": handover_files,
                                     "handover_urls": handover_urls})


def leave_handover(run: RegressionRun, location: str, report_dir: Path | None,
                   public_url: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The run's handover report, from its stored table: a Markdown artifact and a link to the page in the
    results store; with a report directory ``handover-<label>.md`` and ``.html`` there. Returns the files
    written and the URLs in the store, each by kind."""
    report = handover(read_stored(run.meta, location).table, run.meta)
    label = run.meta.label
    written = leave_markdown(handover_markdown(report), key=f"handover-{label}", report_dir=report_dir,
                             description=f"handover of {run.meta.run_id}: {headline(report)}")
    urls = publish_handover(report, ResultsStore(location, public_url))
    leave_link(urls["html"], key=f"handover-{label}-page", link_text=f"handover ({label}), HTML",
               description=f"the handover page of {run.meta.run_id} in the results store")
    if report_dir is None:
        return {}, urls
    files = {"md": str(written), "html": str(write_handover_html(report_dir / f"handover-{label}.html", report))}
    return files, urls
