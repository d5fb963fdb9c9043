"""Benchmark: what a remote command costs over the pooled connection, and what a new connection costs.

Run by hand (not by the tests):  .venv/bin/python bench/ssh_commands.py [--commands 200] [--connections 20]
It starts the lab's loopback sshd in a temporary directory and prints one line per measurement.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rdoflow.blocks import SSHHost
from rdoflow.lab.sshd import start_sshd
from rdoflow.tasks.ssh.connect import POOL, connect
from rdoflow.tasks.ssh.remote import run


def _timed(count: int, action) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def _line(label: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return (f"{label}: n={len(ms)} median {statistics.median(ms):.1f} ms, "
            f"p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, max {ms[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        server = start_sshd(Path(root))
        try:
            host = SSHHost(**server.endpoint().model_dump())
            run(host, ["true"], log_output=False)  # connect once, outside the measurement
            print(_line("run(['true']) on the pooled connection", _timed(
                args.commands, lambda: run(host, ["true"], log_output=False))))
            big = ["sh", "-c", "seq 1 100000"]
            print(_line("run() of a command printing 100,000 lines", _timed(
                5, lambda: run(host, big, log_output=False))))
            print(_line("connect(): TCP, handshake, host key check, key auth", _timed(
                args.connections, lambda: connect(host).close())))
        finally:
            POOL.close_all()
            server.stop()


if __name__ == "__main__":
    main()
