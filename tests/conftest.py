"""Shared servers for the tests: OpenSSH's sshd on loopback and a Prefect test server.

Both are session-scoped: started once, used by every test that asks, stopped at the end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Before Prefect is imported: no telemetry leaves the machine, and nothing of a
# developer's own ~/.prefect is read or written by the tests.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
if "PREFECT_HOME" not in os.environ:
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="rdoflow-test-prefect-")
    atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")

from uuid import UUID  # noqa: E402

import pytest  # noqa: E402

from rdoflow.blocks import SSHHost  # noqa: E402
from rdoflow.lab.sshd import LoopbackSSHD, start_sshd  # noqa: E402
from rdoflow.tasks.ssh.connect import POOL  # noqa: E402
from rdoflow.waiting import Deadline  # noqa: E402


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> LoopbackSSHD:
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    POOL.close_all()
    server.stop()


@pytest.fixture
def ssh_host(sshd: LoopbackSSHD) -> SSHHost:
    """The loopback sshd as a block: key file, verified host key."""
    return SSHHost(**sshd.endpoint().model_dump())


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """The built-in lab (sshd, Ironic, Heat, the node daemon) with 20 nodes, up for the whole session.

    Its timings are shortened: the tests check behaviour, not the rehearsal's pace."""
    from rdoflow.lab import config as labconfig
    from rdoflow.lab.control import down, up

    root = tmp_path_factory.mktemp("lab-parent") / "lab"
    root.mkdir()
    knobs = labconfig.LabConfig(nodes=20, controllers=2, release="train")  # the lab's own commands, tested here
    knobs.timing.undercloud_install, knobs.timing.node_configure, knobs.timing.ramdisk_boot = 0.2, 0.05, 0.2
    knobs.suite.tempest = "generated"  # the tests count its chosen outcomes (and need no Keystone)
    labconfig.save(root, knobs)
    state = up(root, say=lambda line: None)
    yield state
    POOL.close_all()
    down(root, say=lambda line: None)


def fast_knobs(nodes: int = 6, controllers: int = 1):
    """Lab knobs with the rehearsal's pace shortened: tests check behaviour, not timing."""
    from rdoflow.lab import config as labconfig

    # The lab's Train imitation: most modules test the stages' logic, which its persistent Heat and quick
    # deploy serve in seconds; the modules that test the real TripleO client set release "zed".
    knobs = labconfig.LabConfig(nodes=nodes, controllers=controllers, release="train")
    knobs.timing.undercloud_install, knobs.timing.node_configure, knobs.timing.ramdisk_boot = 0.2, 0.05, 0.2
    knobs.suite.seconds = 0.0
    knobs.suite.tempest = "generated"  # quick, with outcomes the tests choose; the real Tempest has tests of its own
    return knobs


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """A fresh lab of its own for one test module, so that flows that enroll nodes and deploy stacks
    do not see another module's. A module sets ``LAB_KNOBS = fast_knobs(...)`` to size it (default:
    6 nodes, 1 controller). Its site config is ``Path(module_lab.dir) / "site.yaml"``; results go to
    ``results/`` beside it."""
    from rdoflow.lab import config as labconfig
    from rdoflow.lab.control import down, up

    root = tmp_path_factory.mktemp("module-lab") / "lab"
    root.mkdir()
    labconfig.save(root, getattr(request.module, "LAB_KNOBS", None) or fast_knobs())
    state = up(root, results=root.parent / "results", say=lambda line: None)
    yield state
    POOL.close_all()
    down(root, say=lambda line: None)


@pytest.fixture(scope="module")
def site(module_lab):
    """The module lab's site config (a module that needs more of its site, a deployed stack say, defines
    its own ``site``)."""
    from rdoflow.config.site import load_site

    return load_site(Path(module_lab.dir) / "site.yaml")


@pytest.fixture(scope="module")
def conn(site):
    """The site's cloud as the flows reach it, through its clouds.yaml (Ironic, and inspector when it runs)."""
    from rdoflow.blocks.openstack import OpenStackCloud

    return OpenStackCloud.from_site(site.cloud).connect()


@pytest.fixture
def lab_knobs(lab):
    """The lab's knobs, for a test to change; saved back to what they were when the test ends."""
    from rdoflow.lab import config as labconfig

    before = labconfig.load(lab.dir)
    yield before.model_copy(deep=True)
    labconfig.save(lab.dir, before)


@pytest.fixture
def lab_host(lab) -> SSHHost:
    """The lab's undercloud host as a block, host key verified."""
    return SSHHost(**lab.sshd().endpoint().model_dump())


@pytest.fixture(scope="session")
def prefect_server():
    """A real Prefect API server (temporary SQLite database) for the whole session."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        # Each synchronous flow call otherwise waits ~1 s for its heartbeat thread.
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


def task_runs_of(flow_run_id: UUID) -> list:
    """The task runs of one flow run, once the Prefect server has recorded all of them.

    The client sends task run states as events and the server stores them in batches: right after a flow
    returns, a task run may be missing there or still read as Running. So the client's events are sent
    first, then the server is read until every task run is final and two reads agree. Waited for, not
    slept on."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    wait, seen = Deadline(60, f"the task runs of flow run {flow_run_id}", target="recorded"), None
    with get_client(sync_client=True) as client:
        for _ in wait:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            now = sorted((str(run.id), run.state.type if run.state else None) for run in runs)
            pending = [run.name for run in runs if run.state is None or not run.state.is_final()]
            if not pending and now == seen:
                return runs
            seen, wait.last_seen = now, f"not final: {', '.join(pending)}" if pending else f"{len(runs)} task runs"


def logs_of(flow_run_id: UUID) -> list[str]:
    """Every log message the Prefect server holds for one flow run (after flushing the client's queue)."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    return read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))


def read_logs(log_filter) -> list[str]:
    """Every log message the server holds that ``log_filter`` selects, page by page (after flushing the
    client's queue)."""
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    messages: list[str] = []
    page = 200  # the server's most per request
    with get_client(sync_client=True) as client:
        for _ in range(10_000):  # pages, read until a short one
            logs = client.read_logs(log_filter=log_filter, limit=page, offset=len(messages))
            messages += [entry.message for entry in logs]
            if len(logs) < page:
                break
    return messages


def artifact_of(flow_run_id: UUID, key: str):
    """The newest artifact ``key`` that this flow run (or a task run of it) left; None when it left none."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]), key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC, limit=1)
    return found[0] if found else None


def remote_processes(marker: str) -> list[str]:
    """Command lines of the processes on this machine (the sshd's host) that mention ``marker``."""
    from tests.processes import processes_mentioning

    return list(processes_mentioning(marker).values())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Labs that outlived their tests (a test cut short by its timeout, a killed ``rdoflow``) are stopped
    when this process's session ends, so that no sshd or PostgreSQL of theirs runs on."""
    from tests.processes import sweep_labs

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    try:
        basetemp = factory.getbasetemp()
    except (OSError, ValueError):
        return
    for stopped in sweep_labs(basetemp):
        print(f"\nconftest: stopped a lab left behind: {stopped}")


# The servers that make a test slow: a lab (Ironic, Heat, PostgreSQL, the nodes), a Prefect API server, or a
# module's own Prefect server with workers. A test that asks for none of them is in the quick tier.
SLOW_FIXTURES = frozenset({"lab", "module_lab", "lab_knobs", "lab_host", "prefect_server", "server", "pg_server"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the quick tier (``pytest -m quick``): every test whose fixtures start no lab and no Prefect server.

    Decided from each test's fixture closure, so a test that starts asking for a lab leaves the tier by itself.
    """
    for item in items:
        if not SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.quick)
    # The longest files first: with --dist loadfile a long file handed out last is the whole run's tail. A file's
    # largest timeout (3x what its tests were measured to take) stands for its length. The sort is stable: each
    # file's tests keep their order, and files of one weight theirs.
    default = float(config.getini("timeout") or 0)

    def timeout(item: pytest.Item) -> float:
        marker = item.get_closest_marker("timeout")
        return float(marker.args[0]) if marker and marker.args else default

    weight: dict = {}
    for item in items:
        weight[item.path] = max(weight.get(item.path, 0.0), timeout(item))
    items.sort(key=lambda item: -weight[item.path])
