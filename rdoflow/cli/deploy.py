"""``rdoflow deploy``: register the work pool, the block types and every deployment on a Prefect server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rdoflow.cli.output import out


def deploy(
    site: Annotated[Optional[list[Path]], typer.Option(
        "--site", help="A site config: also register nightly/<its name> at 02:00 UTC with it as the default "
                       "(repeatable).")] = None,
) -> None:
    """Register rdoflow on the Prefect server in PREFECT_API_URL, without prompting (CI can run it).

    The process work pool 'rdoflow' (created when missing), the block types, and every deployment of
    prefect.yaml with its schedules and triggers. Then start a worker: prefect worker start --pool rdoflow
    """
    from rdoflow.deployments.register import POOL, register

    registered = register(sites=site or [])
    out.print(f"registered on work pool '{POOL}':", markup=False, highlight=False)
    width = max(len(deployment.name) for deployment in registered)
    for deployment in registered:  # one line each, never wrapped: a CI log keeps it whole
        when = "; ".join(deployment.schedules + deployment.triggers) or "when run (UI, CLI, API)"
        out.print(f"  {deployment.name:<{width}}  {when}", markup=False, highlight=False)
    out.print(f"next: start a worker from this directory: prefect worker start --pool {POOL}",
              markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
