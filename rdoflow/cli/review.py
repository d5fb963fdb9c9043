"""``rdoflow review`` and ``rdoflow trigger``: package review and starting the pipeline for a pre-release drop.

Registered on the main app by rdoflow/cli/main.py; exit codes follow ``rdoflow.cli.exits``. The CLI's
helpers are imported when a command runs: rdoflow.cli imports this module while it loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from pydantic import ValidationError

from rdoflow.cli.exits import ExitStatus
from rdoflow.cli.output import err, out, report_dir_for
from rdoflow.errors import ConfigError

if TYPE_CHECKING:
    from rdoflow.tasks.review.sources import ReviewSettings


def check_package_refs(refs: list[str]) -> None:
    """ConfigError listing every argument that is neither a URL nor a spec, an SRPM or a distgit directory."""
    from rdoflow.tasks.review.sources import is_url, package_kind

    problems = []
    for ref in refs:
        if is_url(ref):
            continue
        if not Path(ref).exists():
            problems.append(f"{ref}: no such file or directory; expected a .spec file, a .src.rpm or a distgit "
                            "directory")
            continue
        try:
            package_kind(Path(ref), ref)
        except ConfigError as exc:
            problems += exc.problems
    if problems:
        raise ConfigError("packages", problems)


def review(
    packages: Annotated[list[str], typer.Argument(metavar="PATH...", help="Spec files, SRPMs, distgit "
                                                                         "directories, or their URLs.")],
    backend: Annotated[str, typer.Option(help="static (built-in, this machine) or fedora-review.")] = "static",
    source_mirror: Annotated[Optional[str], typer.Option(help="Fetch Sources by file name from this base URL.")] = None,
    allow_host: Annotated[Optional[list[str]], typer.Option(
        "--allow-host", metavar="HOST", help="Fetch Sources from this host although it is loopback, private or link-local "
                             "(repeatable).")] = None,
    fetch: Annotated[bool, typer.Option(help="Download Sources not given and the upstream tarball.")] = True,
    upstream_version: Annotated[Optional[str], typer.Option(help="Version for a DLRN template spec.")] = None,
    reports: Annotated[Path, typer.Option("--reports", help="Directory that receives each run's reports.")] = Path(
        ".rdoflow/reports"),
    cache: Annotated[Path, typer.Option("--cache", help="Directory of past reviews: an unchanged package is not "
                                                        "reviewed again for 30 days.")] = Path(".rdoflow/review-cache"),
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Review every package, keeping nothing.")] = False,
) -> None:
    """Review packages the way fedora-review does; exit 1 when any package fails, 2 on bad input.

    Without a Prefect server (no PREFECT_API_URL) the review runs here, with no Prefect, in a few seconds;
    with one it runs as the package-review flow, whose runs, artifacts and cache are on that server."""
    from rdoflow.cli.prefect_api import server_configured
    from rdoflow.tasks.review.sandbox import check_sandbox, require_tools
    from rdoflow.tasks.review.sources import ReviewSettings

    check_package_refs(packages)
    try:
        settings = ReviewSettings(backend=backend, source_mirror=source_mirror, fetch_sources=fetch,
                                  upstream_version=upstream_version, allow_hosts=allow_host or [])
    except ValidationError as exc:  # a bad option value
        error = exc.errors()[0]
        option = "--" + str(error["loc"][0]).replace("_", "-") if error["loc"] else "options"
        raise ConfigError("options", [f"{option}: {error['msg']}"]) from None
    if settings.backend == "static":
        require_tools()
        check_sandbox()
    report_dir = report_dir_for(reports, "package-review")
    if server_configured():
        _review_as_flow(packages, settings, report_dir)
    else:
        _review_here(packages, settings, report_dir, None if no_cache else cache)


def _review_here(packages: list[str], settings: ReviewSettings, report_dir: Path, cache: Path | None) -> None:
    """The review's plain functions in this process: what the flow does, without a Prefect server to start."""
    from rdoflow.tasks.review.run import (
        ReviewCache,
        require_reviews_passed,
        review_packages,
        write_reviews,
    )

    reviews = review_packages(packages, settings, cache=ReviewCache(cache) if cache else None,
                              say=lambda line: err.print(line, markup=False, highlight=False, soft_wrap=True))
    _show_summary(write_reviews(reviews, report_dir))
    require_reviews_passed(reviews)


def _review_as_flow(packages: list[str], settings: ReviewSettings, report_dir: Path) -> None:
    from rdoflow.cli.console import quiet_diagnosed_tracebacks
    from rdoflow.flows.package_review import package_review

    quiet_diagnosed_tracebacks()
    try:
        package_review(packages, settings, report_dir)
    finally:  # the reviews' table, whether they passed or not (a failed review is exit 1, with its diagnosis)
        summary = report_dir / "package-review.md"
        if summary.exists():
            _show_summary(summary)


def _show_summary(summary: Path) -> None:
    out.print(summary.read_text(), markup=False, highlight=False)
    out.print(f"reviews: {summary.parent}", markup=False, highlight=False)


def trigger(
    drop: Annotated[str, typer.Option("--drop", help="The drop's DLRN hash (commit_distro[_extended]).")],
    deployment: Annotated[str, typer.Option(help="Deployment to run, FLOW/NAME.")] = "nightly/on-prerelease-drop",
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the run to end; exit 0 completed, 1 failed.")] = False,
) -> None:
    """Start the pipeline for a pre-release drop on the Prefect server; print the flow run's URL."""
    from rdoflow.deployments.register import api_url
    from rdoflow.tasks.prerelease.dlrn import check_drop_hash
    from rdoflow.tasks.prerelease.trigger import flow_run_url, start_pipeline

    check_drop_hash(drop)
    api_url()  # a run on a temporary in-process server would never reach a worker: refused, none started
    flow_run = start_pipeline(deployment, drop, wait_seconds=None if wait else 0)
    out.print(flow_run_url(flow_run), markup=False, highlight=False, soft_wrap=True)
    if not wait:
        return
    state = flow_run.state
    err.print(f"{flow_run.name}: {state.name if state else 'unknown'}", markup=False, highlight=False)
    if state is None or not state.is_completed():
        raise typer.Exit(ExitStatus.FAILED)


def register(app: typer.Typer) -> None:
    app.command("review")(review)
    app.command("trigger")(trigger)
