"""The ``rdoflow`` command: thin Typer commands over documented plain functions.

Exit codes are decided in one place: ``rdoflow.cli.exits``. Each subcommand module registers its commands
here and imports nothing of this module.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional, TextIO

import typer
from typer.exceptions import TyperException

from rdoflow import __version__
from rdoflow.cli import deploy as deploy_commands
from rdoflow.cli import review as review_commands
from rdoflow.cli.exits import (
    ExitStatus,
    Terminated,
    exit_status_for,
    show_error,
    termination_behind,
)
from rdoflow.cli.lab import lab_app
from rdoflow.cli.output import err, out, report_dir_for, streams
from rdoflow.cli.prefect_api import give_time_to_start
from rdoflow.cli.results import compare_command, results_app
from rdoflow.errors import (
    RdoflowError,
)

# Prefect's servers otherwise try to send telemetry off this machine at start-up.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
give_time_to_start()  # Prefect's temporary server: 90 s to come up, not Prefect's 20, on a busy machine


_show_traceback = False  # --traceback: set by the root callback, read by main()

app = typer.Typer(
    name="rdoflow",
    help="Lifecycle CI for RDO/TripleO clouds, as Prefect flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Site configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")

def _show_version(value: bool) -> None:
    if value:
        out.print(f"rdoflow {__version__}")
        raise typer.Exit(ExitStatus.OK)


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    traceback: Annotated[bool, typer.Option("--traceback", help="On an unexpected error, show its whole trace.")] = False,
) -> None:
    """rdoflow: review, bootstrap, introspect, deploy, upgrade and compare."""
    global _show_traceback
    _show_traceback = traceback


@config_app.command("validate")
def config_validate(
    file: Annotated[Path, typer.Argument(help="Site config YAML file.", show_default=False)],
) -> None:
    """Check a site config; print each problem (exit 2) or a short summary (exit 0)."""
    from rdoflow.config.site import load_site
    from rdoflow.config.summary import describe_site

    site = load_site(file)
    for line in describe_site(site):
        out.print(line, markup=False, highlight=False)


def _show_reports(report_dir: Path, flow_name: str) -> None:
    """A pipeline's one-screen summary when it wrote one, otherwise every stage report of the run."""
    from rich.markdown import Markdown

    summary = report_dir / f"{flow_name}.md"
    if summary.exists():  # as written: a CI log keeps every line whole, and Markdown reads as it is
        out.print(summary.read_text(), markup=False, highlight=False)
    for report in [summary] if summary.exists() else sorted(report_dir.glob("*.md")):
        if report != summary:
            out.print(Markdown(report.read_text()))
        out.print(f"report: {report}", markup=False, highlight=False)
    if summary.exists():
        out.print(f"every stage's report: {report_dir}", markup=False, highlight=False)


def _run_and_report(flow_name: str, site: Path | None, reports: Path, params: list[str] | None = None,
                    typed: dict | None = None) -> None:
    from rdoflow.cli.console import quiet_diagnosed_tracebacks
    from rdoflow.cli.params import parse_params, run_flow
    from rdoflow.cli.progress_view import progress_shown

    quiet_diagnosed_tracebacks()
    report_dir = report_dir_for(reports, flow_name)
    try:
        with progress_shown(err):
            result = run_flow(flow_name, site, report_dir, parse_params(params or []), typed)
    except Exception as exc:  # the run's reports first; main() then shows the error and maps it to the exit status
        if report_dir.exists():
            _show_reports(report_dir, flow_name)
        if stage := getattr(exc, "stage", None):
            err.print(f"{flow_name}: FAIL in stage {stage}", style="bold red")
        raise
    if report_dir.exists():
        _show_reports(report_dir, flow_name)
    for kind, where in (getattr(result, "reports", None) or {}).items():
        out.print(f"{kind}: {where}", markup=False, highlight=False)  # whole paths, never wrapped
    out.print(f"{flow_name}: PASS", style="bold green")


ReportsOption = Annotated[Path, typer.Option("--reports", help="Directory that receives each run's reports.")]
ParamOption = Annotated[
    Optional[list[str]],
    typer.Option("--param", "-p", metavar="KEY=VALUE",
                 help="A flow parameter (repeatable); values are read as YAML: true, 3, [a, b]. "
                      "'rdoflow params FLOW' lists them."),
]


@app.command("run")
def run_command(
    flow_name: Annotated[str, typer.Argument(metavar="FLOW", help="Flow to run, e.g. nightly or node-introspection.")],
    site: Annotated[Optional[Path], typer.Option("--site", help="Site config YAML file (flows that take a site).")] = None,
    param: ParamOption = None,
    reports: ReportsOption = Path(".rdoflow/reports"),
) -> None:
    """Run one flow in this process; exit 0 on a pass, 1 when a stage or the verdict fails, 2 on bad input."""
    _run_and_report(flow_name, site, reports, param)


@app.command("params")
def params_command(
    flow_name: Annotated[str, typer.Argument(metavar="FLOW", help="Flow whose parameters to list.")],
) -> None:
    """List a flow's parameters with their types, defaults and descriptions."""
    from prefect.utilities.callables import parameter_schema

    from rdoflow.flows.catalog import load_flow

    flow = load_flow(flow_name)
    for name, prop in parameter_schema(flow).model_dump()["properties"].items():
        kind = prop.get("type") or "/".join(str(o.get("type") or o.get("$ref", "").rsplit("/", 1)[-1])
                                            for o in prop.get("anyOf", [])) or prop.get("$ref", "").rsplit("/", 1)[-1]
        default = f" = {prop['default']!r}" if "default" in prop else " (required)"
        out.print(f"{name}: {kind}{default}", markup=False, highlight=False)
        if prop.get("description"):
            out.print(f"    {prop['description']}", markup=False, highlight=False)


@app.command("nightly")
def nightly_command(
    site: Annotated[
        Optional[Path], typer.Option("--site", help="Site config YAML file; without it, the built-in lab.")
    ] = None,
    param: ParamOption = None,
    reports: ReportsOption = Path(".rdoflow/reports"),
    lab_dir: Annotated[Path, typer.Option("--lab-dir", help="Where the built-in lab keeps its files.")] = Path(
        ".rdoflow/lab"
    ),
) -> None:
    """Run the nightly pipeline against a site, or against a fresh built-in lab on 127.0.0.1."""
    _run_and_report("nightly", site, reports, param, None if site else {"lab": {"dir": str(lab_dir)}})


app.add_typer(lab_app, name="lab")
app.command("compare")(compare_command)
app.add_typer(results_app, name="results")
review_commands.register(app)
deploy_commands.register(app)


ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # a cancelled job or `timeout`; a closed terminal


@contextmanager
def _sigterm_raises() -> Iterator[list[int]]:
    """For the block, SIGTERM and SIGHUP raise ``Terminated`` in the main thread (once: a repeat, or the
    other signal, while the command unwinds is ignored, so that taking the lab down is not cut short);
    yields the signals received."""
    received: list[int] = []

    def terminate(signum, frame) -> None:
        received.append(signum)
        if len(received) == 1:
            raise Terminated(signum)

    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    # A SIGHUP ignored on purpose (nohup, a service manager) stays ignored: the run goes on.
    previous = {signum: signal.signal(signum, terminate) for signum in ENDING_SIGNALS
                if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """The ``rdoflow`` command: run it, map how it ended to its exit status (``rdoflow.cli.exits``).

    ``argv`` defaults to the process's arguments; ``stdout`` and ``stderr`` to the process's streams.
    SIGTERM (or SIGHUP: the terminal closed) ends the command as an exception does, with exit status 143
    (129): its ``finally`` blocks run, and the process exits as usual, so Prefect's ``atexit`` hook stops
    the temporary server (uvicorn)."""
    with _sigterm_raises() as received:
        try:
            status = _main(argv, stdout, stderr, received)
        except OSError:  # the terminal closed (SIGHUP): writing what went wrong failed too (EIO)
            if not received:
                raise
            status = None
        if received:
            ending = Terminated(received[0])
            try:  # after SIGHUP the terminal may be gone: the exit status still says what happened
                with streams(stdout, stderr):
                    err.print("rdoflow: terminated" + (" (SIGHUP)" if ending.signum == signal.SIGHUP else ""),
                              markup=False, highlight=False)
            except OSError:
                pass
            return exit_status_for(ending)
        return status


# After Ctrl-C or SIGTERM the process exits as usual, so that Prefect's exit hooks stop its temporary server;
# a hook or non-daemon thread a library left waiting on a server that takes connections and never answers
# (its request timeout 60 s, then retries) would keep it alive for minutes. The exit gets this long.
EXIT_GRACE_SECONDS = 60.0


def console() -> int:
    """The ``rdoflow`` console script: ``main()``, and an interrupted run that has not exited
    ``EXIT_GRACE_SECONDS`` after it returned is ended with its exit status (``os._exit``)."""
    status = main()
    if status in (ExitStatus.INTERRUPTED, ExitStatus.TERMINATED, ExitStatus.HANGUP):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        watchdog = threading.Timer(EXIT_GRACE_SECONDS, os._exit, args=(int(status),))
        watchdog.daemon = True
        watchdog.start()
    return status


def _main(argv: list[str] | None, stdout: TextIO | None, stderr: TextIO | None, terminated: list[int]) -> int:
    with streams(stdout, stderr):
        try:
            result = app(args=argv, prog_name="rdoflow", standalone_mode=False)
        except typer.Exit as exc:
            return exc.exit_code
        except TyperException as exc:  # the parser's own errors (an unknown command or option): its message, exit 2
            exc.show(file=err.file)
            return exc.exit_code
        except (typer.Abort, KeyboardInterrupt) as exc:
            if terminated or isinstance(exc, Terminated):  # SIGTERM, SIGHUP (click wraps it in Abort): main() says so
                return exit_status_for(Terminated(terminated[0]) if terminated else exc)
            err.print("rdoflow: interrupted", markup=False, highlight=False)
            return ExitStatus.INTERRUPTED
        except RdoflowError as exc:
            show_error(exc)
            return exit_status_for(exc)
        except Exception as exc:  # noqa: BLE001 - the one place an unknown fault becomes an exit status
            ending = termination_behind(exc)
            if ending is not None:  # the signal ended the run, whatever fault it left on its way out
                if not terminated:  # main() says so when its own handler took the signal
                    err.print("rdoflow: terminated" + (" (SIGHUP)" if ending.signum == signal.SIGHUP else ""),
                              markup=False, highlight=False)
                return exit_status_for(ending)
            if _show_traceback:
                err.print_exception()
            else:
                err.print(f"rdoflow: unexpected error: {type(exc).__name__}: {exc}", markup=False, highlight=False)
                err.print("hint: run again with --traceback to see where it came from", markup=False,
                          highlight=False)
            return exit_status_for(exc)
        if result == ExitStatus.INTERRUPTED:  # Typer ends a command Ctrl-C interrupted with Exit(130), returned
            err.print("rdoflow: interrupted", markup=False, highlight=False)
        return result if isinstance(result, int) else ExitStatus.OK


if __name__ == "__main__":
    sys.exit(main())
