"""``rdoflow compare PRE POST``, ``rdoflow results list``, ``rdoflow results handover RUN`` and ``rdoflow results
trend``: the results, without any cloud."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rdoflow.cli.exits import ExitStatus
from rdoflow.cli.output import out
from rdoflow.errors import printable

results_app = typer.Typer(help="Stored regression runs.", no_args_is_help=True)
StoreOption = Annotated[str, typer.Option("--store", help="Results store: a directory or an fsspec URL.")]
DEFAULT_STORE = ".rdoflow/results"
OutFile = Optional[Path]
PublicUrlOption = Annotated[Optional[str], typer.Option(
    "--public-url", help="The URL a browser opens the store at (a site's results.public_url): report links "
                         "start with it. Unset: a local store's file:// URL.")]


def compare_command(
    pre: Annotated[Path, typer.Argument(help="The run before: subunit, JUnit XML, a stestr directory, script results.")],
    post: Annotated[Path, typer.Argument(help="The run after, in any of the same formats.")],
    policy: Annotated[OutFile, typer.Option("--policy", help="Site file or policy YAML: known failures, "
                                                             "flaky tests, thresholds.")] = None,
    json_file: Annotated[OutFile, typer.Option("--json", help="Write the JSON report here.")] = None,
    junit_file: Annotated[OutFile, typer.Option("--junit", help="Write the JUnit XML report here.")] = None,
    html_file: Annotated[OutFile, typer.Option("--html", help="Write the HTML report here.")] = None,
    md_file: Annotated[OutFile, typer.Option("--md", help="Write the Markdown report here.")] = None,
    suite: Annotated[str, typer.Option("--suite", help="Suite name the runs are stored under.")] = "tempest",
    store: StoreOption = DEFAULT_STORE,
    reports: Annotated[Path, typer.Option("--reports", help="Directory for the reports not placed "
                                                            "elsewhere.")] = Path(".rdoflow/reports/compare"),
    public_url: PublicUrlOption = None,
) -> None:
    """Compare two runs: exit 0 when the verdict is pass, 1 when it is fail, 2 for bad input. The reports are
    kept in the store too, beside the verdict."""
    # Read when pyarrow is first imported (by the imports below). Its default pool, mimalloc, keeps what the
    # first run's reading freed when the second is read; the C library's malloc gives it back: on two
    # 100,000-test runs that is 324 vs 270 MiB peak, in the same time (bench/compare_100k.py).
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    from rdoflow.tasks.results.runs import compare_files, load_policy

    judged = compare_files(pre, post, policy=load_policy(policy), location=store, report_dir=reports, suite=suite,
                           names={"json": json_file, "junit": junit_file, "html": html_file, "md": md_file},
                           public_url=checked_url(public_url))
    verdict = judged.comparison.verdict
    out.print(f"verdict: {verdict.outcome.upper()}", style="bold green" if verdict.passed else "bold red")
    for reason in verdict.reasons:
        out.print(f"  - {reason}", markup=False, highlight=False)
    shown = {k: v for k, v in verdict.counts.items() if v}
    out.print("  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown.items()), markup=False)
    for kind, path in judged.reports.items():
        out.print(f"  {kind}: {path}", markup=False, highlight=False)
    out.print(f"  in the store: {judged.urls['html']}", markup=False, highlight=False)
    if not verdict.passed:
        raise typer.Exit(ExitStatus.FAILED)


@results_app.command("list")
def list_command(
    store: StoreOption = DEFAULT_STORE,
    suite: Annotated[Optional[str], typer.Option("--suite", help="Only this suite.")] = None,
) -> None:
    """The stored runs, oldest first, with their counts."""
    from rdoflow.tasks.results.store import ResultsStore

    runs = ResultsStore(store).runs(suite)
    table = Table("suite", "run", "label", "drop", "started", "tests", "pass", "fail", "skip")
    for run in runs:
        statuses = run.get("statuses", {})
        table.add_row(run.get("suite", ""), run["run_id"], run.get("label", ""), run.get("drop", ""),
                      run.get("started_at") or "", str(run.get("tests", "")), str(statuses.get("pass", 0)),
                      str(statuses.get("fail", 0) + statuses.get("uxsuccess", 0)), str(statuses.get("skip", 0)))
    out.print(table if runs else f"no runs stored in {store}")


@results_app.command("handover")
def handover_command(
    run: Annotated[str, typer.Argument(help="A stored run's id ('rdoflow results list'), or a result file: "
                                            "subunit, JUnit XML, a stestr directory, script results.")],
    store: StoreOption = DEFAULT_STORE,
    suite: Annotated[Optional[str], typer.Option("--suite", help="The suite the run is stored under.")] = None,
    html_file: Annotated[OutFile, typer.Option("--html", help="Write the HTML page here.")] = None,
    md_file: Annotated[OutFile, typer.Option("--md", help="Write the Markdown page here.")] = None,
    reports: Annotated[Path, typer.Option("--reports", help="Directory for the pages not placed "
                                                            "elsewhere.")] = Path(".rdoflow/reports/handover"),
) -> None:
    """One run's handover report: per area of the inspection catalogue, what passed, what failed and why."""
    from rdoflow.reports.handover import headline
    from rdoflow.tasks.results.handover import find_run, handover, write_handover

    found = find_run(run, store, suite)
    report = handover(found.table, found.meta)
    stem = f"handover-{found.meta.run_id}"
    written = write_handover(report, html_file or reports / f"{stem}.html", md_file or reports / f"{stem}.md")
    out.print(f"handover: {headline(report)}", markup=False, highlight=False)
    for area in report.areas:
        out.print(f"  {area.results.title}: {area.outcome} ({area.results.tests} tests, {area.failing} failed)",
                  markup=False, highlight=False)
    for kind, path in written.items():
        out.print(f"  {kind}: {path}", markup=False, highlight=False)


def checked_url(url: str | None) -> str | None:
    """``--public-url`` checked as the site's ``results.public_url`` is (bad input names the option)."""
    if url is None:
        return None
    from pydantic import TypeAdapter, ValidationError

    from rdoflow.config.site import PublicUrl
    from rdoflow.errors import ConfigError

    try:
        return TypeAdapter(PublicUrl).validate_python(url)
    except ValidationError as exc:
        raise ConfigError("--public-url", [f"--public-url: {error['msg'].removeprefix('Value error, ')}"
                                           for error in exc.errors()]) from None


@results_app.command("trend")
def trend_command(
    store: StoreOption = DEFAULT_STORE,
    suite: Annotated[Optional[str], typer.Option("--suite", help="The suite (needed when the store has "
                                                                 "several).")] = None,
    drops: Annotated[int, typer.Option("--drops", help="How many of the last drops.")] = 10,
    test: Annotated[str, typer.Option("--test", help="Also show, drop by drop, the tests whose id contains "
                                                     "this: which drop broke them.")] = "",
    html_file: Annotated[OutFile, typer.Option("--html", help="Write the HTML page here.")] = None,
    md_file: Annotated[OutFile, typer.Option("--md", help="Write the Markdown page here.")] = None,
    json_file: Annotated[OutFile, typer.Option("--json", help="Write the trend as JSON here.")] = None,
    public_url: PublicUrlOption = None,
) -> None:
    """Per drop, newest first: the verdict, the tests it broke and fixed since the drop before, and the tests
    that flip. Exit 0, or 2 for bad input (no such store, suite or test)."""
    from rdoflow.reports.trend import write_trend
    from rdoflow.tasks.results.trend import trend

    found = trend(store, suite, drops, test, public_url=checked_url(public_url))
    show_trend(found)
    for kind, path in write_trend(found, html_file=html_file, md_file=md_file, json_file=json_file).items():
        out.print(f"  {kind}: {path}", markup=False, highlight=False)


def show_trend(found) -> None:
    """The trend as plain lines (a pipe or a CI log keeps each test id whole): a row per drop, newest first,
    the first tests it broke and fixed under it; the tests that flip; the tests asked for."""
    from rdoflow.reports.trend import headline, when

    lines = [f"trend: {headline(found)}"]
    rows = [("drop", "when", "verdict", "tests", "failing", "broke", "fixed")]
    for drop in reversed(found.drops):
        first = drop.previous is None or drop.unreadable
        rows.append((drop.drop, when(drop) or "-", drop.verdict or "-", str(drop.tests), str(drop.failing),
                     "-" if first else str(drop.introduced_total), "-" if first else str(drop.fixed_total)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row, drop in zip(rows, [None, *reversed(found.drops)]):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if drop is not None:
            lines += _changes(drop)
    if found.flaky_total:
        flaky = ", ".join(f"{t.test_id} ({t.flips} flips)" for t in found.flaky[:5])
        lines.append(f"flaky over these drops: {flaky}" + (f" and {found.flaky_total - 5} more"
                                                             if found.flaky_total > 5 else ""))
    for tracked in found.tests:
        statuses = " ".join(tracked.statuses.get(d.drop) or "-" for d in found.drops)
        broke = f"broke in {', '.join(tracked.broken_in)}" if tracked.broken_in else "not broken by these drops"
        fixed = f"; fixed in {', '.join(tracked.fixed_in)}" if tracked.fixed_in else ""
        lines.append(f"{tracked.test_id}: {broke}{fixed} (oldest first: {statuses})")
    if found.tests_matched > len(found.tests):
        lines.append(f"... and {found.tests_matched - len(found.tests)} more tests match {found.test!r}")
    for line in lines:
        out.print(printable(line), markup=False, highlight=False)


def _changes(drop, shown: int = 3) -> list[str]:
    if drop.unreadable:
        return [f"    unreadable: {drop.unreadable}"]
    lines = []
    for word, tests, total in (("broke", drop.introduced, drop.introduced_total), ("fixed", drop.fixed,
                                                                                   drop.fixed_total)):
        lines += [f"    {word}: {test.test_id}" + (f"  ({test.why})" if test.why else "") for test in tests[:shown]]
        if total > shown:
            lines.append(f"    {word}: ... and {total - shown} more")
    return lines
