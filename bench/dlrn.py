"""Benchmark: the lab's DLRN: starting it, publishing drops through it, voting and reading a vote back.

Run by hand (never by the tests):  .venv/bin/python bench/dlrn.py [--starts 3] [--drops 5] [--votes 10]

Each start makes a fresh DLRN (its configuration, rdoinfo, the CI account, the API and the repositories'
server answering); the first drop of each builds the lab's 7 packages, later drops one package each; a vote is
``report_result`` whole (the read before, the vote, the read back). Medians and the extremes are printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from rdoflow.blocks.dlrn import DlrnApiCredentials
from rdoflow.lab.dlrn_service import DLRN, start_dlrn
from rdoflow.lab.drops import publish_drop
from rdoflow.lab.process import stop_tree
from rdoflow.lab.sshd import free_ports
from rdoflow.lab.venv import ensure_venv
from rdoflow.tasks.prerelease.dlrn import read_drop
from rdoflow.tasks.prerelease.vote import VoteTarget, report_result


def timed(call):
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def show(name: str, seconds: list[float]) -> None:
    print(f"{name:<40} median {statistics.median(seconds):6.2f} s   min {min(seconds):6.2f}   "
          f"max {max(seconds):6.2f}   (n={len(seconds)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument("--votes", type=int, default=10)
    args = parser.parse_args()
    venv = ensure_venv(DLRN)
    starts, firsts, drops, votes = [], [], [], []
    for run in range(args.starts):
        pids: dict[str, int] = {}
        try:
            seconds, dlrn = timed(lambda: start_dlrn(Path(tempfile.mkdtemp()) / "dlrn", venv, *free_ports(2),
                                                     started=lambda name, pid: pids.__setitem__(name, pid)))
            starts.append(seconds)
            seconds, _ = timed(lambda: publish_drop(dlrn))
            firsts.append(seconds)
            if run:
                continue
            for n in range(args.drops):
                seconds, published = timed(lambda: publish_drop(dlrn, {"openstack-ironic": f"21.4.{n + 1}"}))
                drops.append(seconds)
            api = DlrnApiCredentials(url=dlrn.api_url, username=dlrn.username, password=SecretStr(dlrn.password))
            target = VoteTarget.for_drop(read_drop(published.base_url, published.link))
            for n in range(args.votes):
                seconds, _ = timed(lambda: report_result(api, target, job_id="bench", success=n % 2 == 0,
                                                         info_url=f"https://ci.example.org/bench/{n}"))
                votes.append(seconds)
        finally:
            for pid in pids.values():
                stop_tree(pid)
    show("DLRN start (API and repositories)", starts)
    show("first drop (7 packages)", firsts)
    show("a later drop (1 package)", drops)
    show("a vote, read before and back", votes)


if __name__ == "__main__":
    main()
