"""The built-in lab as the site of one pipeline run: brought up fresh for the run, taken down after it.

This is what the ``nightly`` deployment does by default (and ``./rdo nightly``): the run needs no
site of its own, and a scheduled run on a worker never meets the state an earlier run left.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal
from uuid import uuid4

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from pydantic import BaseModel, Field

from rdoflow.config.site import SiteConfig, load_site

LABS = Path(".rdoflow/labs")


class LabOptions(BaseModel):
    """The built-in lab a run brings up for itself when it is given no site."""

    nodes: int = Field(4, ge=2, description="Bare-metal nodes in the lab's instackenv.json (one controller, "
                                            "the others computes).")
    dir: str | None = Field(None, description="Where the lab keeps its files while the run lasts; empty: a new "
                                              "directory under .rdoflow/labs/ of the worker's working directory.")
    results: str = Field(".rdoflow/results", description="Where the regression runs are stored: a directory "
                                                         "(relative to the working directory) or an fsspec URL.")
    keep: bool = Field(False, description="Leave the lab running after the run, to look at it; take it down "
                                          "with 'rdoflow lab down --dir DIR'.")
    tempest: Literal["lab", "full"] = Field(
        "lab", description="The real Tempest's selection: 'lab', 102 tests of the Ironic and Heat plugins; "
                           "'full', their whole admin API, API and functional suites (about 500 tests, "
                           "docs/lab.md).")


def lab_directory(options: LabOptions) -> Path:
    """The lab's directory: the one asked for, or a new one for this run."""
    if options.dir:
        return Path(options.dir).resolve()
    return (LABS / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid4().hex[:6]}").resolve()


def _results_location(results: str) -> str:
    return results if "://" in results else str(Path(results).resolve())


def _logger():
    from prefect.logging import get_run_logger

    return get_run_logger() if TaskRunContext.get() else None


def _say(line: str) -> None:
    logger = _logger()
    if logger is not None:
        logger.info("%s", line)
    else:
        print(line, flush=True)


def _report(lab_dir: Path, seconds: float) -> str:
    from rdoflow.lab.control import LabState

    state = LabState.load(lab_dir)
    rows = "\n".join(f"| {name} | 127.0.0.1:{state.ports.get(name, '-')} | {pid} |"
                     for name, pid in state.pids.items())
    return (f"# Built-in lab: up in {seconds:.1f} s\n\n"
            f"Directory `{lab_dir}`; site config `{lab_dir / 'site.yaml'}`.\n\n"
            f"| service | address | pid |\n|---|---|---|\n{rows}\n")


@task(name="lab-up", task_run_name="bring the built-in lab up", cache_policy=NO_CACHE)
def lab_up(options: LabOptions) -> Path:
    """Start a fresh lab (sshd, Ironic, Heat, the nodes) and return its site config file."""
    from rdoflow.lab.control import up

    lab_dir = lab_directory(options)
    started = time.monotonic()
    up(lab_dir, nodes=options.nodes, results=_results_location(options.results), say=_say,
       tempest_selection=options.tempest)
    create_markdown_artifact(_report(lab_dir, time.monotonic() - started), key="lab",
                             description=f"the built-in lab in {lab_dir}")
    return lab_dir / "site.yaml"


@task(name="lab-down", task_run_name="take the built-in lab down", cache_policy=NO_CACHE)
def lab_down(lab_dir: Path) -> None:
    """Stop every process of the lab and remove its directory."""
    from rdoflow.lab.control import down

    down(lab_dir, say=_say)


@contextmanager
def built_in_lab(options: LabOptions) -> Iterator[SiteConfig]:
    """A fresh lab for the duration of the block; yields its site (with ``results`` as its store)."""
    site_file = lab_up(options)
    try:
        yield load_site(site_file)
    finally:
        if options.keep:
            _say(f"the lab is left running: rdoflow lab down --dir {site_file.parent}")
        else:
            lab_down(site_file.parent)
