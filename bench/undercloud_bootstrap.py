"""Benchmark: the undercloud-bootstrap flow on a fresh lab: a first install, a run that only verifies, a refresh.

Run by hand (not by the tests):  .venv/bin/python bench/undercloud_bootstrap.py [--install-seconds 2.0] [--runs 3]
It brings up a lab in a temporary directory (its `openstack undercloud install` takes --install-seconds)
and a Prefect test server, and prints, for each kind of run, the flow's wall time (median of --runs;
the first install is measured once, on the fresh host) and the install command's own time.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install-seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from rdoflow.config.site import load_site
    from rdoflow.flows.undercloud_bootstrap import undercloud_bootstrap
    from rdoflow.lab import config as labconfig
    from rdoflow.lab.control import down, up
    from rdoflow.tasks.ssh.connect import POOL

    logging.getLogger("rdoflow").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "lab"
        root.mkdir()
        knobs = labconfig.LabConfig(nodes=2)
        knobs.timing.undercloud_install = args.install_seconds
        labconfig.save(root, knobs)
        up(root, say=lambda line: None)
        try:
            site = load_site(root / "site.yaml")
            with prefect_test_harness(server_startup_timeout=120), \
                    temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                first, report = _timed(lambda: undercloud_bootstrap(site))
                print(f"first install: {first:.2f} s (the install command: {report.install.seconds:.1f} s)")
                for label, refresh in (("verified, not reinstalled", False), ("refresh (reinstall)", True)):
                    times, installs = [], []
                    for _ in range(args.runs):
                        seconds, report = _timed(lambda: undercloud_bootstrap(site, refresh=refresh))
                        times.append(seconds)
                        installs.append(report.install.seconds)
                    print(f"{label}: median {statistics.median(times):.2f} s over {args.runs} runs "
                          f"(the install command: {statistics.median(installs):.1f} s)")
        finally:
            POOL.close_all()
            down(root, say=lambda line: None)


if __name__ == "__main__":
    main()
