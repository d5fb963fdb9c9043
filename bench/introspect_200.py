"""Benchmark: introspecting 200 lab nodes with rdoflow's window vs. a plain sequential openstacksdk loop.

Run by hand (not by the tests), ~20 minutes with the defaults (the sequential loop is most of it):
    .venv/bin/python bench/introspect_200.py [--nodes 200] [--concurrency 20] [--ramdisk-boot 2] [--poll 1]
                                             [--release train|wallaby|zed]

It brings up a lab with ``--nodes`` nodes whose simulated ramdisk takes ``--ramdisk-boot`` seconds to
post its inventory (a real one boots for minutes), then:
1. rdoflow: ``tasks.introspection.introspect`` (enroll, then manage → inspect → provide, ``--concurrency``
   nodes in flight, one node list per poll round with backoff, inventory read for each node);
2. deletes every node;
3. the naive loop: for each node in turn, create it and its port, then manage, inspect, provide with
   openstacksdk's ``set_node_provision_state`` (PUT, then GET), polling that node with a GET every
   ``--poll`` seconds until it reaches the state, as hand-written scripts do.
Both count their HTTP requests with the same response hook. Prints wall times, the ratio and requests per node.
With ``--release wallaby`` or ``zed`` the lab runs ironic-inspector too and its ramdisk bridges every inspection
to it (docs/lab.md); after each side the benchmark says how many introspections inspector finished.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rdoflow.blocks.openstack import OpenStackCloud
from rdoflow.config.site import load_site
from rdoflow.lab import config as labconfig
from rdoflow.lab.control import LabState, down, up
from rdoflow.tasks.baremetal.introspection import introspect
from rdoflow.tasks.baremetal.inventory import Inventory, read_inventory
from rdoflow.tasks.baremetal.ironic import RequestCounter
from rdoflow.waiting import Deadline

STEPS = (("manage", "manageable"), ("inspect", "manageable"), ("provide", "available"))


def sequential(cloud: OpenStackCloud, inventory: Inventory, poll: float) -> tuple[float, RequestCounter, list[str]]:
    """The plain loop: one node at a time, every transition waited for with a GET of that node.
    A node that fails is noted and the loop goes on to the next (so that one lab hiccup does not
    void a 20-minute measurement)."""
    conn = cloud.connect()
    counter = RequestCounter(conn)
    bm = conn.baremetal
    started, failed = time.monotonic(), []
    for index, spec in enumerate(inventory.nodes):
        node = bm.create_node(name=spec.name, driver=spec.driver, driver_info=spec.driver_info(),
                              properties=spec.properties(), provision_state="enroll")
        for mac in spec.macs:
            bm.create_port(node_id=node.id, address=mac)
        for target, expected in STEPS:
            node = bm.set_node_provision_state(node, target)
            wait = Deadline(600, f"node {spec.name}", target=expected, first_delay=poll, factor=1.0, jitter=0.0)
            for _ in wait:
                wait.last_seen = node.provision_state
                if node.provision_state == expected or node.provision_state.endswith("failed"):
                    break
                node = bm.get_node(node.id)
            if node.provision_state != expected:
                failed.append(f"{spec.name}: {node.provision_state}: {node.last_error}")
                break
        if index % 20 == 19:
            print(f"  sequential: {index + 1} nodes in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    counter.stop()
    return time.monotonic() - started, counter, failed


def inspector_summary(cloud: OpenStackCloud) -> str:
    """ironic-inspector's view of the introspections (one list call), or '' on a lab without it."""
    conn = cloud.connect()
    if not conn.config.config.get("baremetal_introspection_endpoint_override"):
        return ""
    nodes = {node.id for node in conn.baremetal.nodes(fields=["uuid"])}  # not those deleted in between
    states = Counter(i.state for i in conn.baremetal_introspection.introspections() if i.id in nodes)
    return f"ironic-inspector's introspections of the {len(nodes)} nodes: {dict(states)}"


def cpu_by_service(lab_dir: Path) -> dict[str, float]:
    """CPU seconds (user + system) spent so far by each of the lab's services, its process tree included
    (Ironic's master and worker, PostgreSQL's backends, matched by their data directory), and by this process.
    A process's own time and that of its children that have exited (a backend for one connection) count."""
    state = LabState.load(lab_dir)
    ticks = os.sysconf("SC_CLK_TCK")
    procs = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        procs[int(entry.name)] = (int(fields[1]), sum(map(int, fields[11:15])) / ticks, cmdline)
    owners = {pid: name for name, pid in state.pids.items()}
    owners[os.getpid()] = "rdoflow (this process)"
    postgres_root = state.postgres.get("root", "\0")
    spent: Counter = Counter()
    for pid, (ppid, seconds, cmdline) in procs.items():
        walk, owner = pid, None
        while walk in procs and owner is None:
            owner = owners.get(walk)
            walk = procs[walk][0]
        if owner is None and postgres_root in cmdline:
            owner = "postgres"
        if owner is None:
            # a postgres backend's command line names no directory: its parent (the postmaster) does
            parent = procs.get(ppid)
            owner = "postgres" if parent and postgres_root in parent[2] else None
        if owner:
            spent[owner] += seconds
    return dict(spent)


def cpu_report(before: dict[str, float], after: dict[str, float], wall: float) -> str:
    used = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after}
    lines = [f"CPU seconds in those {wall:.0f} s (2 cores give {2 * wall:.0f}):"]
    lines += [f"  {name:24} {seconds:7.1f}" for name, seconds in sorted(used.items(), key=lambda kv: -kv[1])
              if seconds >= 0.05]
    lines.append(f"  {'total':24} {sum(used.values()):7.1f}")
    return "\n".join(lines)


def delete_all(cloud: OpenStackCloud) -> None:
    bm = cloud.connect().baremetal
    for node in bm.nodes():
        bm.delete_node(node)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--ramdisk-boot", type=float, default=2.0, help="seconds each inspection's ramdisk takes")
    parser.add_argument("--poll", type=float, default=1.0, help="the sequential loop's GET interval, seconds")
    parser.add_argument("--skip-sequential", action="store_true", help="measure rdoflow's side only")
    parser.add_argument("--release", choices=("train", "wallaby", "zed"), default="train",
                        help="the lab's release: wallaby and zed run ironic-inspector beside Ironic")
    parser.add_argument("--keep-logs", type=Path, help="copy the lab's service logs here before it stops")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        lab_dir = Path(root) / "lab"
        lab_dir.mkdir()
        knobs = labconfig.LabConfig(nodes=args.nodes, controllers=3, release=args.release)
        knobs.timing.ramdisk_boot = args.ramdisk_boot
        knobs.timing.inspect_wait_timeout = 120
        labconfig.save(lab_dir, knobs)
        up(lab_dir, say=lambda line: None)
        try:
            site = load_site(lab_dir / "site.yaml")
            cloud = OpenStackCloud.from_site(site.cloud)
            inventory = read_inventory(site.inventory.file)
            settings = site.inventory.model_copy(update={"concurrency": args.concurrency, "node_timeout": 600})
            cpu_before = cpu_by_service(lab_dir)
            result = introspect(cloud, inventory, settings, site="bench")
            cpu_after = cpu_by_service(lab_dir)
            n = len(inventory.nodes)
            print(f"lab: {n} nodes, release {args.release}, ramdisk boot {args.ramdisk_boot:g} s per inspection")
            print(f"rdoflow (concurrency {args.concurrency}): {result.seconds:.1f} s, "
                  f"{len(result.succeeded)} available, {result.requests} requests = "
                  f"{result.requests / n:.2f} per node ({result.requests_by_method})", flush=True)
            print(inspector_summary(cloud), flush=True)
            print(cpu_report(cpu_before, cpu_after, result.seconds), flush=True)
            if args.skip_sequential:
                return
            delete_all(cloud)
            seconds, counter, failed = sequential(cloud, inventory, args.poll)
            print(f"sequential openstacksdk loop (GET every {args.poll:g} s): {seconds:.1f} s, "
                  f"{counter.total} requests = {counter.total / n:.2f} per node ({dict(counter.by_method)})")
            print(f"  {len(failed)} node(s) failed in the sequential loop: {failed}")
            print(inspector_summary(cloud))
            print(f"ratio: {seconds / result.seconds:.1f}x faster")
        finally:
            if args.keep_logs:
                for log in lab_dir.rglob("*.log"):
                    target = args.keep_logs / log.relative_to(lab_dir)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(log, target)
            down(lab_dir, say=lambda line: None)


if __name__ == "__main__":
    main()
