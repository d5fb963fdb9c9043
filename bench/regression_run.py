"""Benchmark: the regression-run stage on the lab: 1,300 Tempest tests (stestr, Rally) and 500 scripts.

Run by hand (not by the tests):  .venv/bin/python bench/regression_run.py [--tests 1300] [--scripts 500]
                                     [--seconds 0.0] [--concurrency 4]
It brings up a lab in a temporary directory (the suites' sizes set as its knobs),
runs the flow once per suite with a Prefect test server, and prints for each: the
flow's wall time, the time of the suite's command on the host, and the rest
(listing, uploads, the SFTP fetch, parsing, storing, artifacts, Prefect).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1300)
    parser.add_argument("--scripts", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=0.0, help="How long each test or script takes.")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from rdoflow.config.site import load_site
    from rdoflow.flows.regression_run import regression_run
    from rdoflow.lab import config as labconfig
    from rdoflow.lab.control import down, up
    from rdoflow.tasks.ssh.connect import POOL

    with tempfile.TemporaryDirectory() as root:
        lab_dir = Path(root) / "lab"
        lab_dir.mkdir()
        knobs = labconfig.LabConfig(nodes=2, controllers=1)
        knobs.suite = labconfig.Suite(tempest="generated", generated=args.tests, failing=7, skipped=20,
                                      seconds=args.seconds, scripts=args.scripts, failing_scripts=5,
                                      skipped_scripts=10)
        labconfig.save(lab_dir, knobs)
        up(lab_dir, results=Path(root) / "results", say=lambda line: None)
        try:
            site = load_site(lab_dir / "site.yaml")
            suites = {
                f"tempest, {args.tests} generated tests": {"include": [r"^tempest\.api\."]},
                f"rally, {args.tests} generated tests": {"kind": "rally", "include": [r"^tempest\.api\."]},
                f"scripts, {args.scripts} scripts": {"kind": "scripts", "workdir": str(lab_dir / "home/scripts")},
            }
            with prefect_test_harness(server_startup_timeout=120), \
                    temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                for name, regression in suites.items():
                    regression["concurrency"] = args.concurrency
                    suite_site = site.model_copy(
                        update={"regression": site.regression.model_copy(update=regression)})
                    started = time.perf_counter()
                    run = regression_run(site=suite_site, label="pre", report_dir=Path(root) / "reports")
                    wall = time.perf_counter() - started
                    counts = ", ".join(f"{k} {v}" for k, v in run.counts.items() if v)
                    print(f"{name} (concurrency {args.concurrency}): flow {wall:.1f} s, suite command "
                          f"{run.duration:.1f} s, the rest {wall - run.duration:.1f} s; {counts}")
        finally:
            POOL.close_all()
            down(lab_dir, say=lambda line: None)


if __name__ == "__main__":
    main()
