"""Benchmark: how long ``rdoflow review`` of one real RDO package takes, as a user runs it.

Run by hand (never by the tests):
    .venv/bin/python bench/review_cli.py [--repeat 5] [--checkout DIR]... [--with-cache]

Reviews the test fixtures' python-osc-lib 3.1.0 distgit (spec + sdist, ``--no-fetch``, so no
download) with the ``rdoflow`` command in a process of its own, without PREFECT_API_URL and in a
Prefect home of its own (so that no profile of the user's points it at a server). Each run reviews
(``--no-cache``) unless ``--with-cache``, where the measured runs answer from the cache.

``--checkout DIR`` (repeatable) measures the rdoflow code of another checkout too (``PYTHONPATH=DIR``,
with this venv), e.g. the main branch before a change: the checkouts take turns, run by run, so
that each sees the same load. One run per checkout first is not counted (it makes the Prefect home).
Prints each run's wall time, the median per checkout and the load average before and after: the figure
depends on what else the machine runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
FIXTURES = HERE / "tests" / "fixtures"
RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))


def _distgit(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "specs" / "python-osc-lib-3.1.0.spec", root / "python-osc-lib.spec")
    shutil.copyfile(FIXTURES / "sdists" / "osc-lib-3.1.0.tar.gz", root / "osc-lib-3.1.0.tar.gz")
    return root


class Checkout:
    """One rdoflow checkout's command, in a scratch directory of its own."""

    def __init__(self, source: Path, scratch: Path, with_cache: bool) -> None:
        self.source = source
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        self.env |= {"PYTHONPATH": str(source), "PREFECT_HOME": str(scratch / "prefect-home"),
                     "PREFECT_LOGGING_LEVEL": "ERROR"}
        self.distgit, self.reports = _distgit(scratch / "osc-lib"), scratch / "reports"
        has_cache = "--no-cache" in self._run("--help").stdout
        self.extra = [] if not has_cache else ["--cache", str(scratch / "cache")] if with_cache else ["--no-cache"]
        self.times: list[float] = []

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([RDOFLOW, "review", *args], env=self.env, capture_output=True, text=True, timeout=600)

    def review(self) -> float:
        started = time.perf_counter()
        done = self._run(str(self.distgit), "--no-fetch", "--reports", str(self.reports), *self.extra)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{self.source}: rdoflow review exited {done.returncode}:\n{done.stderr}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--checkout", type=Path, action="append", default=[],
                        help="another rdoflow checkout to measure, taking turns with this one")
    parser.add_argument("--with-cache", action="store_true", help="measure answers from the review cache")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="rdoflow-bench-review-"))
    checkouts = [Checkout(source.resolve(), scratch / str(n), args.with_cache)
                 for n, source in enumerate([HERE, *args.checkout])]
    load_before = os.getloadavg()
    for checkout in checkouts:
        checkout.review()  # not counted: makes the Prefect home (and fills the cache)
    for _ in range(args.repeat):
        for checkout in checkouts:
            checkout.times.append(checkout.review())
    load_after = os.getloadavg()
    for checkout in checkouts:
        print(f"{checkout.source}: median of {args.repeat} {statistics.median(checkout.times):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in checkout.times)})")
    print(f"load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {' '.join(f'{x:.2f}' for x in load_after)}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
