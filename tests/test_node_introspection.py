"""The node-introspection stage against the lab's real Ironic: enroll, inspect, provide, fail, time out, resume."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from openstack import exceptions

from rdoflow.blocks.openstack import OpenStackCloud
from rdoflow.errors import ConfigError, ResourceFailed
from rdoflow.flows.node_introspection import node_introspection
from rdoflow.lab import config as labconfig
from rdoflow.lab.inventory import node_mac
from rdoflow.tasks.baremetal.introspection import (
    PROGRESS_KEY,
    REPORT_FILE,
    REPORT_KEY,
    TABLE_KEY,
)
from rdoflow.tasks.baremetal.inventory import read_inventory
from rdoflow.tasks.baremetal.ironic import (
    Arrivals,
    Window,
    enroll,
    enroll_and_introspect,
)
from tests.conftest import fast_knobs, logs_of, task_runs_of

LAB_KNOBS = fast_knobs(nodes=6, controllers=1)


@pytest.fixture(scope="module")
def described(site) -> dict[str, dict]:
    """The lab's instackenv.json nodes by name."""
    return {node["name"]: node for node in json.loads(site.inventory.file.read_text())["nodes"]}


def with_inventory(site, **changes):
    return site.model_copy(update={"inventory": site.inventory.model_copy(update=changes)})


@contextmanager
def lab_knobs(lab_dir: Path):
    """The lab's knobs to change for one test; put back as they were afterwards."""
    before = labconfig.load(lab_dir)
    knobs = before.model_copy(deep=True)
    try:
        yield knobs
    finally:
        labconfig.save(lab_dir, before)


def artifacts_of(flow_run_id) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        only_this_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        found = client.read_artifacts(artifact_filter=only_this_run)
    return {artifact.key: artifact for artifact in found}


def test_an_invalid_inventory_is_refused_before_anything_is_enrolled(prefect_server, site, conn, described, tmp_path):
    nodes = list(described.values())
    nodes[2] = dict(nodes[2], mac=[nodes[1]["mac"][0].upper()])
    bad = tmp_path / "instackenv.json"
    bad.write_text(json.dumps({"nodes": nodes}, indent=2))
    state = node_introspection(site=with_inventory(site, file=bad), return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ConfigError)
    assert error.problems == [f"{bad}: node 2 (node-02): mac: 52:54:00:00:00:01 is also a MAC of node 1 (node-01); "
                              "a MAC belongs to one node (line 42)"]
    assert list(conn.baremetal.nodes()) == []


@pytest.fixture(scope="module")
def first_run(prefect_server, site, conn, tmp_path_factory):
    """A node left from an earlier import under another name, holding node-01's MAC; then the stage runs."""
    stale = conn.baremetal.create_node(name="old-name-01", driver="fake-hardware", provision_state="enroll")
    conn.baremetal.create_port(node_id=stale.id, address=node_mac(1))
    report_dir = tmp_path_factory.mktemp("reports")
    state = node_introspection(site=site, report_dir=report_dir, return_state=True)
    return SimpleNamespace(state=state, result=state.result(), stale=stale.id, report_dir=report_dir)


def test_every_node_is_enrolled_inspected_and_available_with_the_hardware_of_the_inventory(first_run, conn, described):
    result = first_run.result
    assert sorted(node.name for node in result.succeeded.values()) == sorted(described)
    assert not result.failed and not result.timed_out and result.passed
    states = {node.name: node.provision_state for node in conn.baremetal.nodes()}
    assert states == {name: "available" for name in described}
    for node in result.succeeded.values():
        wanted, hardware = described[node.name], node.hardware
        assert (hardware.cpus, hardware.memory_mb, hardware.local_gb) == (
            int(wanted["cpu"]), int(wanted["memory"]), int(wanted["disk"]))
        assert [(disk.name, disk.size_gb) for disk in hardware.disks] == [("/dev/sda", int(wanted["disk"]) + 1)]
        assert [nic.mac for nic in hardware.nics] == wanted["mac"] and node.attempts == 1


def test_a_node_with_one_of_the_macs_under_another_name_is_updated_not_duplicated(first_run, conn):
    nodes = list(conn.baremetal.nodes())
    assert len(nodes) == 6 and len(list(conn.baremetal.ports())) == 6
    assert conn.baremetal.get_node(first_run.stale).name == "node-01"
    assert first_run.result.enrollment.updated == ["node-01"] and len(first_run.result.enrollment.created) == 5


def test_progress_node_table_and_report_are_left_on_the_server(first_run):
    artifacts = artifacts_of(first_run.state.state_details.flow_run_id)
    assert artifacts[PROGRESS_KEY].type == "progress" and artifacts[PROGRESS_KEY].data == 100.0
    table = json.loads(artifacts[TABLE_KEY].data)
    assert sorted(row["name"] for row in table) == [f"node-0{i}" for i in range(6)]
    assert {row["state"] for row in table} == {"available"} and all(row["nics"] and row["disks"] for row in table)
    assert artifacts[REPORT_KEY].data.startswith("# Node introspection: PASS")
    assert (first_run.report_dir / REPORT_FILE).read_text() == artifacts[REPORT_KEY].data


def test_no_password_reaches_the_report_the_artifacts_or_the_logs(first_run, described):
    flow_run_id = first_run.state.state_details.flow_run_id
    shown = [str(artifact.data) for artifact in artifacts_of(flow_run_id).values()]
    shown += logs_of(flow_run_id) + [(first_run.report_dir / REPORT_FILE).read_text()]
    for node in described.values():
        assert not [text for text in shown if node["pm_password"] in text]


def node_stamps(conn) -> dict[str, str]:
    """When each node last changed, as Ironic records it (openstacksdk does not show provision_updated_at)."""
    answer = conn.baremetal.get("/nodes/detail", microversion="1.13", raise_exc=True)
    return {node["uuid"]: node["provision_updated_at"] for node in answer.json()["nodes"]}


def test_a_second_run_is_cached_and_changes_no_node(first_run, site, conn):
    before = node_stamps(conn)
    state = node_introspection(site=site, return_state=True)
    assert state.is_completed()
    runs = {run.name.rsplit("-", 1)[0]: run for run in task_runs_of(state.state_details.flow_run_id)}
    assert runs["introspect-nodes"].state.name == "Cached"
    assert node_stamps(conn) == before and len(before) == 6


def test_enrolling_again_creates_nothing(first_run, site, conn):
    enrollment = enroll(conn, read_inventory(site.inventory.file))
    assert (enrollment.created, enrollment.updated, enrollment.ports_created) == ([], [], 0)
    assert len(enrollment.unchanged) == 6 and len(list(conn.baremetal.nodes())) == 6


def node_lists_sent(conn, during) -> int:
    """How many node lists (``GET /v1/nodes?...``) ``during()`` sent on the connection."""
    lists = []

    def record(response, *args, **kwargs):
        if response.request.method == "GET" and urlsplit(response.request.url).path.rstrip("/").endswith("/v1/nodes"):
            lists.append(response.request.url)

    hooks = conn.session.session.hooks["response"]
    hooks.append(record)
    try:
        during()
    finally:
        hooks.remove(record)
    return len(lists)


def test_a_slot_a_node_leaves_is_taken_in_the_same_round_from_the_same_list(first_run, conn):
    """Six nodes already available with their hardware known, one slot: each node ends as soon as it is
    looked at, and the next takes its slot in the same round. One list, not one per node."""
    uuids = [node.id for node in conn.baremetal.nodes()]
    results = {}
    assert node_lists_sent(conn, lambda: results.update(Window(conn, concurrency=1).run(uuids))) == 1
    assert sorted(results) == sorted(uuids) and {result.outcome for result in results.values()} == {"pass"}


def test_concurrency_counts_nodes_inspected_at_once_and_the_next_are_managed_ahead(first_run, module_lab, site, conn):
    """Concurrency 2 over six nodes, each ramdisk taking 1 s: never more than two nodes inspected at once
    (TripleO's meaning of --concurrency), and while two are, a third is already 'manageable' (managed ahead,
    or inspected and waiting for its provide), which a window holding a slot from manage to available never
    has. Ironic is sampled every 50 ms from a connection of its own."""
    uuids = [node.id for node in conn.baremetal.nodes()]
    watcher, samples, done = OpenStackCloud.from_site(site.cloud).connect(), [], threading.Event()

    def sample() -> None:
        while not done.is_set():
            states = Counter(node.provision_state for node in watcher.baremetal.nodes(fields=["uuid", "provision_state"]))
            samples.append((states["inspecting"] + states["inspect wait"], states["manageable"]))
            time.sleep(0.05)

    with lab_knobs(module_lab.dir) as knobs:
        knobs.timing.ramdisk_boot = 1.0
        labconfig.save(module_lab.dir, knobs)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            results = Window(conn, concurrency=2, refresh=True).run(uuids)
        finally:
            done.set()
            sampler.join()
    assert {result.outcome for result in results.values()} == {"pass"} and len(results) == 6
    assert max(inspected for inspected, _ in samples) == 2
    assert any(inspected == 2 and manageable >= 1 for inspected, manageable in samples)


def test_a_window_fed_by_an_enrollment_takes_each_node_as_it_comes_and_ends_with_the_feed(first_run, conn):
    """The window starts with one node; the second is handed over only once the first has ended."""
    first, second = (node.id for node in conn.baremetal.nodes() if node.name in ("node-00", "node-01"))
    arrivals, handed = Arrivals(), []
    arrivals.put(first)

    def progress(done: int, total: int, said: str) -> None:
        if not handed:
            handed.append((done, total))
            arrivals.put(second)
            arrivals.close()

    results = Window(conn, concurrency=4).run(arrivals, progress=progress, total=2)
    assert list(results) == [first, second] and handed == [(1, 2)]
    assert {result.outcome for result in results.values()} == {"pass"}


def test_a_node_ironic_refuses_to_enroll_ends_the_window_with_ironics_error(first_run, conn, described, tmp_path):
    """The window has taken the nodes that stand; the one Ironic refuses (a name with a space) ends it all,
    with Ironic's answer, as it ended the enrollment before the two overlapped."""
    nodes = [*described.values(), dict(next(iter(described.values())), name="node 06", mac=["52:54:00:00:06:66"])]
    inventory = tmp_path / "instackenv.json"
    inventory.write_text(json.dumps({"nodes": nodes}, indent=2))
    with pytest.raises(exceptions.BadRequestException, match="node 06"):
        enroll_and_introspect(conn, read_inventory(inventory), Window(conn, node_timeout=60))
    assert sorted(node.name for node in conn.baremetal.nodes()) == sorted(described)


@pytest.fixture
def failing_node(first_run, module_lab, site):
    """node-03's ramdisk reports an error; afterwards the fault is cleared and node-03 inspected again."""
    with lab_knobs(module_lab.dir) as knobs:
        knobs.faults.inspect_fail = {"node-03": "no disks found (lab fault)"}
        labconfig.save(module_lab.dir, knobs)
        yield "node-03"
    assert node_introspection(site=site).succeeded  # the fault is gone: node-03 becomes available again


def test_a_node_failing_inspection_is_named_and_the_others_become_available(failing_node, site, conn):
    state = node_introspection(site=with_inventory(site, min_available={"control": 1, "compute": 5}), refresh=True,
                               return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ResourceFailed)
    assert error.message.startswith("too few nodes available (compute: 4 available, 5 required); first error: ")
    assert "no disks found (lab fault)" in error.message
    [evidence] = error.evidence
    assert evidence.startswith("node-03 (") and "[compute] failed in state inspect failed: " in evidence
    states = {node.name: node.provision_state for node in conn.baremetal.nodes()}
    assert states == {**{f"node-0{i}": "available" for i in range(6)}, "node-03": "inspect failed"}


def test_a_failed_node_does_not_fail_the_stage_when_enough_remain(failing_node, site):
    result = node_introspection(site=site, refresh=True)
    [failed] = result.failed.values()
    assert failed.name == "node-03" and failed.attempts == 2  # the first try and site.inventory.retries (1)
    assert "no disks found (lab fault)" in failed.last_error and len(result.succeeded) == 5


def test_a_node_that_takes_too_long_is_reported_as_timed_out(first_run, module_lab, conn):
    uuids = [node.id for node in conn.baremetal.nodes() if node.name in ("node-04", "node-05")]
    with lab_knobs(module_lab.dir) as knobs:
        knobs.timing.ramdisk_boot = 12.0  # far longer than node_timeout, which restarts at the inspect request
        labconfig.save(module_lab.dir, knobs)
        results = Window(conn, node_timeout=4, retries=0, refresh=True).run(uuids)
    assert sorted(results) == sorted(uuids)
    for result in results.values():
        assert result.outcome == "timeout"
        assert result.last_error.startswith("not available after 4 s (state 'inspect wait', attempt 1)")
    again = Window(conn, node_timeout=30).run(uuids)  # the ramdisk is quick again: back to available
    assert {result.outcome for result in again.values()} == {"pass"}


def test_a_node_timed_out_in_inspect_wait_is_aborted_and_inspected_again_while_a_retry_is_left(
        first_run, module_lab, conn):
    """The abort must be accepted (Ironic takes it from 1.41 only): the node comes back 'inspect failed'
    with Ironic's own abort note, is inspected again, and ends aborted rather than left booting."""
    [uuid] = [node.id for node in conn.baremetal.nodes() if node.name == "node-05"]
    with lab_knobs(module_lab.dir) as knobs:
        # Longer than both attempts: each times out in 'inspect wait' (6 s leaves a busy machine time to get
        # there, and stays under the lab Ironic's own inspect_wait_timeout of 15 s).
        knobs.timing.ramdisk_boot = 20.0
        labconfig.save(module_lab.dir, knobs)
        results = Window(conn, node_timeout=6, retries=1, refresh=True).run([uuid])
        node = conn.baremetal.get_node(uuid)
    result = results[uuid]
    assert (result.outcome, result.attempts) == ("timeout", 2)
    assert result.last_error.startswith("not available after 6 s (state 'inspect wait', attempt 2)")
    # Aborted, not left in 'inspect wait' for Ironic's inspect_wait_timeout (15 s on the lab) to end it.
    assert node.provision_state == "inspect failed" and "abort" in node.last_error.lower()
    again = Window(conn, node_timeout=30).run([uuid])
    assert again[uuid].outcome == "pass"
