"""The ``rdoflow`` command: thin Typer commands over documented plain functions.

Exit codes are decided in one place (``ExitStatus`` and ``_exit_status_for``).
"""

from __future__ import annotations

import sys
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from rdoflow import __version__
from rdoflow.errors import ConfigError, RdoflowError


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1  # the job ran and its verdict is red
    BAD_INPUT = 2  # a file or option is not what rdoflow expects
    ERROR = 3  # rdoflow could not do the job (unreachable host, server error)


app = typer.Typer(
    name="rdoflow",
    help="Lifecycle CI for RDO/TripleO clouds, as Prefect flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Site configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")

out = Console()
err = Console(stderr=True)


def _exit_status_for(exc: BaseException) -> ExitStatus:
    if isinstance(exc, ConfigError):
        return ExitStatus.BAD_INPUT
    return ExitStatus.ERROR


def _fail(exc: RdoflowError) -> typer.Exit:
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            err.print(problem, markup=False, highlight=False)
        if exc.hint:
            err.print(f"hint: {exc.hint}", markup=False, highlight=False)
    else:
        err.print(exc.render(), markup=False, highlight=False)
    return typer.Exit(_exit_status_for(exc))


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
) -> None:
    """rdoflow: review, bootstrap, introspect, deploy, upgrade and compare."""


@config_app.command("validate")
def config_validate(
    file: Annotated[Path, typer.Argument(help="Site config YAML file.", show_default=False)],
) -> None:
    """Check a site config; print each problem (exit 2) or a short summary (exit 0)."""
    from rdoflow.site import describe_site, load_site

    try:
        site = load_site(file)
    except ConfigError as exc:
        raise _fail(exc) from None
    for line in describe_site(site):
        out.print(line, markup=False, highlight=False)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rdoflow")


if __name__ == "__main__":
    sys.exit(main())
