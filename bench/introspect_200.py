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
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rdoflow.blocks.openstack import OpenStackCloud
from rdoflow.config.site import load_site
from rdoflow.lab import config as labconfig
from rdoflow.lab.control import down, up
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
            result = introspect(cloud, inventory, settings, site="bench")
            n = len(inventory.nodes)
            print(f"lab: {n} nodes, release {args.release}, ramdisk boot {args.ramdisk_boot:g} s per inspection")
            print(f"rdoflow (concurrency {args.concurrency}): {result.seconds:.1f} s, "
                  f"{len(result.succeeded)} available, {result.requests} requests = "
                  f"{result.requests / n:.2f} per node ({result.requests_by_method})", flush=True)
            print(inspector_summary(cloud), flush=True)
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
            down(lab_dir, say=lambda line: None)


if __name__ == "__main__":
    main()
