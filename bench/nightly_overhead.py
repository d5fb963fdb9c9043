"""Benchmark: the nightly pipeline's orchestration overhead on the lab.

Run by hand (not by the tests):  .venv/bin/python bench/nightly_overhead.py [--nodes 4] [--runs 3]

Overhead is the nightly flow's wall time minus the time spent waiting on the things it drives:
remote commands over SSH (and SFTP transfers), HTTP requests to Ironic and Heat, and the sleeps
between polls. Those waits overlap (the deploy polls Heat while its command runs), so their
intervals are merged before they are summed. What remains is Prefect's engine and API calls,
artifacts, parsing and comparing results, and rdoflow's own Python.

The instrumentation wraps those functions in this script only; the flows run unchanged. A warm-up
flow starts the ephemeral Prefect server first, so its start-up (6-14 s) is not counted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keystoneauth1.session
from prefect import flow

import rdoflow.tasks.ssh.remote
import rdoflow.waiting
from rdoflow.config.site import load_site
from rdoflow.lab import config as labconfig
from rdoflow.lab.control import running_lab

_INTERVALS: list[tuple[float, float]] = []
_LOCK = threading.Lock()


def _timed(function):
    def wrapper(*args, **kwargs):
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            with _LOCK:
                _INTERVALS.append((started, time.monotonic()))

    return wrapper


class _RecordedSleep:
    """The ``time`` module as rdoflow.waiting sees it, with its sleeps recorded as waiting."""

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(_timed(time.sleep))


def instrument() -> None:
    for name in ("run", "put", "get"):
        setattr(rdoflow.tasks.ssh.remote, name, _timed(getattr(rdoflow.tasks.ssh.remote, name)))
    keystoneauth1.session.Session.request = _timed(keystoneauth1.session.Session.request)
    rdoflow.waiting.time = _RecordedSleep


def merged_seconds(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Total length of the union of the intervals, clipped to [start, end]."""
    total, current_start, current_end = 0.0, None, None
    for begin, finish in sorted((max(a, start), min(b, end)) for a, b in intervals if b > start and a < end):
        if current_end is None or begin > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = begin, finish
        else:
            current_end = max(current_end, finish)
    if current_end is not None:
        total += current_end - current_start
    return total


@flow(name="warm-up")
def warm_up() -> None:
    """Starts the ephemeral API server before the measured run."""


def one_run(nodes: int) -> tuple[float, float]:
    from rdoflow.flows.nightly import nightly

    with tempfile.TemporaryDirectory(prefix="rdoflow-bench-") as scratch:
        root = Path(scratch) / "lab"
        root.mkdir()
        labconfig.save(root, labconfig.LabConfig(nodes=nodes, controllers=1))
        with running_lab(root, results=Path(scratch) / "results") as site_file:
            site = load_site(site_file)
            with _LOCK:
                _INTERVALS.clear()
            started = time.monotonic()
            summary = nightly(site=site, report_dir=Path(scratch) / "reports")
            ended = time.monotonic()
            assert summary.verdict == "pass", summary
            with _LOCK:
                waiting = merged_seconds(list(_INTERVALS), started, ended)
    return ended - started, waiting


@contextmanager
def _heartbeats(on: bool) -> Iterator[None]:
    if on:
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=4, help="Lab nodes (the lab's default is 4).")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-heartbeats", action="store_true",
                        help="Turn off Prefect's flow heartbeats (each synchronous subflow waits up to 1 s for its "
                             "heartbeat thread at the end in 3.9.1), to see what they cost.")
    args = parser.parse_args()
    instrument()
    warm_up()
    shares = []
    for index in range(args.runs):
        with _heartbeats(not args.no_heartbeats):
            wall, waiting = one_run(args.nodes)
        shares.append((wall - waiting) / wall)
        print(f"run {index + 1}: wall {wall:.1f} s, waiting on commands and APIs {waiting:.1f} s, "
              f"orchestration {wall - waiting:.1f} s = {100 * (wall - waiting) / wall:.1f}%", flush=True)
    print(f"median orchestration overhead: {100 * statistics.median(shares):.1f}% of the nightly's wall time "
          f"({args.runs} runs, {args.nodes} nodes)")


if __name__ == "__main__":
    main()
