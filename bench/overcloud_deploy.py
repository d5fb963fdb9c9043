"""Benchmark: what following a deploy costs on top of the command, and how many Heat calls it makes.

Run by hand (not by the tests):  .venv/bin/python bench/overcloud_deploy.py [--computes 8] [--runs 3]
It brings up a lab in a temporary directory, installs its undercloud, makes its nodes available,
then deploys one stack per run with the deploy step's own code (no Prefect server) and prints, per
run: the command's time, the step's time, the difference, the stack GETs and resource lists.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' lab helpers

from rdoflow.blocks import SSHHost
from rdoflow.lab import config as labconfig
from rdoflow.lab.control import down, up
from rdoflow.tasks.overcloud import stack as orchestration
from rdoflow.tasks.overcloud.commands import deploy_step
from rdoflow.tasks.overcloud.steps import run_stack_step, upload_roles_environment
from rdoflow.tasks.ssh.connect import POOL
from tests.lab_undercloud import ready_undercloud, with_stack

CALLS = {"stack GET": 0, "resource list": 0}


def _counted(name: str, function):
    def counting(*args, **kwargs):
        CALLS[name] += 1
        return function(*args, **kwargs)
    return counting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--computes", type=int, default=8, help="compute nodes per stack")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    orchestration.observe = _counted("stack GET", orchestration.observe)
    orchestration.count_resources = _counted("resource list", orchestration.count_resources)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "lab"
        root.mkdir()
        knobs = labconfig.LabConfig(nodes=1 + args.computes * args.runs, controllers=1)
        knobs.timing.undercloud_install, knobs.timing.node_configure, knobs.timing.ramdisk_boot = 0.2, 0.05, 0.2
        labconfig.save(root, knobs)
        state = up(root, say=lambda line: None)
        try:
            site = ready_undercloud(state)
            host, heat = SSHHost.from_target(site.undercloud.ssh), orchestration.heat_for(site.cloud)
            for index in range(args.runs):
                overcloud = with_stack(site, f"bench-{index}", 0, args.computes).overcloud
                upload_roles_environment.fn(host, overcloud)
                before = orchestration.wait_settled(heat, overcloud.stack, 60)
                CALLS.update({name: 0 for name in CALLS})
                result = run_stack_step(host, heat, deploy_step(overcloud), before)
                print(f"{overcloud.stack}: {result.stack_status}, {result.resources.total} resources; command "
                      f"{result.command_seconds:.1f} s, step {result.duration:.1f} s, added "
                      f"{result.duration - result.command_seconds:.1f} s; "
                      + ", ".join(f"{count} {name}s" for name, count in CALLS.items()))
        finally:
            POOL.close_all()
            down(root, say=lambda line: None)


if __name__ == "__main__":
    main()
