"""Ironic through openstacksdk: enroll an inventory idempotently, then manage → inspect → provide a window of nodes.

Plain functions over a Connection. Polling is one node list per round for all the nodes in flight,
with exponential backoff that starts over whenever something moved; state changes are single PUTs
(openstacksdk's ``set_node_provision_state`` adds a GET after each). Work on many nodes returns a
partition keyed by UUID: one node failing never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import Any

from openstack import exceptions
from openstack.connection import Connection

from rdoflow.outcome import Outcome
from rdoflow.tasks.baremetal.inventory import Inventory, NodeSpec
from rdoflow.tasks.baremetal.model import (
    Enrollment,
    Hardware,
    NodeResult,
    capability_pairs,
    profile_of,
)
from rdoflow.waiting import Deadline

log = logging.getLogger("rdoflow.baremetal")

STATE_VERSION = "1.13"  # manage, inspect and provide all exist at 1.13 (Ironic since Liberty)
# Aborting an inspection is accepted only from 1.41 (Ironic 12.1, Stein): sent at 1.13, Ironic answers 406
# and the node goes on booting its ramdisk until Ironic's own inspect_wait_timeout fails it.
ABORT_VERSION = "1.41"
INVENTORY_VERSION = "1.81"  # GET /v1/nodes/{id}/inventory (Ironic's built-in inspection, 2023.1)
RETRIABLE = [409, 503]  # node locked by the conductor, service busy: what openstacksdk retries too
POLL_FIELDS = ["uuid", "name", "provision_state", "target_provision_state", "last_error", "maintenance",
               "maintenance_reason", "properties"]
MATCH_FIELDS = ["uuid", "name", "driver", "driver_info", "properties", "resource_class", "provision_state",
                "maintenance"]
HARDWARE_KEYS = ("cpus", "memory_mb", "local_gb")
MASKED = "******"  # how Ironic shows a password it holds
CONNECT_RETRIES = 3  # a pooled keep-alive connection the API server closed: resend (keystoneauth backs off)
POOL_SIZE = 32  # connections kept per host: a Window's senders (up to 20) and an enrollment's 8 at once
Progress = Callable[[int, int, str], None]


def steady(conn: Connection) -> Connection:
    """The Connection with dropped connections retried: requests sent from several threads keep more
    pooled connections, and an API server closes idle ones ('Remote end closed connection'). Its pool
    keeps ``POOL_SIZE`` connections per host, not urllib3's 10: a window's senders and an enrollment's
    run at once, and each connection past the pool is dropped after its request with a warning."""
    conn.baremetal.connect_retries = CONNECT_RETRIES
    http = conn.session.session
    for scheme, adapter in list(http.adapters.items()):
        if getattr(adapter, "_pool_maxsize", POOL_SIZE) < POOL_SIZE:  # keystoneauth's keep-alive adapter
            tls = {key: getattr(adapter, key) for key in ("tls_ciphers", "tls_min_version") if hasattr(adapter, key)}
            http.mount(scheme, type(adapter)(pool_maxsize=POOL_SIZE, **tls))
    return conn


class RequestCounter:
    """Counts the HTTP requests a Connection sends (a response hook on its requests session)."""

    def __init__(self, conn: Connection) -> None:
        self.by_method: Counter = Counter()
        self._lock = threading.Lock()
        self._hooks = conn.session.session.hooks["response"]
        self._hooks.append(self._count)

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> None:
        with self._lock:  # requests are sent from several threads
            self.by_method[response.request.method] += 1

    @property
    def total(self) -> int:
        return sum(self.by_method.values())

    def stop(self) -> None:
        if self._count in self._hooks:
            self._hooks.remove(self._count)


# --- enrolling -------------------------------------------------------------------------------------

def matcher(nodes: list, ports: list) -> Callable[[NodeSpec], Any]:
    """Finds the Ironic node of an inventory node: same name, else a port with one of its MACs."""
    by_name = {node.name: node for node in nodes if node.name}
    by_id = {node.id: node for node in nodes}
    node_of_mac = {port.address.lower(): port.node_id for port in ports}

    def match(spec: NodeSpec) -> Any:
        if spec.name and spec.name in by_name:
            return by_name[spec.name]
        return next((by_id[node_of_mac[mac]] for mac in spec.macs if node_of_mac.get(mac) in by_id), None)

    return match


def listing(conn: Connection) -> tuple[list, list]:
    bm = conn.baremetal
    return list(bm.nodes(fields=MATCH_FIELDS)), list(bm.ports(fields=["address", "node_uuid"]))


def merged_capabilities(held: Any, wanted: dict[str, str]) -> str:
    """The node's capabilities with the file's pairs set: pairs others added (TripleO's boot_option,
    boot_mode) stay, in their order; the same pairs in another order are no change."""
    pairs = capability_pairs(held)
    pairs.update(wanted)
    return ",".join(f"{key}:{value}" for key, value in pairs.items())


def node_patch(node: Any, spec: NodeSpec) -> list[dict]:
    """JSON patch that brings an existing node in line with the file, leaving inspection's figures alone."""
    patch = []
    if spec.name and node.name != spec.name:
        patch.append({"op": "replace", "path": "/name", "value": spec.name})
    if node.driver != spec.driver:
        patch.append({"op": "replace", "path": "/driver", "value": spec.driver})
    held = node.driver_info or {}
    # Key by key: what else the node holds (TripleO's deploy and rescue images) stays. rdoflow's own note
    # of a BMC-less node's address is written at creation only (TripleO's import drops such pm_* keys).
    for key, value in spec.driver_info().items():
        if held.get(key) not in (value, MASKED) and not key.startswith("rdoflow_"):
            patch.append({"op": "add", "path": f"/driver_info/{key}", "value": value})
    properties = node.properties or {}
    for key, value in spec.properties().items():
        if key == "capabilities":
            value = merged_capabilities(properties.get(key), spec.capabilities)
        # Inspection's figures win over the file's; the file's profile and root device hints win.
        if properties.get(key) != value and (key not in HARDWARE_KEYS + ("cpu_arch",) or key not in properties):
            patch.append({"op": "add", "path": f"/properties/{key}", "value": value})
    if node.resource_class != spec.resource_class:
        patch.append({"op": "add", "path": "/resource_class", "value": spec.resource_class})
    return patch


def enroll(conn: Connection, inventory: Inventory, senders: int = 8,
           arrivals: Arrivals | None = None) -> Enrollment:
    """Create the inventory's nodes and ports in Ironic; a node already there (same name, or one of its
    MACs on a port) is patched where it differs, never duplicated. Two list calls, then one request
    per change, sent by ``senders`` threads (each node's port after its node). Each node's UUID goes to
    ``arrivals`` as soon as the node and its ports stand, so that a Window can start on it."""
    nodes, ports = listing(steady(conn))
    match = matcher(nodes, ports)
    node_of_mac = {port.address.lower(): port.node_id for port in ports}
    result = Enrollment()

    def one(spec: NodeSpec) -> tuple:
        done = _enroll_one(conn, spec, match(spec), node_of_mac)
        if arrivals is not None:
            arrivals.put(done[0])
        return done

    with ThreadPoolExecutor(max_workers=max(1, senders)) as pool:
        done = list(pool.map(one, inventory.nodes))
    for spec, (uuid, change, ports_created, warnings) in zip(inventory.nodes, done):
        getattr(result, change).append(spec.name or (spec.macs[0] if spec.macs else spec.label))
        result.uuids.append(uuid)
        result.ports_created += ports_created
        result.warnings += warnings
    log.info("enrolled %d node(s): %d created, %d updated, %d unchanged, %d port(s) created",
             len(inventory.nodes), len(result.created), len(result.updated), len(result.unchanged),
             result.ports_created)
    return result


def enroll_and_introspect(conn: Connection, inventory: Inventory, window: Window,
                          progress: Progress | None = None) -> tuple[Enrollment, dict[str, NodeResult]]:
    """``enroll`` and ``window.run`` at once: the window takes each node as soon as it stands in Ironic.
    An enrollment that fails ends the window with its error, as it would have ended the stage before."""
    arrivals = Arrivals()

    def enrolling() -> Enrollment:
        try:
            enrollment = enroll(conn, inventory, arrivals=arrivals)
        except BaseException as exc:
            arrivals.close(exc)
            raise
        arrivals.close()
        return enrollment

    with ThreadPoolExecutor(max_workers=1) as side:
        enrolled = side.submit(enrolling)
        results = window.run(arrivals, progress=progress, total=len(inventory.nodes))
        return enrolled.result(), results


def _enroll_one(conn: Connection, spec: NodeSpec, node: Any, node_of_mac: dict[str, str]) -> tuple:
    """One node: created or patched, then its missing ports. (uuid, created|updated|unchanged, ports, warnings)"""
    bm = conn.baremetal
    if node is None:
        node = bm.create_node(name=spec.name, driver=spec.driver, driver_info=spec.driver_info(),
                              properties=spec.properties(), resource_class=spec.resource_class,
                              provision_state="enroll")
        change = "created"
    elif patch := node_patch(node, spec):
        bm.patch_node(node, patch)
        change = "updated"
    else:
        change = "unchanged"
    created, warnings = 0, []
    for mac in spec.macs:  # the inventory has no MAC twice, so no two threads create the same port
        owner = node_of_mac.get(mac)
        if owner is None:
            bm.create_port(node_id=node.id, address=mac)
            created += 1
        elif owner != node.id:
            warnings.append(f"{spec.label}: MAC {mac} is on another Ironic node ({owner}); left there")
    return node.id, change, created, warnings


def unsettled(conn: Connection, inventory: Inventory) -> list[str]:
    """Why the inventory's nodes are not all usable as they stand (empty: every node exists, is not in
    maintenance, and is ``available`` or ``active``). Two list calls."""
    nodes, ports = listing(conn)
    match = matcher(nodes, ports)
    reasons = []
    for spec in inventory.nodes:
        node = match(spec)
        if node is None:
            reasons.append(f"{spec.label}: not in Ironic")
        elif node.is_maintenance or node.provision_state not in ("available", "active"):
            reasons.append(f"{spec.label}: {node.provision_state}{' (maintenance)' if node.is_maintenance else ''}")
    return reasons


# --- manage → inspect → provide ----------------------------------------------------------------------

def set_state(conn: Connection, uuid: str, target: str) -> None:
    """One PUT to the node's provision state (no GET after it, unlike ``set_node_provision_state``)."""
    response = conn.baremetal.put(f"/nodes/{uuid}/states/provision", json={"target": target},
                                  microversion=ABORT_VERSION if target == "abort" else STATE_VERSION, raise_exc=False, retriable_status_codes=RETRIABLE)
    exceptions.raise_from_response(response, error_message=f"Failed to set node {uuid} to {target}")


def inspector_endpoint(conn: Connection) -> str | None:
    """ironic-inspector's endpoint, when the cloud has one (every TripleO release introspects through it)."""
    try:
        return conn.endpoint_for("baremetal-introspection")
    except exceptions.SDKException:
        return None


def read_hardware(conn: Connection, node: Any, *, inspector: bool = False) -> Hardware:
    """Properties from the last poll, disks and NICs from the inspection data (one GET): ironic-inspector's
    when the cloud has it, otherwise Ironic's own inventory (its built-in inspection, 2023.1 and later)."""
    try:
        if inspector:
            data = conn.baremetal_introspection.get_introspection_data(node.id)
        else:
            response = conn.baremetal.get(f"/nodes/{node.id}/inventory", microversion=INVENTORY_VERSION,
                                          raise_exc=False, retriable_status_codes=RETRIABLE)
            exceptions.raise_from_response(response)
            data = response.json()
    except exceptions.HttpException as exc:  # no data (fake inspection, data not stored): figures only
        log.warning("node %s: no inspection data from %s (%s): its disks and NICs are not known",
                    node.name or node.id, "ironic-inspector" if inspector else "Ironic", exc.status_code)
        data = None
    return Hardware.from_ironic(node.properties or {}, data)


def _settled_state(state: str | None) -> bool:
    """A state the node rests in until asked (a failed one keeps its target_provision_state: not a sign)."""
    return state in ("enroll", "manageable", "available", "active", "error") or str(state).endswith("failed")


def _error_unwritten(node: Any) -> bool:
    """A failed state seen before its last_error (Ironic saves them apart, and a state PUT is answered
    before the conductor acts): look again next round rather than report a failure with no reason."""
    return str(node.provision_state).endswith("failed") and not node.last_error


@dataclass
class _Flight:
    """One node in the window: what was last asked of it, and since when it has been trying."""

    uuid: str
    started: float
    asked: str | None = None
    inspected: bool = False
    attempts: int = 0
    note: str | None = None  # why an earlier attempt ended, when it was ours that ended it
    slot: bool = False  # holds one of the window's inspection slots: from its first inspect until inspected

    @property
    def preparing(self) -> bool:
        """Not inspected yet, nor inspecting: enrolled, being managed, or waiting for a slot."""
        return not (self.slot or self.inspected)


@dataclass
class _Step:
    """What one look at a node decided: a provision target to send, and/or how the node ended."""

    target: str | None = None
    result: NodeResult | None = None
    node: Any = None
    flight: _Flight | None = None


def _result(flight: _Flight, node: Any, outcome: Outcome, error: str | None = None) -> NodeResult:
    return NodeResult(uuid=flight.uuid, name=getattr(node, "name", None),
                      profile=profile_of(getattr(node, "properties", None)), outcome=outcome,
                      state=getattr(node, "provision_state", None),
                      last_error=error or getattr(node, "last_error", None), attempts=flight.attempts)


class Arrivals:
    """Node UUIDs handed from the enrollment to a Window as each node stands in Ironic, so that the first
    nodes are introspected while the rest are still being created (200 nodes take Ironic about 12 s to
    create). ``close`` ends the feed; with the enrollment's error, the Window raises it."""

    def __init__(self) -> None:
        self._ready: SimpleQueue[str] = SimpleQueue()
        self._closed = threading.Event()
        self.error: BaseException | None = None

    def put(self, uuid: str) -> None:
        self._ready.put(uuid)

    def close(self, error: BaseException | None = None) -> None:
        self.error = error
        self._closed.set()
        self._ready.put("")  # wakes a Window waiting for the next node

    def take(self, wait: float = 0.0) -> list[str]:
        """The UUIDs that arrived since the last take; waits up to ``wait`` s for the first one."""
        taken = []
        try:
            taken.append(self._ready.get(timeout=wait) if wait else self._ready.get_nowait())
            while True:
                taken.append(self._ready.get_nowait())
        except Empty:
            pass
        if self.error is not None:
            raise self.error
        return [uuid for uuid in taken if uuid]

    @property
    def closed(self) -> bool:
        return self._closed.is_set()


@dataclass
class Window:
    """manage → inspect → provide for many nodes, at most ``concurrency`` of them inspected at a time.

    ``concurrency`` means what it means to TripleO (``overcloud node introspect --concurrency``: "Maximum
    number of nodes to introspect at once"): the nodes whose ramdisks boot together. Managing and providing
    are quick API calls and do not hold a slot: up to ``concurrency`` more nodes are managed ahead, so that
    a slot a node leaves is taken by a node already ``manageable``, and a node inspected is provided
    outside the slots. (Holding a slot from ``manage`` to ``available``, the 200-node benchmark kept 16 of
    its 20 slots busy on average, each node waiting two poll rounds for its manage and its provide.)

    Each round: one node list, a decision per node in flight, then that round's PUTs (and the
    inventory reads of nodes that finished) sent at once, one thread per node in flight (up to
    ``senders``), since an Ironic API under load answers each one slowly rather than all of them
    slowly. A slot that a node leaves in a round is taken in that same round by the next node,
    decided from the same list: a slot does not stand empty until the next round (at 20 in flight
    it did for 2 s of every node's 16 s).

    After a round in which something moved, the next comes ``poll_per_node`` seconds per node in flight
    later (at least ``poll_first``, at most ``poll_max``); quiet rounds back off to ``poll_max``. A list
    costs Ironic about as much with 1 node in flight as with 20, and 20 nodes move nearly every round:
    polled every ``poll_first`` they keep it answering lists. So 20 in flight are looked at every 1.6 s and
    a lab's 4 nodes every 0.32 s (docs/node-introspection.md has the figures)."""

    conn: Connection
    concurrency: int = 10
    node_timeout: float = 1800
    retries: int = 1
    refresh: bool = False
    poll_first: float = 0.2
    poll_per_node: float = 0.08
    poll_max: float = 5.0
    senders: int = 20  # each round's PUTs and reads at once: at 20 in flight, 8 threads made a round last 1 s
    _inspector: bool = field(default=False, init=False, repr=False)  # read the hardware from ironic-inspector
    _flying: dict[str, _Flight] = field(default_factory=dict, init=False, repr=False)  # the run's nodes in flight

    def run(self, uuids: Iterable[str] | Arrivals, progress: Progress | None = None,
            total: int | None = None) -> dict[str, NodeResult]:
        """Drive every node to ``available`` (an ``active`` node counts and is left alone); the result
        is keyed by UUID, each node succeeded, failed (Ironic's last_error) or timed out. ``uuids`` may be
        an enrollment's Arrivals (``total`` then says how many nodes progress counts)."""
        steady(self.conn)
        self._inspector = inspector_endpoint(self.conn) is not None
        arrivals = uuids if isinstance(uuids, Arrivals) else None
        queue: deque[str] = deque(() if arrivals else dict.fromkeys(uuids))
        flying = self._flying = {}
        results: dict[str, NodeResult] = {}
        seen, total = set(queue), total or len(queue)

        def ended(uuid: str, result: NodeResult) -> None:
            results[uuid] = result
            if progress:
                progress(len(results), total, f"{result.name or uuid}: {result.said}")

        wait: Iterator[int] | None = None
        with ThreadPoolExecutor(max_workers=max(1, min(self.senders, self.concurrency))) as pool:
            while True:
                closed = arrivals is None or arrivals.closed  # read first: what came before closing is taken now
                if arrivals is not None:  # taken before the list, so that the list shows them
                    fresh = [u for u in arrivals.take(wait=0.0 if queue or flying else 1.0) if u not in seen]
                    seen.update(fresh)
                    queue.extend(fresh)
                if not (queue or flying):
                    if closed:
                        return results
                    continue
                if wait is not None:
                    next(wait)  # sleeps: a little longer each quiet round
                listed = {node.id: node for node in self.conn.baremetal.nodes(fields=POLL_FIELDS)}
                moved = self._round(pool, listed, queue, flying, ended)
                if moved or wait is None:  # something moved: poll soon again; otherwise back off
                    watched = min(len(flying), self.concurrency)
                    soon = min(self.poll_max, max(self.poll_first, self.poll_per_node * watched))
                    wait = iter(Deadline(self.node_timeout * (self.retries + 1) + 60, f"{len(flying)} node(s)",
                                         target="available", first_delay=soon, max_delay=self.poll_max))
                    next(wait)

    def _round(self, pool: ThreadPoolExecutor, listed: dict[str, Any], queue: deque[str],
               flying: dict[str, _Flight], ended: Callable[[str, NodeResult], None]) -> bool:
        """One round on one list: decide each node in flight, send what was decided. Nodes holding an
        inspection slot are decided first, so that a slot one leaves goes to a node waiting in the same
        round; a place among those preparing that a node leaves is taken at once by the next in the
        queue, decided from the same list (no request more). Whether anything moved."""
        moved, looking = False, sorted(flying, key=lambda uuid: not flying[uuid].slot)
        while True:
            while queue and sum(flight.preparing for flight in flying.values()) < self.concurrency:
                uuid = queue.popleft()
                flying[uuid] = _Flight(uuid, time.monotonic())
                looking.append(uuid)
            if not looking:
                return moved
            steps = {uuid: self._decide(flying[uuid], listed.get(uuid)) for uuid in looking}
            for uuid, result in zip(steps, pool.map(self._carry_out, steps.values())):
                if result is not None:
                    del flying[uuid]
                    ended(uuid, result)
            moved |= any(step.target or step.result for step in steps.values())
            looking = []

    def _carry_out(self, step: _Step) -> NodeResult | None:
        """Send the step's PUT; read the hardware of a node that succeeded. Returns the node's end, if any."""
        if step.target:
            try:
                set_state(self.conn, step.flight.uuid, step.target)
            except exceptions.HttpException as exc:  # Ironic refused: that node fails, the others go on
                refused = f"{step.target} refused: {exc.status_code}: {exc.details or exc}"
                if step.result is None:
                    return _result(step.flight, step.node, Outcome.FAIL, refused)
                log.warning("node %s: %s", step.node.name or step.node.id, refused)
        if step.result is not None and step.result.outcome == Outcome.PASS:
            step.result.hardware = read_hardware(self.conn, step.node, inspector=self._inspector)
        return step.result

    def _decide(self, flight: _Flight, node: Any) -> _Step:
        """Look at one node's latest state: what to ask of it next, or how it ended."""
        if node is None:
            step = _Step(result=_result(flight, node, Outcome.FAIL, "the node is no longer in Ironic"))
        elif node.is_maintenance:
            step = _Step(result=_result(flight, node, Outcome.FAIL, f"in maintenance: {node.maintenance_reason or '?'}"))
        elif time.monotonic() - flight.started > self.node_timeout:
            step = self._timed_out(flight, node)
        elif not _settled_state(node.provision_state) or _error_unwritten(node):  # a transition is under way
            step = _Step()
        else:
            step = self._next_step(flight, node)
            flight.asked = step.target or flight.asked
        step.node, step.flight = node, flight
        return step

    def _next_step(self, flight: _Flight, node: Any) -> _Step:
        state = node.provision_state
        if state == "active":
            return _Step(result=_result(flight, node, Outcome.PASS))
        if state == "available":
            known = all((node.properties or {}).get(key) for key in HARDWARE_KEYS)
            if flight.inspected or (known and not self.refresh and flight.asked is None):
                return _Step(result=_result(flight, node, Outcome.PASS))
            return self._ask(flight, node, "manage", allowed=flight.asked is None)
        if state == "enroll":
            return self._ask(flight, node, "manage", allowed=flight.asked is None)
        if state == "manageable":
            flight.inspected |= flight.asked == "inspect"
            if flight.inspected:
                flight.slot = False  # its ramdisk is done: the next node may boot
                return self._ask(flight, node, "provide", allowed=flight.asked != "provide")
            return self._inspect(flight)
        if state == "inspect failed" and flight.attempts <= self.retries:
            log.warning("node %s: inspection failed (%s); retrying", node.name or node.id, node.last_error)
            return self._inspect(flight)
        error = flight.note if state == "inspect failed" and flight.note else None
        return _Step(result=_result(flight, node, Outcome.FAIL, error or node.last_error or f"left in state {state!r}"))

    def _ask(self, flight: _Flight, node: Any, target: str, *, allowed: bool) -> _Step:
        if not allowed:  # asked already, and the node came back without moving on: Ironic said no
            return _Step(result=_result(flight, node, Outcome.FAIL, node.last_error or f"{flight.asked} did not take"))
        return _Step(target=target)

    def _inspect(self, flight: _Flight) -> _Step:
        flight.started = time.monotonic()  # each attempt has the whole node_timeout; waiting for a slot is not one
        if not flight.slot:
            if sum(other.slot for other in self._flying.values()) >= self.concurrency:
                return _Step()  # every slot is taken: it stays manageable until one is free
            flight.slot = True
        flight.attempts += 1
        return _Step(target="inspect")

    def _timed_out(self, flight: _Flight, node: Any) -> _Step:
        state = node.provision_state
        note = f"not available after {self.node_timeout:g} s (state {state!r}, attempt {flight.attempts})"
        # An 'inspect wait' node is aborted: no ramdisk should boot for nothing. With an attempt left,
        # it comes back as 'inspect failed' and _next_step inspects it again.
        abort = "abort" if state == "inspect wait" else None
        if abort and flight.attempts <= self.retries:
            flight.note, flight.started = note, time.monotonic()
            return _Step(target=abort)
        error = note if not node.last_error else f"{note}; {node.last_error}"
        return _Step(target=abort, result=_result(flight, node, Outcome.TIMEOUT, error))
