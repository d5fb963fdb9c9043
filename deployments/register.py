"""Registering rdoflow with a Prefect server: its work pool, its block types and prefect.yaml's deployments.

``register()`` is what ``rdoflow deploy`` runs. It asks nothing, so a CI job can run it, and running it
again updates everything in place (Prefect keeps the deployments' ids and automations).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from rdoflow.errors import ConfigError, RdoflowError

PROJECT = Path(__file__).resolve().parent.parent
POOL = "rdoflow"  # the work pool every deployment of prefect.yaml names
NIGHTLY_CRON = "0 2 * * *"  # as prefect.yaml's nightly: 02:00 UTC
RESERVED = {"nightly", "on-prerelease-drop"}  # the nightly flow's deployments in prefect.yaml


class RegistrationFailed(RdoflowError):
    reference = "deploy-failed"


class ServerUnreachable(RdoflowError):
    reference = "prefect-server-unreachable"


class Registered(BaseModel):
    """One deployment as the server holds it after registration."""

    name: str  # FLOW/DEPLOYMENT
    schedules: list[str] = []
    triggers: list[str] = []
    paused: bool = False


def api_url() -> str:
    """The Prefect server deployments go to; refuses Prefect's temporary in-process server."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise ConfigError("PREFECT_API_URL", [
            "PREFECT_API_URL: not set; deployments, schedules and triggers need a Prefect server that stays up"],
            hint="start one ('prefect server start') and export PREFECT_API_URL=http://HOST:4200/api")
    return url


def ensure_work_pool(name: str = POOL) -> bool:
    """Create the process work pool ``name`` unless the server has it; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(
                name=name, type=ProcessWorker.type,
                base_job_template=ProcessWorker.get_default_base_job_template()))
            return True


def register_block_types() -> list[str]:
    """Register (or update) every block type of ``rdoflow.blocks``; their slugs."""
    from rdoflow import blocks

    types = [getattr(blocks, name) for name in blocks.__all__]
    for block_type in types:
        block_type.register_type_and_schema()
    return [block_type.get_block_type_slug() for block_type in types]


def deploy_all(project: Path = PROJECT) -> None:
    """``prefect --no-prompt deploy --all`` in the project directory (where prefect.yaml is)."""
    _prefect_deploy(["--all", "--prefect-file", str(project / "prefect.yaml")], project)


def site_for_nightly(site_file: Path):
    """The site of ``site_file``, checked, whose name can be a nightly deployment's."""
    from rdoflow.config.site import load_site

    site = load_site(site_file)
    if site.name in RESERVED:
        raise ConfigError(str(site_file), [f"{site_file}: name: {site.name!r} is the name of a deployment of "
                                           f"prefect.yaml; expected another name for this site"])
    return site


def deploy_site_nightly(site_file: Path, project: Path = PROJECT) -> str:
    """A nightly deployment for one real site: ``nightly/<site name>``, at 02:00 UTC like prefect.yaml's,
    with the site (checked here, its paths made absolute) as its default parameters. Returns its name.

    A site file with problems is a ConfigError naming each, and nothing is registered."""
    site = site_for_nightly(site_file)
    parameters = json.dumps({"site": site.model_dump(mode="json")})
    _prefect_deploy(["flows/nightly.py:nightly", "--name", site.name, "--pool", POOL, "--cron", NIGHTLY_CRON,
                     "--timezone", "UTC", "--concurrency-limit", "1", "--params", parameters,
                     "--tag", "rdoflow", "--tag", "nightly", "--description",
                     f"The nightly pipeline against the site {site.name} ({Path(site_file).resolve()})."], project)
    return f"nightly/{site.name}"


def _prefect_deploy(arguments: list[str], project: Path, timeout: float = 600) -> None:
    prefect = Path(sys.executable).with_name("prefect")
    argv = [str(prefect), "--no-prompt", "deploy", *arguments]
    try:
        done = subprocess.run(argv, cwd=project, env=os.environ | {"PREFECT_API_URL": api_url()},
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RegistrationFailed(f"prefect deploy did not finish within {timeout:.0f} s",
                                 evidence=(exc.stdout or "").splitlines()[-15:]) from None
    if done.returncode != 0:
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        first = next((line for line in lines if "Error" in line or "error" in line), lines[-1] if lines else "")
        raise RegistrationFailed(f"prefect deploy failed (exit status {done.returncode}): {first.strip()}",
                                 evidence=lines[-15:], hint="check prefect.yaml; 'prefect deploy --all' shows "
                                                            "the same error")


def registered_deployments() -> list[Registered]:
    """Every deployment on the server with its schedules and the triggers of its automations."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        flows = {flow.id: flow.name for flow in client.read_flows()}
        automations = client.read_automations()
        found = []
        for deployment in client.read_deployments():
            triggers = [_describe_trigger(automation.trigger) for automation in automations
                        if any(str(getattr(action, "deployment_id", "")) == str(deployment.id)
                               for action in automation.actions)]
            found.append(Registered(name=f"{flows[deployment.flow_id]}/{deployment.name}",
                                    schedules=[_describe_schedule(s) for s in deployment.schedules],
                                    triggers=triggers, paused=bool(deployment.paused)))
    return sorted(found, key=lambda registered: registered.name)


def _describe_schedule(schedule) -> str:
    inner = schedule.schedule
    if getattr(inner, "cron", None):
        text = f"cron '{inner.cron}' ({inner.timezone or 'UTC'})"
    elif getattr(inner, "interval", None):
        text = f"every {inner.interval.total_seconds() / 60:g} min"
    else:
        text = str(inner)
    return text if schedule.active else f"{text}, inactive"


def _describe_trigger(trigger) -> str:
    expect = ", ".join(sorted(getattr(trigger, "expect", None) or [])) or "any event"
    return f"on event {expect}"


def register(project: Path = PROJECT, pool: str = POOL, sites: list[Path] = ()) -> list[Registered]:
    """Make the server ready to run rdoflow: the work pool, the block types, every deployment of
    prefect.yaml, and a nightly for each site file of ``sites``. Returns what the server then holds."""
    import httpx

    api_url()
    for site_file in sites:  # every site is checked before anything is registered
        site_for_nightly(site_file)
    try:
        ensure_work_pool(pool)
        register_block_types()
    except (httpx.ConnectError, httpx.TimeoutException, OSError) as exc:
        raise ServerUnreachable(f"the Prefect server at {api_url()} does not answer: {exc}",
                                hint="start it ('prefect server start') or fix PREFECT_API_URL") from exc
    deploy_all(project)
    for site_file in sites:
        deploy_site_nightly(site_file, project)
    return registered_deployments()
