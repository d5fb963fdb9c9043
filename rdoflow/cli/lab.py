"""``rdoflow lab up | status | down``: the built-in lab on 127.0.0.1 (see lab/control.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from rdoflow.cli.output import out

lab_app = typer.Typer(help="The built-in lab: an undercloud on 127.0.0.1 (sshd, Ironic, Heat).",
                      no_args_is_help=True)

LabDir = Annotated[Path, typer.Option("--dir", help="The lab's directory.")]
DEFAULT_DIR = Path(".rdoflow/lab")


@lab_app.command("up")
def lab_up(
    lab_dir: LabDir = DEFAULT_DIR,
    nodes: Annotated[Optional[int], typer.Option("--nodes", min=1, help="Bare-metal nodes in instackenv.json.")] = None,
) -> None:
    """Start the lab and write its site.yaml, clouds.yaml and instackenv.json; refuse if one runs there."""
    from rdoflow.lab.control import up

    state = up(lab_dir, nodes=nodes, say=lambda line: out.print(line, markup=False, highlight=False))
    out.print(f"site config: {Path(state.dir) / 'site.yaml'}", markup=False, highlight=False)


@lab_app.command("status")
def lab_status_command(lab_dir: LabDir = DEFAULT_DIR) -> None:
    """Each service with its address, PID and health; exit 1 when one is down."""
    from rdoflow.lab.health import lab_status

    statuses = lab_status(lab_dir)
    table = Table("service", "address", "pid", "health", "log")
    for status in statuses:
        health = f"[green]ok[/] {status.detail}" if status.healthy else f"[red]down[/] {status.detail}"
        table.add_row(status.name, status.address, str(status.pid or "-"), health, status.log)
    out.print(table)
    if not all(status.healthy for status in statuses):
        raise typer.Exit(1)


@lab_app.command("down")
def lab_down(lab_dir: LabDir = DEFAULT_DIR) -> None:
    """Stop every process the lab started (by PID) and remove its directory; and stop Prefect's temporary
    server of a run that was killed (SIGKILL), recorded in the Prefect home."""
    from rdoflow.cli.prefect_api import stop_orphaned_servers
    from rdoflow.lab.control import down

    say = lambda line: out.print(line, markup=False, highlight=False)  # noqa: E731
    stop_orphaned_servers(say)
    down(lab_dir, say=say)
